"""Indexes for the province report and Today at scale (issue 8).

- episode (provider_id, start_date) and groupactivity (organiser_id, held_on): a facility's
  figures read that facility's rows, not the country's;
- visit (visit_date, client_id) replaces visit (visit_date): a place's visits in a period are
  answered from the index alone.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groupactivity", schema=None) as batch_op:
        batch_op.create_index("ix_group_organiser_date", ["organiser_id", "held_on"],
                              unique=False)
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.create_index("ix_episode_provider_start", ["provider_id", "start_date"],
                              unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_date_client", ["visit_date", "client_id"], unique=False)
        batch_op.drop_index("ix_visit_date")


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_date", ["visit_date"], unique=False)
        batch_op.drop_index("ix_visit_date_client")
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_index("ix_episode_provider_start")
    with op.batch_alter_table("groupactivity", schema=None) as batch_op:
        batch_op.drop_index("ix_group_organiser_date")

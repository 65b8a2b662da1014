"""Issue 16's remaining gaps: the overlap rules between episode types as rows, reduction
bounds on the term rules, post-rehab proposals dismissed with a reason, a term kept as it
is, and the times of the events the law counts in hours.

Existing rows keep their dates; their new time columns stay empty (counted by whole days, as
before). The overlap rows are loaded by `migrate` (`app.services.law.load_rules`); the
reduction bounds of the shipped compulsory-rehab rows for adults (3-6 months, LAW.md L6) are
set here and by `load_rules`.

Revision ID: 0080_law_gaps
Revises: 0070_privacy_rights
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0080_law_gaps"
down_revision: str | None = "0070_privacy_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "overlaprule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("new_type", sa.String(length=27), nullable=False),
        sa.Column("live_type", sa.String(length=27), nullable=False),
        sa.Column("outcome", _STR(length=10), nullable=False),
        sa.Column("message_key", _STR(length=60), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("legal_basis", _STR(length=200), nullable=False),
        sa.Column("source", _STR(length=200), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("overlaprule", schema=None) as batch_op:
        batch_op.create_index("ix_overlaprule_types", ["new_type", "live_type", "effective_from"],
                              unique=False)
    op.create_table(
        "postrehabdismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("previous_episode_id", sa.Integer(), nullable=False),
        sa.Column("reason", _STR(length=200), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["previous_episode_id"], ["episode.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("previous_episode_id"),
    )
    with op.batch_alter_table("durationrule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reduction_min_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reduction_max_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("term_kept_for", _STR(length=10), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("drugtest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tested_at", _TIME(), nullable=True))
    with op.batch_alter_table("residencechange", schema=None) as batch_op:
        for name in ("moved_at", "notice_sent_at", "notice_received_at", "reported_at"):
            batch_op.add_column(sa.Column(name, _TIME(), nullable=True))
    # Reductions of 3-6 months on adults' compulsory rehab (LAW.md L6), on the shipped rows.
    op.execute(
        "UPDATE durationrule SET reduction_min_months = 3, reduction_max_months = 6 "
        "WHERE episode_type = 'compulsory' AND age_band = 'adult'"
    )


def downgrade() -> None:
    with op.batch_alter_table("residencechange", schema=None) as batch_op:
        for name in ("reported_at", "notice_received_at", "notice_sent_at", "moved_at"):
            batch_op.drop_column(name)
    with op.batch_alter_table("drugtest", schema=None) as batch_op:
        batch_op.drop_column("tested_at")
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("term_kept_for")
    with op.batch_alter_table("durationrule", schema=None) as batch_op:
        batch_op.drop_column("reduction_max_months")
        batch_op.drop_column("reduction_min_months")
    op.drop_table("postrehabdismissal")
    with op.batch_alter_table("overlaprule", schema=None) as batch_op:
        batch_op.drop_index("ix_overlaprule_types")
    op.drop_table("overlaprule")

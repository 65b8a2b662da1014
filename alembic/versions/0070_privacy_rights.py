"""Issue 17: restriction and objection carried out from the requests register
(`processinglimit`).

Revision ID: 0070_privacy_rights
Revises: 0060_card_hashes
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0070_privacy_rights"
down_revision: str | None = "0060_card_hashes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "processinglimit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=19), nullable=False),
        sa.Column("purpose", _STR(length=40), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_on", sa.Date(), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["lifted_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["datarequest.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("processinglimit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processinglimit_client_id"), ["client_id"],
                              unique=False)
        batch_op.create_index("ix_processinglimit_purpose", ["purpose", "client_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processinglimit", schema=None) as batch_op:
        batch_op.drop_index("ix_processinglimit_purpose")
        batch_op.drop_index(batch_op.f("ix_processinglimit_client_id"))
    op.drop_table("processinglimit")

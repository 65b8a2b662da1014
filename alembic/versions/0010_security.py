"""Issue 19: roles that need a second administrator's approval (an administrator who would
also read client records).

Revision ID: 0010_security
Revises: 0030_law
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_security"
down_revision: str | None = "0030_law"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rolerequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=18), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", _TIME(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _TIME(), nullable=True),
        sa.Column("status", _STR(length=10), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["facility_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rolerequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rolerequest_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rolerequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rolerequest_user_id"))
    op.drop_table("rolerequest")

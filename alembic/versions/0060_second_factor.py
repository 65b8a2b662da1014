"""Issue 19 item 8: the TOTP second factor — credentials, recovery codes, pending second
steps of a sign-in — and the requirement per role as setting rows (on for supervisors and
administrators in a fresh deployment).

Revision ID: 0060_second_factor
Revises: 0010_security
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0060_second_factor"
down_revision: str | None = "0010_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime
# app/services/second_factor.py: REQUIRED_SETTING.format(role=...), "required" | "optional".
_REQUIREMENT = {"volunteer": "optional", "supervisor": "required", "clinic": "optional",
                "admin": "required"}


def upgrade() -> None:
    op.create_table(
        "totpcredential",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", _STR(length=64), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("confirmed_at", _TIME(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recoverycode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", _STR(length=64), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("used_at", _TIME(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("recoverycode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recoverycode_user_id"), ["user_id"], unique=False)
    op.create_table(
        "secondfactorchallenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _STR(length=64), nullable=False),
        sa.Column("role", sa.String(length=18), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("expires_at", _TIME(), nullable=False),
        sa.Column("used_at", _TIME(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("client_addr", _STR(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("secondfactorchallenge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secondfactorchallenge_user_id"), ["user_id"], unique=False
        )
    setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(setting, [{"key": f"auth.second_factor.{role}", "value": value}
                             for role, value in _REQUIREMENT.items()])


def downgrade() -> None:
    op.execute("DELETE FROM setting WHERE key LIKE 'auth.second_factor.%'")
    with op.batch_alter_table("secondfactorchallenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secondfactorchallenge_user_id"))
    op.drop_table("secondfactorchallenge")
    with op.batch_alter_table("recoverycode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recoverycode_user_id"))
    op.drop_table("recoverycode")
    op.drop_table("totpcredential")

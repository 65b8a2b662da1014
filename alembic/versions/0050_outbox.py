"""The device outbox (issue 14): per-(user, device) keys and the ledger of synced records,
which is also the review list of refused ones; the snapshot expiry setting.

Revision ID: 0050_outbox
Revises: 0020_adoption
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0050_outbox"
down_revision: str | None = "0020_adoption"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "outboxdevice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", _STR(length=36), nullable=False),
        sa.Column("key", _STR(length=64), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("last_seen_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "device_id", name="uq_outboxdevice_user_device"),
    )
    op.create_table(
        "outboxrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _STR(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", _STR(length=36), nullable=False),
        sa.Column("kind", _STR(length=20), nullable=False),
        sa.Column("status", sa.String(length=17), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", _TIME(), nullable=True),
        sa.Column("received_at", _TIME(), nullable=False),
        sa.Column("applied_at", _TIME(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=True),
        sa.Column("reason", _STR(length=80), nullable=False),
        sa.Column("fields", _STR(length=2000), nullable=False),
        sa.Column("params", _STR(length=500), nullable=False),
        sa.Column("confirmable", sa.Boolean(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", _TIME(), nullable=True),
        sa.Column("decision", _STR(length=20), nullable=False),
        sa.Column("decision_reason", _STR(length=500), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outboxrecord", schema=None) as batch_op:
        batch_op.create_index("ix_outboxrecord_user_status", ["user_id", "status"], unique=False)
        batch_op.create_index("ix_outboxrecord_status_commune", ["status", "commune_id"],
                              unique=False)
    # A setting, not a constant: how many days a device keeps its snapshot without a sync.
    op.execute("INSERT INTO setting (key, value) VALUES ('outbox.snapshot_days', '7')")


def downgrade() -> None:
    op.execute("DELETE FROM setting WHERE key = 'outbox.snapshot_days'")
    with op.batch_alter_table("outboxrecord", schema=None) as batch_op:
        batch_op.drop_index("ix_outboxrecord_status_commune")
        batch_op.drop_index("ix_outboxrecord_user_status")
    op.drop_table("outboxrecord")
    op.drop_table("outboxdevice")

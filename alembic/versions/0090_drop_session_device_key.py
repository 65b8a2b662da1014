"""Drop `authsession.device_key`: unused since the device's offline drafts moved to keys
wrapped per user and device (`outboxdevice`, app/services/outbox/device.py); nothing reads
or writes it.

Revision ID: 0090_drop_session_device_key
Revises: 0080_law_gaps
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0090_drop_session_device_key"
down_revision: str | None = "0080_law_gaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authsession", schema=None) as batch_op:
        batch_op.drop_column("device_key")


def downgrade() -> None:
    with op.batch_alter_table("authsession", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_key", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=""))

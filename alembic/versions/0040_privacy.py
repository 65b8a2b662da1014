"""Personal-data protection (issue 17): holidays, privacy terms, data-subject requests,
break-glass openings; who gave a consent and how; a breach's discovery and notification;
clients' anonymisation time.

Revision ID: 0040_privacy
Revises: 0050_outbox
Create Date: 2026-12-07 00:31:51.099677
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0040_privacy'
down_revision: str | None = '0050_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('holiday',
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('on')
    )
    op.create_table('privacyterm',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('breakglass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('reason_kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('writable', sa.Boolean(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('breakglass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breakglass_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_breakglass_user_expires', ['user_id', 'expires_at'], unique=False)

    op.create_table('datarequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=19), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requester_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('requester_relation', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('details', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('ack_due', sa.Date(), nullable=False),
    sa.Column('answer_due', sa.Date(), nullable=False),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('refusal_basis', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('datarequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_datarequest_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_datarequest_status_due', ['status', 'answer_due'], unique=False)

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given_by', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='subject'))
        batch_op.add_column(sa.Column('representative_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('representative_relation', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='screen'))
        batch_op.add_column(sa.Column('form_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('withdrawn_recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_consent_withdrawn_by', 'user', ['withdrawn_recorded_by_id'], ['id'])

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discovered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('notify_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('notified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('notification_ref', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('data_categories', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('subjects_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('consequences', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('measures', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_incident_notify_due_at'), ['notify_due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_notify_due_at'))
        batch_op.drop_column('contact')
        batch_op.drop_column('measures')
        batch_op.drop_column('consequences')
        batch_op.drop_column('subjects_count')
        batch_op.drop_column('data_categories')
        batch_op.drop_column('notification_ref')
        batch_op.drop_column('notified_at')
        batch_op.drop_column('notify_due_at')
        batch_op.drop_column('discovered_at')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint('fk_consent_withdrawn_by', type_='foreignkey')
        batch_op.drop_column('withdrawn_recorded_by_id')
        batch_op.drop_column('form_number')
        batch_op.drop_column('method')
        batch_op.drop_column('representative_relation')
        batch_op.drop_column('representative_name')
        batch_op.drop_column('given_by')

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('datarequest', schema=None) as batch_op:
        batch_op.drop_index('ix_datarequest_status_due')
        batch_op.drop_index(batch_op.f('ix_datarequest_client_id'))

    op.drop_table('datarequest')
    with op.batch_alter_table('breakglass', schema=None) as batch_op:
        batch_op.drop_index('ix_breakglass_user_expires')
        batch_op.drop_index(batch_op.f('ix_breakglass_client_id'))

    op.drop_table('breakglass')
    op.drop_table('privacyterm')
    op.drop_table('holiday')

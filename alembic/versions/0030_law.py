"""The law as it runs since 1 July 2026 (issue 16): decision-driven episodes, rules keyed by
age band, first/repeat rehab and previous episode, clocks, holidays, and the law's records.

Existing episodes are carried over as they are: no date changes (their expected ends are
reviewed by supervisors on screen). The rule and clock rows are loaded by `migrate` through
`app.services.law.load_rules`, which also retires the single-term rows seeded before.

Revision ID: 0030_law
Revises: 0040_privacy
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0030_law'
down_revision: str | None = '0040_privacy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lawclock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lawclock', schema=None) as batch_op:
        batch_op.create_index('ix_lawclock_key_from', ['key', 'effective_from'], unique=False)

    op.create_table('addictiondetermination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('facility_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('determined_on', sa.Date(), nullable=False),
    sa.Column('dependent', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['facility_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('addictiondetermination', schema=None) as batch_op:
        batch_op.create_index('ix_determination_client_on', ['client_id', 'determined_on'], unique=False)

    op.create_table('residencechange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('from_commune_id', sa.Integer(), nullable=False),
    sa.Column('to_commune_id', sa.Integer(), nullable=False),
    sa.Column('moved_on', sa.Date(), nullable=False),
    sa.Column('notice_sent_on', sa.Date(), nullable=True),
    sa.Column('notice_received_on', sa.Date(), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['from_commune_id'], ['place.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['to_commune_id'], ['place.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('residencechange', schema=None) as batch_op:
        batch_op.create_index('ix_residence_client_moved', ['client_id', 'moved_on'], unique=False)

    op.create_table('electronicmonitoring',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('decision_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('decision_signer', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('electronicmonitoring', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_electronicmonitoring_episode_id'), ['episode_id'], unique=False)

    op.create_table('episodereduction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('decision_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('decision_authority', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('decision_signer', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('episodereduction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episodereduction_episode_id'), ['episode_id'], unique=False)

    op.create_table('monitoringfault',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitoring_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['monitoring_id'], ['electronicmonitoring.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monitoringfault', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoringfault_monitoring_id'), ['monitoring_id'], unique=False)

    with op.batch_alter_table('durationrule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_band', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=sa.text("'any'")))
        batch_op.add_column(sa.Column('rehab_order', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=sa.text("'any'")))
        batch_op.add_column(sa.Column('previous_type', sa.String(length=27), nullable=True))
        batch_op.add_column(sa.Column('min_months', sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column('max_months', sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('counts_from', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=sa.text("'start'")))

    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_authority', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('age_band', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('decided_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('credited_days', sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column('previous_episode_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('held_at', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('start_notice_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('end_notice_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_episode_rule_id', 'durationrule', ['rule_id'], ['id'])
        batch_op.create_foreign_key('fk_episode_previous_episode_id', 'episode', ['previous_episode_id'],
                                    ['id'])

    # A rule from before had one term: its bounds are that term.
    op.execute("UPDATE durationrule SET min_months = months, max_months = months")


def downgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_constraint('fk_episode_previous_episode_id', type_='foreignkey')
        batch_op.drop_constraint('fk_episode_rule_id', type_='foreignkey')
        batch_op.drop_column('term_checked_at')
        batch_op.drop_column('end_notice_on')
        batch_op.drop_column('start_notice_on')
        batch_op.drop_column('held_at')
        batch_op.drop_column('previous_episode_id')
        batch_op.drop_column('credited_days')
        batch_op.drop_column('decided_months')
        batch_op.drop_column('age_band')
        batch_op.drop_column('rule_id')
        batch_op.drop_column('decision_authority')

    with op.batch_alter_table('durationrule', schema=None) as batch_op:
        batch_op.drop_column('counts_from')
        batch_op.drop_column('source')
        batch_op.drop_column('max_months')
        batch_op.drop_column('min_months')
        batch_op.drop_column('previous_type')
        batch_op.drop_column('rehab_order')
        batch_op.drop_column('age_band')

    with op.batch_alter_table('monitoringfault', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoringfault_monitoring_id'))

    op.drop_table('monitoringfault')
    with op.batch_alter_table('episodereduction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episodereduction_episode_id'))

    op.drop_table('episodereduction')
    with op.batch_alter_table('electronicmonitoring', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_electronicmonitoring_episode_id'))

    op.drop_table('electronicmonitoring')
    with op.batch_alter_table('residencechange', schema=None) as batch_op:
        batch_op.drop_index('ix_residence_client_moved')

    op.drop_table('residencechange')
    with op.batch_alter_table('addictiondetermination', schema=None) as batch_op:
        batch_op.drop_index('ix_determination_client_on')

    op.drop_table('addictiondetermination')
    with op.batch_alter_table('lawclock', schema=None) as batch_op:
        batch_op.drop_index('ix_lawclock_key_from')

    op.drop_table('lawclock')

"""A province can adopt it (issue 15): facility addresses and services, the deployment logo.

Revision ID: 0020_adoption
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020_adoption"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy (migrations do not import the app): facility kind -> services it provides.
_DEFAULT_SERVICES = {
    "treatment_clinic": ("methadone", "treatment", "health"),
    "rehab_facility": ("voluntary_rehab", "compulsory_rehab", "vocational"),
    "health_facility": ("health",),
    "legal_aid": ("legal",),
    "vocational_school": ("vocational",),
}


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=False,
                                      server_default=""))
    op.create_table(
        "organisationservice",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "service"),
    )
    op.create_index("ix_orgservice_service", "organisationservice",
                    ["service", "organisation_id"], unique=False)
    # Facilities created before services were recorded provide the usual ones of their kind
    # (app/services/facility_registry.py, DEFAULT_SERVICES), so referrals to them go on.
    for kind, services in _DEFAULT_SERVICES.items():
        for service in services:
            op.execute(sa.text(
                "INSERT INTO organisationservice (organisation_id, service) "
                "SELECT id, :service FROM organisation WHERE kind = :kind"
            ).bindparams(service=service, kind=kind))
    op.create_table(
        "settingfile",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("settingfile")
    op.drop_index("ix_orgservice_service", table_name="organisationservice")
    op.drop_table("organisationservice")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("address")

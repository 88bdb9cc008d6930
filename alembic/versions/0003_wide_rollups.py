"""rollup_opd_day (one row per OPD-day with every page figure) replaces rollup_visitors;
rollup_hourly keeps check-ins and refusals per OPD, day and hour

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

# The rollups' measures and the SELECT that fills them come from the application's single
# definition of them (data_access/rollup_spec.py), as the models' columns do: a migration
# importing app code, accepted here so that the measures are written once. The schema this
# builds is checked against models.py on each database (tests/test_data_layer.py). Should a
# measure be added to the spec later, its own migration adds the column, and this one must
# then keep to the measures it created (filter the spec's list by name).
from data_access.rollup_spec import HOURLY, OPD_DAY, rollup_select

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHECKIN = sa.table("checkin", *(sa.column(c) for c in ("opd_id", "day", "hour", "visitor_type", "status", "outcome",
                                                         "visitor_key")))


def _measures(rollup) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in rollup.measure_names]


def _fill(rollup) -> None:
    """INSERT INTO the rollup SELECT its rows grouped from the stored check-ins."""
    target = sa.table(rollup.table, *(sa.column(c) for c in rollup.columns))
    op.execute(sa.insert(target).from_select(rollup.columns, rollup_select(rollup, CHECKIN)))


def upgrade() -> None:
    op.drop_table("rollup_visitors")
    op.drop_table("rollup_hourly")
    op.create_table(
        "rollup_opd_day",
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_measures(OPD_DAY),
        sa.ForeignKeyConstraint(["opd_id"], ["opd.id"], name=op.f("fk_rollup_opd_day_opd_id_opd")),
        sa.PrimaryKeyConstraint("opd_id", "day", name=op.f("pk_rollup_opd_day")),
    )
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", ["day", "opd_id"])
    op.create_table(
        "rollup_hourly",
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        *_measures(HOURLY),
        sa.ForeignKeyConstraint(["opd_id"], ["opd.id"], name=op.f("fk_rollup_hourly_opd_id_opd")),
        sa.PrimaryKeyConstraint("opd_id", "day", "hour", name=op.f("pk_rollup_hourly")),
    )
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "opd_id"])
    _fill(OPD_DAY)
    _fill(HOURLY)


def downgrade() -> None:
    raise NotImplementedError("0003 cannot be undone; restore from a backup")

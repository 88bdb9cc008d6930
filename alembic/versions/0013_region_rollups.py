"""rollup_region_day and rollup_region_hourly: the per-OPD rollups' counts summed over every OPD,
per day (and hour), for the figures of the whole registry (every page's default view), filled
from the rollups already stored

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

# Columns and the SELECT come from data_access/rollup_spec.py, as in migration 0003 (see there).
# Should a measure be added to a region rollup later, its own migration adds the column.
from data_access.rollup_spec import REGION_DAY, REGION_HOURLY, region_select

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY_TYPES = {"day": sa.Date(), "hour": sa.SmallInteger()}


def _create(rollup) -> None:
    op.create_table(
        rollup.table,
        *(sa.Column(k, KEY_TYPES[k], nullable=False) for k in rollup.keys),
        *(sa.Column(m, sa.Integer(), nullable=False) for m in rollup.measures),
        sa.PrimaryKeyConstraint(*rollup.keys, name=op.f(f"pk_{rollup.table}")),
    )
    source = sa.table(rollup.source.table, *(sa.column(c) for c in rollup.source.columns))
    target = sa.table(rollup.table, *(sa.column(c) for c in rollup.columns))
    op.execute(sa.insert(target).from_select(rollup.columns, region_select(rollup, source)))


def upgrade() -> None:
    _create(REGION_DAY)
    _create(REGION_HOURLY)


def downgrade() -> None:
    op.drop_table(REGION_HOURLY.table)
    op.drop_table(REGION_DAY.table)

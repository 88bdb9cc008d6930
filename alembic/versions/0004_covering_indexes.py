"""covering indexes on the rollups: page queries read the index alone, in day order

Revision ID: 0004
Revises: 0003
"""
from alembic import op

# the measures from the application's definition (data_access/rollup_spec.py): see 0003
from data_access.rollup_spec import HOURLY, OPD_DAY

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPD_DAY_COLS = ["day", "opd_id", *OPD_DAY.measure_names]


def upgrade() -> None:
    op.drop_index("ix_rollup_opd_day_day", table_name="rollup_opd_day")
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", OPD_DAY_COLS)
    op.drop_index("ix_rollup_hourly_day", table_name="rollup_hourly")
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "hour", "opd_id", *HOURLY.measure_names])


def downgrade() -> None:
    op.drop_index("ix_rollup_hourly_day", table_name="rollup_hourly")
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "opd_id"])
    op.drop_index("ix_rollup_opd_day_day", table_name="rollup_opd_day")
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", ["day", "opd_id"])

"""covering indexes on the rollups: page queries read the index alone, in day order

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPD_DAY_COLS = ["day", "opd_id", "checkins", "refused", "asn_checkins", "asn_refused", "merah", "hitam", "kuning",
                "asn_merah", "asn_hitam", "asn_kuning", "asn_visitors", "visitors"]


def upgrade() -> None:
    op.drop_index("ix_rollup_opd_day_day", table_name="rollup_opd_day")
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", OPD_DAY_COLS)
    op.drop_index("ix_rollup_hourly_day", table_name="rollup_hourly")
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "hour", "opd_id", "checkins", "refused"])


def downgrade() -> None:
    op.drop_index("ix_rollup_hourly_day", table_name="rollup_hourly")
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "opd_id"])
    op.drop_index("ix_rollup_opd_day_day", table_name="rollup_opd_day")
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", ["day", "opd_id"])

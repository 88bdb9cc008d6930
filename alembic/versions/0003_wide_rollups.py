"""rollup_opd_day (one row per OPD-day with every page figure) replaces rollup_visitors;
rollup_hourly keeps check-ins and refusals per OPD, day and hour

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPD_DAY_SELECT = """
SELECT opd_id, day, COUNT(*),
       SUM(CASE WHEN outcome = 'ditolak' THEN 1 ELSE 0 END),
       SUM(CASE WHEN visitor_type = 'asn' THEN 1 ELSE 0 END),
       SUM(CASE WHEN visitor_type = 'asn' AND outcome = 'ditolak' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'ditolak' AND status = 'merah' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'ditolak' AND status = 'hitam' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'ditolak' AND status = 'kuning' THEN 1 ELSE 0 END),
       SUM(CASE WHEN visitor_type = 'asn' AND outcome = 'ditolak' AND status = 'merah' THEN 1 ELSE 0 END),
       SUM(CASE WHEN visitor_type = 'asn' AND outcome = 'ditolak' AND status = 'hitam' THEN 1 ELSE 0 END),
       SUM(CASE WHEN visitor_type = 'asn' AND outcome = 'ditolak' AND status = 'kuning' THEN 1 ELSE 0 END),
       COUNT(DISTINCT CASE WHEN visitor_type = 'asn' THEN visitor_key END),
       COUNT(DISTINCT CASE WHEN visitor_type = 'pengunjung' THEN visitor_key END)
FROM checkin GROUP BY opd_id, day
"""


def upgrade() -> None:
    op.drop_table("rollup_visitors")
    op.drop_table("rollup_hourly")
    op.create_table(
        "rollup_opd_day",
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in (
            "checkins", "refused", "asn_checkins", "asn_refused", "merah", "hitam", "kuning", "asn_merah",
            "asn_hitam", "asn_kuning", "asn_visitors", "visitors")],
        sa.ForeignKeyConstraint(["opd_id"], ["opd.id"], name=op.f("fk_rollup_opd_day_opd_id_opd")),
        sa.PrimaryKeyConstraint("opd_id", "day", name=op.f("pk_rollup_opd_day")),
    )
    op.create_index("ix_rollup_opd_day_day", "rollup_opd_day", ["day", "opd_id"])
    op.create_table(
        "rollup_hourly",
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("checkins", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["opd_id"], ["opd.id"], name=op.f("fk_rollup_hourly_opd_id_opd")),
        sa.PrimaryKeyConstraint("opd_id", "day", "hour", name=op.f("pk_rollup_hourly")),
    )
    op.create_index("ix_rollup_hourly_day", "rollup_hourly", ["day", "opd_id"])
    op.execute(
        "INSERT INTO rollup_opd_day (opd_id, day, checkins, refused, asn_checkins, asn_refused, merah, hitam, "
        "kuning, asn_merah, asn_hitam, asn_kuning, asn_visitors, visitors) " + OPD_DAY_SELECT
    )
    op.execute(
        "INSERT INTO rollup_hourly (opd_id, day, hour, checkins, refused) SELECT opd_id, day, hour, COUNT(*), "
        "SUM(CASE WHEN outcome = 'ditolak' THEN 1 ELSE 0 END) FROM checkin GROUP BY opd_id, day, hour"
    )


def downgrade() -> None:
    raise NotImplementedError("0003 cannot be undone; restore from a backup")

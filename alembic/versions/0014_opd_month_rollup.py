"""rollup_opd_month: rollup_opd_day's counts per OPD and month, for per-OPD sums over long
periods, a bitmask of the month's days with check-ins and the capped ASN sum of its weekdays,
filled from the day rollup already stored

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

# Columns and the SELECT come from data_access/rollup_spec.py, as in migrations 0003 and 0013.
# Should a measure be added to the month rollup later, its own migration adds the column.
from data_access.rollup_spec import OPD_MONTH, month_select

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        OPD_MONTH.table,
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("days_mask", sa.BigInteger(), nullable=False),
        sa.Column("cap_headcount", sa.Integer(), nullable=False),
        sa.Column("asn_capped_wd", sa.Integer(), nullable=False),
        *(sa.Column(m, sa.Integer(), nullable=False) for m in OPD_MONTH.measures),
        sa.ForeignKeyConstraint(["opd_id"], ["opd.id"], name=op.f(f"fk_{OPD_MONTH.table}_opd_id_opd")),
        sa.PrimaryKeyConstraint(*OPD_MONTH.keys, name=op.f(f"pk_{OPD_MONTH.table}")),
    )
    source = sa.table(OPD_MONTH.source.table, *(sa.column(c) for c in OPD_MONTH.source.columns))
    target = sa.table(OPD_MONTH.table, *(sa.column(c) for c in OPD_MONTH.columns))
    opd = sa.table("opd", sa.column("id"), sa.column("asn_headcount"))
    op.execute(sa.insert(target).from_select(OPD_MONTH.columns, month_select(OPD_MONTH, source, opd)))


def downgrade() -> None:
    op.drop_table(OPD_MONTH.table)

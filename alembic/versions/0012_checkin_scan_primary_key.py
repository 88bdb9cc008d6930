"""PostgreSQL: the scan's own key (opd_id, ts, visitor_key) becomes checkin's primary key, in
place of (id, ts) and the unique constraint uq_checkin_scan that held the same key. One index per
row written instead of two: the (id, ts) index cost an import about a quarter of the database's
time for nothing (no query looks a check-in up by id). `id` stays, filled from its sequence. A
no-op on SQLite (id is the rowid there, at no cost) and MariaDB.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE checkin DROP CONSTRAINT pk_checkin")
    op.execute("ALTER TABLE checkin DROP CONSTRAINT uq_checkin_scan")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT pk_checkin PRIMARY KEY (opd_id, ts, visitor_key)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE checkin DROP CONSTRAINT pk_checkin")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT pk_checkin PRIMARY KEY (id, ts)")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT uq_checkin_scan UNIQUE (opd_id, ts, visitor_key)")

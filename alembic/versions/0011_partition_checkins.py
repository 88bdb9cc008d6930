"""PostgreSQL: checkin partitioned by month (RANGE on ts, months of WIB days; see
data_access/partitions.py). The existing table is copied into the partitioned one, every row
kept; the primary key becomes (id, ts), the unique scan constraint stays (opd_id, ts,
visitor_key). A no-op on SQLite and MariaDB.

Revision ID: 0011
Revises: 0010
"""
from datetime import date

from alembic import op

from data_access import partitions

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD = "checkin_unpartitioned"


def _constraints() -> None:
    """The parent's keys, built once over the loaded partitions (faster than row by row)."""
    op.execute("ALTER TABLE checkin ADD CONSTRAINT pk_checkin PRIMARY KEY (id, ts)")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT uq_checkin_scan UNIQUE (opd_id, ts, visitor_key)")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT fk_checkin_opd_id_opd FOREIGN KEY (opd_id) REFERENCES opd (id)")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT fk_checkin_batch_id_import_batch "
               "FOREIGN KEY (batch_id) REFERENCES import_batch (id)")


def _set_aside() -> str:
    """Rename the current table and its constraints out of the way (index names are per schema);
    returns the id sequence, released from the old table so that dropping it keeps the sequence."""
    bind = op.get_bind()
    seq = bind.exec_driver_sql("SELECT pg_get_serial_sequence('checkin', 'id')").scalar()
    op.execute(f"ALTER TABLE checkin RENAME TO {OLD}")
    for name in ("pk_checkin", "uq_checkin_scan", "fk_checkin_opd_id_opd", "fk_checkin_batch_id_import_batch"):
        op.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {name} TO {name}_old")
    if seq:
        op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    return seq


def _finish(seq: str | None) -> None:
    op.execute(f"INSERT INTO checkin SELECT * FROM {OLD}")
    _constraints()
    if seq:
        op.execute(f"ALTER SEQUENCE {seq} OWNED BY checkin.id")
    op.execute(f"DROP TABLE {OLD}")
    op.execute("ANALYZE checkin")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or partitions.is_partitioned(bind):
        return
    seq = _set_aside()
    op.execute(f"CREATE TABLE checkin (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (ts)")
    first, last = bind.exec_driver_sql(f"SELECT MIN(day), MAX(day) FROM {OLD}").one()
    today = date.today()
    first = min(first or today, today)
    last = max(last or today, today)
    for _ in range(partitions.AHEAD_MONTHS):
        last = partitions.next_month(last)
    partitions.create_partitions(bind, partitions.months(first, last))
    _finish(seq)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not partitions.is_partitioned(bind):
        return
    seq = _set_aside()
    op.execute(f"CREATE TABLE checkin (LIKE {OLD} INCLUDING DEFAULTS)")
    _finish(seq)
    op.execute("ALTER TABLE checkin DROP CONSTRAINT pk_checkin")
    op.execute("ALTER TABLE checkin ADD CONSTRAINT pk_checkin PRIMARY KEY (id)")

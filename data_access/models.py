"""Typed SQLAlchemy 2 models. The schema itself is created by Alembic (alembic/versions)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from . import rollup_spec

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids that are still INTEGER PRIMARY KEY (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

VISITOR_TYPES = ("asn", "pengunjung")
STATUSES = ("hijau", "kuning", "merah", "hitam")
OUTCOMES = ("diterima", "ditolak")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Meta(Base):
    """Key/value facts about this database (e.g. whether it holds demo data)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class Opd(Base):
    __tablename__ = "opd"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(32))
    kecamatan: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    asn_headcount: Mapped[int] = mapped_column(Integer)
    headcount_is_estimate: Mapped[bool] = mapped_column(Boolean, default=True)
    venue_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    venue_registered_on: Mapped[date | None] = mapped_column(Date)
    qr_printed_on: Mapped[date | None] = mapped_column(Date)
    # the printing date is an estimate (the source only says "printed by" that day)
    qr_printed_estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    # lat/lon are an approximate position, not a surveyed one
    location_approx: Mapped[bool] = mapped_column(Boolean, default=False)
    # who Diskominfo contacts at the OPD (kominfo only sees and edits these)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_whatsapp: Mapped[str | None] = mapped_column(String(20))  # digits, country code first: 6281234567890
    kabupaten: Mapped[str] = mapped_column(String(60), default="Bangkalan", server_default="Bangkalan")


class Holiday(Base):
    """A national holiday or cuti bersama (ASN do not work), with its legal basis (SKB number).
    Loaded from data_access/hari_libur.csv and updated by the operator a year at a time."""

    __tablename__ = "holiday"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # 'libur nasional' or 'cuti bersama'
    legal_basis: Mapped[str] = mapped_column(String(200))


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)


class Checkin(Base):
    """One scan. `ts` is UTC (naive); `day` and `hour` are the same instant in WIB,
    computed once at write time so that every dialect groups by plain columns."""

    __tablename__ = "checkin"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id"))
    ts: Mapped[datetime] = mapped_column(DateTime)
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int] = mapped_column(SmallInteger)
    visitor_type: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(10))
    visitor_key: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))  # 'demo' or 'import'
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (
        # also the index for an OPD's check-ins in a span of time (see refresh_rollups). On
        # PostgreSQL this key is the primary key instead (migration 0012): one index per row there
        UniqueConstraint("opd_id", "ts", "visitor_key", name="uq_checkin_scan"),
    )


def _rollup_columns(rollup: rollup_spec.Rollup) -> dict:
    """A rollup table's columns from its specification (rollup_spec): the grouping keys, typed as
    the check-in columns they group and together the primary key, then one integer per measure."""
    cols = {}
    for k in rollup.keys:
        fk = (ForeignKey("opd.id"),) if k == "opd_id" else ()
        cols[k] = mapped_column(Checkin.__table__.c[k].type, *fk, primary_key=True)
    for m in rollup.measures:
        cols[m.name] = mapped_column(Integer, nullable=False, doc=m.doc or None)
    return cols


# The rollup models take their columns from rollup_spec (written into the class namespace, so
# that declarative maps them as if spelled out): keys and measures are written once, there.
class RollupDaily(Base):
    __doc__ = rollup_spec.DAILY.doc
    __tablename__ = rollup_spec.DAILY.table
    locals().update(_rollup_columns(rollup_spec.DAILY))

    __table_args__ = (Index("ix_rollup_daily_day", "day", "opd_id"),)


class RollupOpdDay(Base):
    __doc__ = rollup_spec.OPD_DAY.doc
    __tablename__ = rollup_spec.OPD_DAY.table
    locals().update(_rollup_columns(rollup_spec.OPD_DAY))

    # covering: page queries read the index alone, in day order
    __table_args__ = (Index("ix_rollup_opd_day_day", "day", "opd_id", *rollup_spec.OPD_DAY.measure_names),)


class RollupHourly(Base):
    __doc__ = rollup_spec.HOURLY.doc
    __tablename__ = rollup_spec.HOURLY.table
    locals().update(_rollup_columns(rollup_spec.HOURLY))

    __table_args__ = (Index("ix_rollup_hourly_day", "day", "hour", "opd_id", *rollup_spec.HOURLY.measure_names),)


def _region_columns(rollup: rollup_spec.RegionRollup) -> dict:
    """A region rollup's columns from its specification: the source rollup's keys but the OPD (the
    primary key), one integer per summed measure."""
    cols = {k: mapped_column(Checkin.__table__.c[k].type, primary_key=True) for k in rollup.keys}
    for m in rollup.measures:
        cols[m] = mapped_column(Integer, nullable=False)
    return cols


class RollupRegionDay(Base):
    __doc__ = rollup_spec.REGION_DAY.doc
    __tablename__ = rollup_spec.REGION_DAY.table
    locals().update(_region_columns(rollup_spec.REGION_DAY))


class RollupRegionHourly(Base):
    __doc__ = rollup_spec.REGION_HOURLY.doc
    __tablename__ = rollup_spec.REGION_HOURLY.table
    locals().update(_region_columns(rollup_spec.REGION_HOURLY))


class RollupOpdMonth(Base):
    __doc__ = rollup_spec.OPD_MONTH.doc
    __tablename__ = rollup_spec.OPD_MONTH.table
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[date] = mapped_column(Date)
    days_mask: Mapped[int] = mapped_column(BigInteger)
    cap_headcount: Mapped[int] = mapped_column(Integer)
    asn_capped_wd: Mapped[int] = mapped_column(Integer)
    locals().update({m: mapped_column(Integer, nullable=False) for m in rollup_spec.OPD_MONTH.measures})


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    display_name: Mapped[str | None] = mapped_column(String(120))  # shown as the officer of a visit


class LoginThrottle(Base):
    """Failed logins per client address in a fixed time window: the per-address throttle
    (counted with one atomic upsert, so parallel attempts cannot overwrite each other)."""

    __tablename__ = "login_throttle"
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class Visit(Base):
    """A Satpol PP monitoring visit (monev)."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    officer: Mapped[str] = mapped_column(String(120))
    qr_posted: Mapped[bool] = mapped_column(Boolean)
    scanning_enforced: Mapped[bool] = mapped_column(Boolean)
    unscanned_entries: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)

# photos of up to 1.600 px: MariaDB's BLOB holds only 64 KB
Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class VisitPhoto(Base):
    """A photo taken at a visit: cleaned (no metadata, at most 1.600 px), its thumbnail, and
    what the QR code in it says (data_access.photos)."""

    __tablename__ = "visit_photo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    image: Mapped[bytes] = mapped_column(Blob)
    thumb: Mapped[bytes] = mapped_column(Blob)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    qr_result: Mapped[str] = mapped_column(String(24))
    qr_text: Mapped[str | None] = mapped_column(String(255))
    qr_other_opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id"))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


class AppSession(Base):
    """A signed-in browser: the SHA-256 of its token's secret part (the token itself is only in
    the browser). Deleting the row ends the session at once."""

    __tablename__ = "app_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class ImportProfile(Base):
    """A saved column mapping ("profil impor") for exports whose headers are not ours: offered
    again when a file with the same headers comes."""

    __tablename__ = "import_profile"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    headers_key: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the normalised headers
    headers: Mapped[str] = mapped_column(Text)  # JSON list of the file's headers
    mapping: Mapped[str] = mapped_column(Text)  # JSON {field: column}
    sheet: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)

"""Engine creation, schema upgrade, and the few places where dialects differ."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from . import config
from .models import Meta

ALEMBIC_INI = config.PROJECT_ROOT / "alembic.ini"


SQLITE_PAGE_SIZE = 32768


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: the configured one). SQLite gets WAL, foreign keys
    and a busy timeout so the app, the CLI and several browser sessions can share it."""
    url = url or config.get_settings().database_url
    shown = config.mask_credentials(url)  # a message never quotes the password
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise config.ConfigError(f"DATABASE_URL tidak valid: {shown!r}") from None
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_sqlite_file(Path(parsed.database))
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise config.ConfigError(f"Jenis basis data tidak dikenal di DATABASE_URL: {shown!r}") from None
    except ModuleNotFoundError as exc:
        raise config.ConfigError(f"Driver basis data belum terpasang: {exc.name}") from exc
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            # for a new file only (an existing one keeps its page size): large pages make bulk
            # imports about a third faster (fewer, larger writes to the write-ahead log)
            cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()
    return engine


def _private_sqlite_file(path: Path) -> None:
    """The database file readable by its owner only (0600; SQLite gives its -wal and -shm files
    the same mode). The data folder is made 0700; a folder the operator named elsewhere is
    created 0700 when missing and otherwise left as it is."""
    folder = path.parent
    if folder.resolve() == config.data_dir().resolve():
        config.private_dir(folder)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    config.private_file(path)


IMPORT_STATISTICS_TARGET = 10  # PostgreSQL's sample after an import: 300 x this many rows per partition


def after_bulk_write(engine: Engine, *, days: tuple[date, date] | None = None) -> None:
    """Housekeeping after a large write (an import of a hundred thousand rows, the benchmark's
    fill), outside its transaction. SQLite: fold the write-ahead log back into the database
    file, so readers stop searching a log of hundreds of megabytes. PostgreSQL: vacuum and
    analyse the rollups (what autovacuum would do a minute later), so pages get index-only
    scans and fresh statistics at once, and analyse the check-ins: with `days` (the span the
    write touched) only the months' partitions, their key columns, from a sample of 3.000 rows
    each (an import of a million rows over six months: 0,07 s instead of 0,7 s for every column
    at the default target, 5 s for the whole partitioned table at 10 million rows). MariaDB:
    refresh the rollups' statistics.
    Best effort: with readers busy, SQLite does what it can and the rest waits for later."""
    rollups = ("rollup_opd_day", "rollup_hourly", "rollup_daily", "rollup_region_day", "rollup_region_hourly",
               "rollup_opd_month")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        elif engine.dialect.name == "postgresql":
            from .partitions import split_default

            with conn.begin():  # months a write left in the default partition get their own
                split_default(conn)
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for t in rollups:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {t}")
            from .partitions import existing, is_partitioned, months, partition_name

            if days is None or not is_partitioned(conn):
                conn.exec_driver_sql("ANALYZE checkin")
                return
            there = existing(conn)
            touched = [n for n in map(partition_name, months(*days)) if n in there]
            if not touched:
                return
            # the months written: the columns the rollup and duplicate queries filter and group on,
            # from a small sample (their plans go by the primary key; a coarse histogram does), in a
            # transaction of its own, so the sample's size ends with it (SET LOCAL)
            with engine.begin() as tx:
                tx.exec_driver_sql(f"SET LOCAL default_statistics_target = {IMPORT_STATISTICS_TARGET}")
                tx.exec_driver_sql("ANALYZE " + ", ".join(f"{t} (opd_id, ts, day)" for t in touched))
        else:
            conn.exec_driver_sql(f"ANALYZE TABLE {', '.join(rollups)}").all()


SCHEMA_HEAD = "0014"  # the newest revision in alembic/versions (a test keeps the two in step)


def schema_is_current(engine: Engine) -> bool:
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD


def init_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision (idempotent); on PostgreSQL the
    check-ins' monthly partitions up to this month are made ready (partitions.ensure_span)."""
    from .partitions import ensure_span

    if schema_is_current(engine):
        ensure_span(engine)
        return  # skip loading Alembic: app start-up stays fast
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(config.PROJECT_ROOT / "alembic"))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    ensure_span(engine)


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def set_meta(conn: Connection, key: str, value: str) -> None:
    existing = get_meta(conn, key)
    if existing is None:
        conn.execute(insert(Meta).values(key=key, value=value))
    elif existing != value:
        conn.execute(Meta.__table__.update().where(Meta.key == key).values(value=value))

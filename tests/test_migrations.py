"""Upgrading a database that already holds data: from the oldest revision with check-ins to the
newest, on each database, nothing lost and the rollups equal a recompute."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from data_access.checkins import refresh_rollups, write_checkins
from data_access.db import ALEMBIC_INI, SCHEMA_HEAD, init_schema, make_engine
from data_access.registry import load_registry
from data_access.synthetic import synthetic_frame
from tests.conftest import IN_CI, TEST_DB, _fresh_server_db

OLD_OPD_COLUMNS = ["id", "code", "name", "short_name", "category", "kecamatan", "lat", "lon", "asn_headcount",
                   "headcount_is_estimate", "venue_code", "qr_printed_on"]


def _fresh_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    try:
        return _fresh_server_db(backend, f"{TEST_DB}_mig")
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"{backend} not reachable: {exc.__class__.__name__}")


def _upgrade(engine, to: str) -> None:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, to)


def _rollups(engine) -> dict[str, pd.DataFrame]:
    out = {}
    with engine.connect() as conn:
        # (rollup_daily was kept by the app itself since 0001; the check-ins here went in raw at 0002)
        for t, k in (("rollup_opd_day", "opd_id, day"), ("rollup_hourly", "opd_id, day, hour"),
                     ("rollup_region_day", "day"), ("rollup_region_hourly", "day, hour"),  # 0013 filled these
                     ("rollup_opd_month", "opd_id, month")):  # and 0014 this one
            out[t] = pd.read_sql(text(f"SELECT * FROM {t} ORDER BY {k}"), conn)
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_upgrade_with_data_from_0002_to_head(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    # the data, made on a current schema
    src = make_engine(f"sqlite:///{tmp_path / 'src.db'}")
    init_schema(src)
    with src.begin() as conn:
        load_registry(conn)
    with src.connect() as conn:
        opds = pd.read_sql(text("SELECT id, asn_headcount FROM opd"), conn)
    frame = synthetic_frame(opds, 4000, start=date(2022, 1, 25), days=15, seed=4)  # over a month's end
    with src.begin() as conn:
        write_checkins(conn, frame, source="demo")
    with src.connect() as conn:
        opd = pd.read_sql(text(f"SELECT {', '.join(OLD_OPD_COLUMNS)} FROM opd"), conn)
        checkins = pd.read_sql(text("SELECT opd_id, ts, day, hour, visitor_type, status, outcome, visitor_key, "
                                    "source FROM checkin"), conn)
    src.dispose()
    opd["headcount_is_estimate"] = opd["headcount_is_estimate"].astype(bool)
    opd["qr_printed_on"] = pd.to_datetime(opd["qr_printed_on"]).dt.date
    checkins["day"] = pd.to_datetime(checkins["day"]).dt.date
    checkins["ts"] = pd.to_datetime(checkins["ts"])

    # an old database holding it
    eng = make_engine(_fresh_url(backend, tmp_path))
    _upgrade(eng, "0002")
    with eng.begin() as conn:
        opd.to_sql("opd", conn, if_exists="append", index=False)
        checkins.to_sql("checkin", conn, if_exists="append", index=False)
    _upgrade(eng, "head")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        assert conn.execute(text("SELECT COUNT(*) FROM checkin")).scalar() == len(checkins)
        assert conn.execute(text("SELECT COUNT(*) FROM opd")).scalar() == len(opd)
        assert conn.execute(text("SELECT COUNT(*) FROM opd WHERE kabupaten = 'Bangkalan'")).scalar() == len(opd)
    before = _rollups(eng)
    assert len(before["rollup_opd_day"]) > 100 and len(before["rollup_region_day"]) == 15
    months = before["rollup_opd_month"]
    assert sorted(set(pd.to_datetime(months["month"]).dt.strftime("%Y-%m-%d"))) == ["2022-01-01", "2022-02-01"]
    assert int(months["checkins"].sum()) == len(checkins)
    with eng.begin() as conn:
        refresh_rollups(conn)
    after = _rollups(eng)
    for t in before:
        pd.testing.assert_frame_equal(before[t], after[t], check_dtype=False)
    eng.dispose()

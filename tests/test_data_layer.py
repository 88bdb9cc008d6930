"""The data layer on SQLite, PostgreSQL and MariaDB: schema, registry, rollups, measures, demo."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from data_access import queries as q
from data_access.calendar import now_utc
from data_access.checkins import pseudonymise, refresh_rollups
from data_access.db import init_schema
from data_access.demo import DemoRefused, fill_demo
from data_access.models import (
    Checkin,
    ImportBatch,
    Opd,
    RollupDaily,
    RollupHourly,
    RollupOpdDay,
    RollupRegionDay,
    RollupRegionHourly,
)
from data_access.registry import load_registry
from tests.helpers import load_small, opd_id, scans

JAN10, JAN11, JAN15 = date(2022, 1, 10), date(2022, 1, 11), date(2022, 1, 15)


def rollup_snapshot(engine) -> dict[str, pd.DataFrame]:
    out = {}
    with engine.connect() as conn:
        for model in (RollupDaily, RollupOpdDay, RollupHourly, RollupRegionDay, RollupRegionHourly):
            t = model.__table__
            df = pd.read_sql(select(t).order_by(*t.primary_key.columns), conn)
            df["day"] = pd.to_datetime(df["day"])
            out[t.name] = df.reset_index(drop=True)
    return out


def test_registry_loaded(engine):
    reg = q.opd_registry(engine=engine)
    assert len(reg) == 52
    assert reg["qr_printed_on"].notna().sum() == 21
    assert (reg["qr_printed_on"].dropna() <= date(2022, 1, 31)).all()
    assert (reg["category"] == "kecamatan").sum() == 18
    printed = set(reg.loc[reg["qr_printed_on"].notna(), "code"])
    assert {"DISKOMINFO", "RSUD", "KEC-MODUNG", "DISDAG", "SETDA"} <= printed
    assert not {"DISDIK", "SATPOLPP", "SETWAN", "BPKAD"} & printed
    assert reg["headcount_is_estimate"].all()


def test_init_is_idempotent(engine):
    init_schema(engine)
    with engine.begin() as conn:
        conn.execute(Opd.__table__.update().where(Opd.code == "DISDIK").values(venue_code="X-REAL-1"))
        res = load_registry(conn)
    assert res == {"added": 0, "updated": 52}
    init_schema(engine)
    reg = q.opd_registry(engine=engine)
    assert len(reg) == 52
    assert reg.set_index("code").loc["DISDIK", "venue_code"] == "X-REAL-1"  # an edit survives init


def test_measures_on_hand_computed_data(engine):
    load_small(engine)
    a, b = opd_id(engine, "DISKOMINFO"), opd_id(engine, "DINKES")
    tot = q.totals(engine=engine, start=JAN10, end=JAN15, opd_ids=[a, b])
    assert tot == {"checkins": 9, "refused": 2, "visitor_checkins": 1, "refusal_rate": pytest.approx(2 / 9)}
    daily = q.daily_counts(engine=engine, start=JAN10, end=JAN15, opd_ids=[a, b])
    assert daily["day"].dt.date.tolist() == [JAN10, JAN11, JAN15]
    assert daily["checkins"].tolist() == [7, 1, 1]
    assert daily["refused"].tolist() == [2, 0, 0]
    cov = q.coverage_by_opd(engine=engine, start=JAN10, end=JAN11, opd_ids=[a, b]).set_index("opd_id")
    assert cov.loc[a, "coverage"] == pytest.approx(0.375)  # (2/4 + 1/4) / 2
    assert cov.loc[b, "coverage"] == pytest.approx(0.5)  # (min(3,2)/2 + 0) / 2: capped at 100%
    assert q.regency_coverage(engine=engine, start=JAN10, end=JAN11, opd_ids=[a, b]) == pytest.approx(5 / 12)
    # Over 10-15 January there are five working days; Saturday's scan does not count.
    cov = q.coverage_by_opd(engine=engine, start=JAN10, end=JAN15, opd_ids=[a]).set_index("opd_id")
    assert cov.loc[a, "coverage"] == pytest.approx(3 / 20)
    act = q.opd_activity(engine=engine, start=JAN10, end=JAN15, opd_ids=[a, b]).set_index("opd_id")
    assert act.loc[a, "last_day"] == JAN15 and act.loc[b, "last_day"] == JAN10
    assert act.loc[a, "checkins"] == 6 and act.loc[a, "visitor_checkins"] == 1


def test_wib_day_and_hour(engine):
    load_small(engine)
    b = opd_id(engine, "DINKES")
    hourly = q.hourly_counts(engine=engine, start=JAN10, end=JAN11, opd_ids=[b])
    assert sorted(hourly["hour"].tolist()) == [7, 23]
    assert (hourly["day"].dt.date == JAN10).all()


def assert_rollups_match_full_recompute(engine) -> None:
    incremental = rollup_snapshot(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
    full = rollup_snapshot(engine)
    for name in full:
        pd.testing.assert_frame_equal(incremental[name], full[name], check_dtype=False)


def test_rollup_kept_in_step_with_writes(engine):
    load_small(engine)
    b = opd_id(engine, "DINKES")
    # a second write on a day already rolled up, plus an exact duplicate of an existing scan
    n = scans(engine, [("DINKES", "2022-01-11 07:00", "asn", "hijau", "diterima", "b1"),
                       ("DINKES", "2022-01-10 07:00", "asn", "hijau", "diterima", "b1")])
    assert n == 1
    cov = q.coverage_by_opd(engine=engine, start=JAN10, end=JAN11, opd_ids=[b]).set_index("opd_id")
    assert cov.loc[b, "coverage"] == pytest.approx(0.75)
    assert_rollups_match_full_recompute(engine)


def test_rollups_of_a_write_half_on_stored_days(engine):
    """A write whose rows fall partly on (OPD, day) pairs already stored (recomputed from the
    check-ins) and partly on new ones (computed from the rows in hand), new pairs lying between
    stored ones too, gives the rollups a full recompute gives."""
    from data_access.checkins import write_checkins
    from data_access.synthetic import synthetic_frame

    with engine.begin() as conn:
        load_registry(conn)
    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    first = synthetic_frame(opds, 3_000, start=date(2022, 2, 1), days=30, seed=7)
    first = first[first["ts"].dt.day % 3 != 0]  # leave gaps inside the stored span
    second = pd.concat([synthetic_frame(opds, 3_000, start=date(2022, 2, 15), days=30, seed=8), first.iloc[:50]])
    with engine.begin() as conn:
        write_checkins(conn, first, source="demo")
    with engine.begin() as conn:
        n = write_checkins(conn, second, source="demo")
    assert n == len(second) - 50 - int(second.duplicated(["opd_id", "ts", "visitor_key"]).sum())
    assert_rollups_match_full_recompute(engine)


def test_failed_write_leaves_nothing(engine):
    load_small(engine)
    before = rollup_snapshot(engine)
    bad = pd.DataFrame([{"opd_id": 999_999, "ts": pd.Timestamp("2022-01-12 08:00", tz="Asia/Jakarta"),
                         "visitor_type": "asn", "status": "hijau", "outcome": "diterima", "visitor_key": "x"}])
    good = pd.DataFrame([{"opd_id": opd_id(engine, "DINKES"), "ts": pd.Timestamp("2022-01-12 08:00", tz="Asia/Jakarta"),
                          "visitor_type": "asn", "status": "hijau", "outcome": "diterima", "visitor_key": "y"}])
    from data_access.checkins import write_checkins

    with pytest.raises(Exception):
        with engine.begin() as conn:
            write_checkins(conn, good, source="demo")
            write_checkins(conn, bad, source="demo")  # unknown OPD: foreign key violation
    after = rollup_snapshot(engine)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Checkin)).scalar_one() == 9


def test_demo_is_deterministic(engine):
    fill_demo(engine, seed=11, days=20, scale=0.2)
    first = rollup_snapshot(engine)
    reg1 = q.opd_registry(engine=engine)
    fill_demo(engine, seed=11, days=20, scale=0.2)
    second = rollup_snapshot(engine)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_dtype=False)
    pd.testing.assert_frame_equal(reg1, q.opd_registry(engine=engine))
    fill_demo(engine, seed=12, days=20, scale=0.2)
    assert not first["rollup_daily"]["checkins"].equals(rollup_snapshot(engine)["rollup_daily"]["checkins"])


def test_demo_is_realistic(engine):
    n = fill_demo(engine, seed=3, days=60, scale=0.3)
    assert n > 1000
    reg = q.opd_registry(engine=engine).set_index("id")
    with engine.connect() as conn:
        first = pd.read_sql(select(RollupOpdDay.opd_id, func.min(RollupOpdDay.day).label("first"))
                            .group_by(RollupOpdDay.opd_id), conn)
        asn_days = pd.read_sql(select(RollupOpdDay.day).where(RollupOpdDay.asn_visitors > 0).distinct(), conn)
        hours = pd.read_sql(select(Checkin.hour, func.count().label("n"))
                            .where(Checkin.visitor_type == "asn").group_by(Checkin.hour), conn)
    # scanning starts on or after the printing date
    for row in first.itertuples():
        assert pd.Timestamp(row.first).date() >= reg.loc[row.opd_id, "qr_printed_on"]
    # ASN scan on working days only, mostly in the morning
    from data_access.calendar import is_workday

    assert all(is_workday(pd.Timestamp(d).date()) for d in asn_days["day"])
    morning = hours.loc[hours["hour"] < 9, "n"].sum() / hours["n"].sum()
    assert morning > 0.8
    # refusals fall over the months
    d = q.daily_counts(engine=engine, start=date(2022, 1, 5), end=date(2022, 3, 5))
    early = d[d["day"] < "2022-01-25"]
    late = d[d["day"] >= "2022-02-20"]
    assert early["refused"].sum() / early["checkins"].sum() > late["refused"].sum() / late["checkins"].sum()


def test_demo_refuses_real_data(engine):
    with engine.begin() as conn:
        conn.execute(insert(ImportBatch).values(file_name="x.csv", checksum="0" * 64, imported_by="kominfo",
                                                imported_at=now_utc(), rows_total=0, rows_loaded=0,
                                                rows_rejected=0, rows_duplicate=0))
    with pytest.raises(DemoRefused):
        fill_demo(engine, seed=1, days=5, scale=0.1)


def test_pseudonymise_is_keyed_and_normalised():
    k1, k2 = b"k" * 32, b"j" * 32
    assert pseudonymise("0812-3456-7890", k1) == pseudonymise("+62 812 3456 7890", k1)
    assert pseudonymise("Siti Aminah", k1) == pseudonymise("  siti   AMINAH ", k1)
    assert pseudonymise("3526011234560001", k1) != pseudonymise("3526011234560001", k2)
    assert "3526011234560001" not in pseudonymise("3526011234560001", k1)
    assert len(pseudonymise("x", k1)) == 32


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=20), st.binary(min_size=1, max_size=100),
       st.sampled_from(["", "nik", "telepon", "nama"]))
def test_pseudonyms_are_hmac_sha256_of_the_normalised_identifier(identifiers, key, kind):
    """The keyed hash is HMAC-SHA256 (RFC 2104, as Python's hmac computes it) of 'kind:normalised
    identifier', 32 hex digits kept, for keys shorter and longer than SHA-256's block; one
    identifier at a time or many, the same."""
    import hmac

    from data_access.checkins import normalise_identifier, pseudonymise_many

    expected = []
    for ident in identifiers:
        text = normalise_identifier(ident)
        expected.append(hmac.digest(key, (f"{kind}:{text}" if kind else text).encode(), "sha256").hex()[:32])
    assert pseudonymise_many(identifiers, key, kind=kind) == expected
    assert [pseudonymise(i, key, kind=kind) for i in identifiers] == expected


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet=st.characters(categories=["Nd"]), min_size=8, max_size=20), cut=st.integers(1, 7))
def test_plain_numbers_take_the_fast_path_to_the_same_form(digits, cut):
    """A bare NIK or phone number skips the character scan; written with a dash it goes through
    the scan: both must give the same form (and so the same visitor key)."""
    from data_access.checkins import normalise_identifier

    assert normalise_identifier(digits) == normalise_identifier(f" {digits[:cut]}-{digits[cut:]} ")


def test_stage_and_overview(engine):
    load_small(engine)
    ov = q.opd_overview(engine=engine, start=JAN10, end=JAN15).set_index("code")
    assert ov.loc["DISKOMINFO", "stage"] == "aktif"
    assert ov.loc["DISDIK", "stage"] == "belum_terdaftar"
    assert ov.loc["BPBD", "stage"] == "qr_dicetak"  # printed 14 Jan, no scans
    assert ov.loc["DINKES", "refusal_rate"] == pytest.approx(1 / 3)


def test_empty_database_range(engine):
    assert q.data_range(engine=engine) is None
    tot = q.totals(engine=engine, start=JAN10, end=JAN15)
    assert tot["checkins"] == 0 and tot["refusal_rate"] is None
    prog = q.onboarding_progress(engine=engine, start=JAN10, end=JAN15)
    assert prog["active"].sum() == 0 and prog["qr_printed"].iloc[-1] == 7  # printed by 15 Jan
    assert q.coverage_weekly(engine=engine, start=JAN10, end=JAN15)["coverage"].max() == 0


def test_schema_head_constant_matches_migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from data_access.db import ALEMBIC_INI, SCHEMA_HEAD

    assert ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head() == SCHEMA_HEAD


def test_migrations_build_the_models_schema(engine):
    """The schema the migrations build (on each database) is the one models.py describes:
    no table, column, index or constraint missing or extra."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from data_access.models import Base
    from data_access.partitions import is_partition

    pg = engine.dialect.name == "postgresql"

    def include_name(name, type_, parent_names) -> bool:
        # PostgreSQL's monthly partitions of checkin (migration 0011) are DDL of that database
        # alone: models.py describes the parent table, whose columns and unique scan key they share.
        return not (type_ == "table" and is_partition(name))

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        # on PostgreSQL the scan key is the primary key itself (migration 0012), not a second constraint
        return not (pg and type_ == "unique_constraint" and name == "uq_checkin_scan")

    opts = {"compare_type": False, "include_name": include_name, "include_object": include_object}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []


def test_housekeeping_after_a_bulk_write(engine):
    """The post-import housekeeping (SQLite checkpoint, PostgreSQL vacuum, MariaDB analyse)
    runs on each database and leaves the figures as they were."""
    from data_access.db import after_bulk_write

    load_small(engine)
    before = rollup_snapshot(engine)
    after_bulk_write(engine)
    after = rollup_snapshot(engine)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


def test_new_sqlite_file_gets_large_pages_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3

    from data_access.db import SQLITE_PAGE_SIZE, make_engine

    def page_size(engine):
        with engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA page_size").scalar()

    new = make_engine(f"sqlite:///{tmp_path / 'baru.db'}")
    init_schema(new)
    assert page_size(new) == SQLITE_PAGE_SIZE
    new.dispose()
    old_file = tmp_path / "lama.db"
    sqlite3.connect(old_file).execute("CREATE TABLE lama (x)").connection.close()
    old = make_engine(f"sqlite:///{old_file}")
    init_schema(old)
    assert page_size(old) == 4096
    old.dispose()


def test_page_queries_fit_an_older_sqlites_variable_limit(sqlite_engine):
    """SQLite before 3.32 allows 999 variables a statement. A filter of OPDs and a year's working
    days go into the SQL as values, not variables: every page's queries run under a limit of 100
    variables with all 52 OPDs in the filter (as variables, the OPD list alone repeats in the
    union parts of one statement)."""
    import sqlite3

    from sqlalchemy import event

    from data_access.synthetic import page_queries

    load_small(sqlite_engine)

    @event.listens_for(sqlite_engine, "connect")
    def _low_limit(dbapi_conn, _record):
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)

    sqlite_engine.dispose()  # every connection from here on has the low limit
    with sqlite_engine.connect() as conn:
        assert conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == 100
        every = [r[0] for r in conn.execute(select(Opd.id))]
    assert len(every) == 52
    start, end = date(2022, 1, 5), date(2023, 1, 4)
    for page, calls in page_queries(start, end).items():
        for name, kw in calls:
            for opd_ids in (None, every):
                getattr(q, name)(engine=sqlite_engine, **{**kw, "opd_ids": opd_ids})
    ov = q.opd_overview(engine=sqlite_engine, start=JAN10, end=JAN15, opd_ids=every).set_index("code")
    assert ov.loc["DINKES", "refusal_rate"] == pytest.approx(1 / 3)

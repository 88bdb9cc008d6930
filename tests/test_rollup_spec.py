"""Each rollup measure is defined once (data_access/rollup_spec.py). The three routes derived
from it give the same rows on SQLite, PostgreSQL and MariaDB: the in-memory frames of a write,
the SQL recompute from the stored check-ins, and the benchmark's naive route in pandas."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from benchmark.runner import read_raw
from data_access import queries as q
from data_access.checkins import (_rollup_frames, frame_to_columns, refresh_month_rollups, refresh_rollups,
                                  write_checkins)
from data_access.models import Base
from data_access.registry import load_registry
from data_access.calendar import active_window_start, holidays, workdays
from data_access.rollup_spec import (COUNT, DISTINCT, OPD_DAY, OPD_MONTH, REGION_ROLLUPS, ROLLUPS, Measure, Rollup,
                                  group_raw)
from data_access.synthetic import synthetic_frame


def _checkins(opds: pd.DataFrame) -> pd.DataFrame:
    """A few thousand check-ins in which every measure's condition occurs and visitors return:
    the generated outcomes follow the colour (merah and hitam refused), so some are turned over
    (kuning and hijau refused, merah accepted), and the visitors are few."""
    frame = synthetic_frame(opds, 6_000, start=date(2022, 3, 1), days=12, seed=11)
    rng = np.random.default_rng(12)
    flip = rng.random(len(frame)) < 0.15
    frame.loc[flip, "outcome"] = np.where(frame.loc[flip, "outcome"] == "ditolak", "diterima", "ditolak")
    frame["visitor_key"] = "k" + pd.Series(rng.integers(0, 80, len(frame)), index=frame.index).astype(str)
    return frame.drop_duplicates(["opd_id", "ts", "visitor_key"])


def _normalised(rollup: Rollup, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in one form whatever the route or database: days as datetimes, texts as str,
    numbers as int64, in key order."""
    df = frame[rollup.columns].copy()
    for c in rollup.columns:
        if c == "day":
            df[c] = pd.to_datetime(df[c])
        elif c in ("visitor_type", "status", "outcome"):
            df[c] = df[c].astype(str)
        else:
            df[c] = df[c].astype("int64")
    return df.sort_values(list(rollup.keys)).reset_index(drop=True)


def _stored(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {r.table: pd.read_sql(Base.metadata.tables[r.table].select(), conn) for r in ROLLUPS}


def test_spec_is_well_formed():
    for rollup in ROLLUPS:
        assert rollup.keys[:2] == ("opd_id", "day")  # a write's rollups are per (OPD, day) pair
        assert len(set(rollup.columns)) == len(rollup.columns)
        table = Base.metadata.tables[rollup.table]
        assert [c.name for c in table.columns] == rollup.columns
        assert [c.name for c in table.primary_key.columns] == list(rollup.keys)
        for m in rollup.measures:
            assert m.kind in (COUNT, DISTINCT)
            assert all(col in ("visitor_type", "status", "outcome") for col, _ in m.where)


def test_three_routes_agree_on_every_measure(engine):
    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    frame = _checkins(opds)
    in_memory = {model.__tablename__: df for model, df in _rollup_frames(*frame_to_columns(frame))}
    with engine.begin() as conn:
        assert write_checkins(conn, frame, source="demo") == len(frame)
    written = _stored(engine)  # every (OPD, day) pair was new: the frames, as stored
    with engine.begin() as conn:
        refresh_rollups(conn)
    recomputed = _stored(engine)
    raw = read_raw(engine)
    assert len(raw) == len(frame)
    for rollup in ROLLUPS:
        t = rollup.table
        base = _normalised(rollup, in_memory[t])
        assert len(base) > 100
        for route, rows in (("stored frames", written[t]), ("SQL recompute", recomputed[t]),
                            ("naive route", group_raw(rollup, raw))):
            pd.testing.assert_frame_equal(_normalised(rollup, rows), base, check_dtype=False, obj=f"{t}, {route}")
        # the data set puts every measure to the test: each occurs, and each distinct count
        # is below its number of check-ins somewhere (visitors come back)
        rows_of = group_raw(Rollup(t, rollup.keys, tuple(Measure(m.name, COUNT, m.where) for m in rollup.measures)),
                            raw)
        rows_of = _normalised(rollup, rows_of)
        for m in rollup.measures:
            assert (base[m.name] > 0).any(), (t, m.name)
            if m.kind == DISTINCT:
                assert (base[m.name] < rows_of[m.name]).any(), (t, m.name)
                assert (base[m.name] <= rows_of[m.name]).all(), (t, m.name)


def _region_stored(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {r.table: pd.read_sql(Base.metadata.tables[r.table].select(), conn) for r in REGION_ROLLUPS}


def _region_expected(engine) -> dict[str, pd.DataFrame]:
    """Each region rollup as the plain sum of its per-OPD rollup's rows over the OPDs."""
    per_opd = _stored(engine)
    return {r.table: per_opd[r.source.table].groupby(list(r.keys), as_index=False)[list(r.measures)].sum()
            for r in REGION_ROLLUPS}


def _normalised_region(rollup, frame: pd.DataFrame) -> pd.DataFrame:
    df = frame[rollup.columns].copy()
    df["day"] = pd.to_datetime(df["day"])
    for c in rollup.columns[1:]:
        df[c] = df[c].astype("int64")
    return df.sort_values(list(rollup.keys)).reset_index(drop=True)


def test_region_rollups_are_the_sums_of_the_per_opd_ones_after_every_kind_of_write(engine):
    """The region rollups equal their per-OPD rollups summed over the OPDs: after a write of
    new (OPD, day) pairs, after a write that overlaps stored days (pairs recomputed), after a
    recompute of some OPDs; and the whole-registry figures read from them equal the same
    figures asked for with every OPD named."""
    for rollup in REGION_ROLLUPS:
        table = Base.metadata.tables[rollup.table]
        assert [c.name for c in table.columns] == rollup.columns
        assert [c.name for c in table.primary_key.columns] == list(rollup.keys)
    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    frame = _checkins(opds)
    half = frame.sample(frac=0.5, random_state=3)

    def check(step: str) -> None:
        got, want = _region_stored(engine), _region_expected(engine)
        for r in REGION_ROLLUPS:
            assert len(want[r.table]) > 10, step
            pd.testing.assert_frame_equal(_normalised_region(r, got[r.table]), _normalised_region(r, want[r.table]),
                                          check_dtype=False, obj=f"{r.table} after {step}")

    with engine.begin() as conn:
        write_checkins(conn, half, source="demo")
    check("a write of new pairs")
    with engine.begin() as conn:
        write_checkins(conn, frame, source="demo")  # the other half lands on days already stored
    check("an overlapping write")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM checkin WHERE opd_id = {int(opds['id'].iloc[0])}")
        refresh_rollups(conn, opd_ids=[int(opds["id"].iloc[0])], day_from=date(2022, 3, 1), day_to=date(2022, 3, 12))
    check("a recompute of one OPD")

    every = opds["id"].tolist()
    kw = {"start": date(2022, 3, 1), "end": date(2022, 3, 31)}
    assert q.totals(engine=engine, **kw) == q.totals(engine=engine, opd_ids=every, **kw)
    for name in ("daily_counts", "refusals_daily", "refusal_heatmap", "hourly_counts"):
        whole = getattr(q, name)(engine=engine, opd_ids=None, **kw)
        named = getattr(q, name)(engine=engine, opd_ids=every, **kw)
        assert len(whole) > 5, name
        pd.testing.assert_frame_equal(whole.reset_index(drop=True), named.reset_index(drop=True),
                                      check_dtype=False, obj=name)


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"], indirect=True)  # SQLite: one writer at a time
def test_two_writes_of_the_same_days_at_once_keep_the_region_rollups_whole(engine):
    """Two transactions writing different OPDs' check-ins for the same days at the same time
    (two operators importing): both succeed and the region rollups hold both (PostgreSQL's
    READ COMMITTED would otherwise let the second refresh miss the first one's rows)."""
    import threading

    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    frame = _checkins(opds)
    ids = sorted(frame["opd_id"].unique())
    halves = [frame[frame["opd_id"].isin(ids[: len(ids) // 2])], frame[frame["opd_id"].isin(ids[len(ids) // 2:])]]
    ready, errors = threading.Barrier(2), []

    def write(part) -> None:
        try:
            with engine.begin() as conn:
                ready.wait(timeout=30)
                write_checkins(conn, part, source="demo")
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    got, want = _region_stored(engine), _region_expected(engine)
    for r in REGION_ROLLUPS:
        pd.testing.assert_frame_equal(_normalised_region(r, got[r.table]), _normalised_region(r, want[r.table]),
                                      check_dtype=False, obj=r.table)
    assert int(got["rollup_region_day"]["checkins"].sum()) == len(frame)


def _month_expected(engine) -> pd.DataFrame:
    """rollup_opd_month as rollup_opd_day grouped per OPD and month in pandas."""
    day = _stored(engine)[OPD_DAY.table]
    day["day"] = pd.to_datetime(day["day"])
    day["month"] = day["day"].dt.to_period("M").dt.to_timestamp()
    day["days_mask"] = np.left_shift(1, day["day"].dt.day.to_numpy(dtype="int64") - 1)
    head = q.opd_registry(engine=engine).set_index("id")["asn_headcount"]
    day["cap_headcount"] = head.reindex(day["opd_id"]).to_numpy()
    day["asn_capped_wd"] = np.where(day["day"].dt.day_of_week < 5, np.minimum(day["asn_visitors"], day["cap_headcount"]), 0)
    g = day.groupby(["opd_id", "month"], as_index=False)
    return (g[["days_mask", "asn_capped_wd", *OPD_MONTH.measures]].sum()
            .merge(g[["day", "cap_headcount"]].max().rename(columns={"day": "last_day"})))


def _month_normalised(frame: pd.DataFrame) -> pd.DataFrame:
    df = frame[OPD_MONTH.columns].copy()
    for c in ("month", "last_day"):
        df[c] = pd.to_datetime(df[c])
    for c in ["opd_id", "days_mask", "cap_headcount", "asn_capped_wd", *OPD_MONTH.measures]:
        df[c] = df[c].astype("int64")
    return df.sort_values(list(OPD_MONTH.keys)).reset_index(drop=True)


def test_month_rollup_and_the_per_opd_sums_read_from_it(engine):
    """rollup_opd_month equals rollup_opd_day summed per OPD and month after a write over
    several months, an overlapping write and a recompute of one OPD; and the per-OPD figures
    that read whole months from it and the days at the ends from rollup_opd_day (activity with
    its last day and active window, refusals per OPD and per visitor type, OPDs active on each
    day from the month's bitmask of days, Cakupan ASN from its weekdays less the holidays, also
    after a headcount changed since the month rollup was made) equal the same figures
    over the day rollup alone, for periods that start and end inside, on the edges of, and
    outside months and the data."""
    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    frame = synthetic_frame(opds, 9_000, start=date(2022, 1, 20), days=80, seed=21)  # 20 Jan - 9 Apr
    first = frame[frame["ts"].dt.tz_convert("Asia/Jakarta").dt.date < date(2022, 3, 1)]
    table = Base.metadata.tables[OPD_MONTH.table]
    assert [c.name for c in table.columns] == OPD_MONTH.columns

    def check(step: str) -> None:
        with engine.connect() as conn:
            got = pd.read_sql(table.select(), conn)
        want = _month_expected(engine)
        assert len(want) > 100, step
        pd.testing.assert_frame_equal(_month_normalised(got), _month_normalised(want), check_dtype=False,
                                      obj=f"{OPD_MONTH.table} after {step}")

    with engine.begin() as conn:
        write_checkins(conn, first, source="demo")
    check("a write of new pairs")
    with engine.begin() as conn:
        write_checkins(conn, frame, source="demo")  # February's days again, and March and April
    check("an overlapping write")
    one = int(opds["id"].iloc[0])
    with engine.begin() as conn:  # February's end and every day after: March and April lose their rows
        conn.exec_driver_sql(f"DELETE FROM checkin WHERE opd_id = {one} AND day >= '2022-02-25'")
        refresh_rollups(conn, opd_ids=[one], day_from=date(2022, 2, 25), day_to=date(2022, 4, 30))
    check("a recompute of one OPD over a month's end")
    with engine.connect() as conn:
        assert conn.execute(table.select().where(table.c.opd_id == one, table.c.month >= date(2022, 3, 1))).all() == []

    assert {date(2022, 2, 1), date(2022, 2, 28), date(2022, 3, 3)} <= set(holidays())  # weekday holidays inside
    day = _stored(engine)[OPD_DAY.table]
    day["day"] = pd.to_datetime(day["day"]).dt.date
    periods = [(date(2022, 1, 20), date(2022, 4, 9)), (date(2022, 2, 1), date(2022, 3, 31)),
               (date(2022, 2, 10), date(2022, 3, 31)), (date(2022, 2, 1), date(2022, 3, 15)),
               (date(2022, 2, 14), date(2022, 2, 20)), (date(2022, 1, 25), date(2022, 2, 28)),
               (date(2022, 3, 1), date(2022, 3, 1)), (date(2021, 12, 1), date(2022, 6, 30)),
               (date(2022, 5, 1), date(2022, 5, 31))]
    some = [int(i) for i in opds["id"].iloc[::3]]
    for start, end in periods:
        for ids in (None, some):
            rows = day if ids is None else day[day["opd_id"].isin(ids)]
            upto = rows[rows["day"] <= end]
            inside = upto[upto["day"] >= start]
            recent = upto[upto["day"] >= active_window_start(end)]
            want = pd.DataFrame({"last_day": upto.groupby("opd_id")["day"].max()})
            sums = inside.groupby("opd_id")[["checkins", "asn_checkins", "refused", "merah", "hitam"]].sum()
            want["checkins"] = sums["checkins"].reindex(want.index).fillna(0).astype("int64")
            want["visitor_checkins"] = (sums["checkins"] - sums["asn_checkins"]).reindex(want.index).fillna(0)
            want["refused"] = sums["refused"].reindex(want.index).fillna(0).astype("int64")
            want["checkins_7d"] = recent.groupby("opd_id")["checkins"].sum().reindex(want.index).fillna(0)
            got = q.opd_activity(engine=engine, start=start, end=end, opd_ids=ids).set_index("opd_id").sort_index()
            pd.testing.assert_frame_equal(got[want.columns], want.sort_index(), check_dtype=False, check_names=False,
                                          obj=f"opd_activity {start}–{end} {ids and 'some'}")
            by_opd = q.refusals_by_opd(engine=engine, start=start, end=end, opd_ids=ids).set_index("opd_id")
            assert sorted(by_opd.index) == sorted(sums.index), (start, end)
            for c in ("checkins", "refused", "merah", "hitam"):
                assert by_opd[c].sort_index().tolist() == sums[c].sort_index().tolist(), (c, start, end)
            progress = q.onboarding_progress(engine=engine, start=start, end=end, opd_ids=ids)
            active = [rows[(rows["day"] >= active_window_start(d)) & (rows["day"] <= d)]["opd_id"].nunique()
                      for d in progress["day"].dt.date]
            assert progress["active"].tolist() == active, (start, end)
            _check_coverage(engine, rows, start, end, ids)
            by_type = q.refusals_by_visitor_type(engine=engine, start=start, end=end, opd_ids=ids)
            asn = by_type.set_index("visitor_type").loc["asn"]
            other = by_type.set_index("visitor_type").loc["pengunjung"]
            for c in ("checkins", "refused", "merah", "hitam", "kuning"):
                assert int(asn[c]) == int(inside[f"asn_{c}"].sum()), (c, start, end)
                assert int(other[c]) == int(inside[c].sum()) - int(inside[f"asn_{c}"].sum()), (c, start, end)

    # a headcount changed after the month rollup was made: those months are read from the days
    changed = int(opds["id"].iloc[1])
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE opd SET asn_headcount = 2 WHERE id = {changed}")
    assert day[day["opd_id"] == changed]["asn_visitors"].max() > 2  # the new cap bites
    for start, end in periods:
        for ids in (None, some, [changed]):
            rows = day if ids is None else day[day["opd_id"].isin(ids)]
            _check_coverage(engine, rows, start, end, ids)
    # its months made at the headcount of 2; a registry load that sets the file's headcount again
    # recomputes them at that one
    with engine.begin() as conn:
        refresh_month_rollups(conn, opd_ids=[changed])
    with engine.connect() as conn:
        assert set(conn.execute(select(table.c.cap_headcount).where(table.c.opd_id == changed)).scalars()) == {2}
    with engine.begin() as conn:
        load_registry(conn)
    check("a registry load that changed a headcount")
    for start, end in periods[:3]:
        _check_coverage(engine, day, start, end, None)


def _check_coverage(engine, rows: pd.DataFrame, start: date, end: date, ids) -> None:
    """coverage_by_opd against min(distinct ASN, headcount) summed over the day rollup's working days."""
    reg = q.opd_registry(engine=engine).set_index("id")
    wd = set(workdays(start, end))
    inside = rows[rows["day"].isin(wd)]
    head = reg["asn_headcount"].reindex(inside["opd_id"]).to_numpy()
    capped = pd.Series(np.minimum(inside["asn_visitors"].to_numpy(), head), index=inside["opd_id"].to_numpy())
    want = capped.groupby(level=0).sum()
    got = q.coverage_by_opd(engine=engine, start=start, end=end, opd_ids=ids).set_index("opd_id")
    assert len(got) == (len(reg) if ids is None else len(ids))
    sums = got["asn_days"].astype("int64")
    assert sums[sums > 0].sort_index().to_dict() == want[want > 0].sort_index().to_dict(), (start, end, ids)
    if wd:
        cov = want.reindex(got.index).fillna(0) / (len(wd) * got["asn_headcount"])
        assert np.allclose(got["coverage"].to_numpy(), cov.to_numpy()), (start, end)

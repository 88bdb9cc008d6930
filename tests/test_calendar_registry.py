"""Holidays as data (the shipped file, the database, the operator's command, the notice for a year
without data) and an honest registry (printing dates marked as estimates, every OPD point inside its
kecamatan's outline, approximate positions marked)."""
from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from data_access import auth, calendar, holidays
from data_access import onboarding as ob
from data_access import queries as q
from data_access.cli import main as cli_main
from data_access.models import AuditLog, Holiday, Opd
from data_access.registry import read_registry

ROOT = Path(__file__).resolve().parent.parent
GEO_DIR = ROOT / "data_access" / "geo"
KOMINFO = auth.Actor("kominfo", "kominfo")


@pytest.fixture(autouse=True)
def shipped_calendar():
    """Every test starts and ends with the shipped holidays in data_access.calendar."""
    calendar._holidays = None
    holidays._installed.update(url=None, version=None, checked=0.0)
    yield
    calendar._holidays = None
    holidays._installed.update(url=None, version=None, checked=0.0)


def _fresh_holidays(engine) -> None:
    """The holiday table as `init` leaves it (server databases keep it between tests)."""
    with engine.begin() as conn:
        conn.execute(Holiday.__table__.delete())
        holidays.ensure_loaded(conn)


def month(year: int, m: int) -> tuple[date, date]:
    nxt = date(year + (m == 12), m % 12 + 1, 1)
    return date(year, m, 1), nxt - timedelta(days=1)


# ---------------------------------------------------------------- the corrected calendar
def test_corrected_2022_and_2023():
    assert calendar.is_workday(date(2022, 12, 26))  # no cuti bersama Natal in 2022 (SKB 375/2022)
    assert not calendar.is_workday(date(2023, 6, 28))  # cuti bersama Iduladha, SKB 624/2023
    assert not calendar.is_workday(date(2023, 6, 29))  # Iduladha
    assert not calendar.is_workday(date(2023, 6, 30))  # cuti bersama Iduladha, SKB 624/2023
    assert not calendar.is_workday(date(2023, 12, 26))  # cuti bersama Natal 2023
    # December 2022: 22 weekdays, Christmas on a Sunday, no cuti bersama
    assert len(calendar.workdays(*month(2022, 12))) == 22
    # June 2023: 22 weekdays less 1 Jun, 2 Jun (cuti Waisak), 28, 29, 30 Jun
    assert len(calendar.workdays(*month(2023, 6))) == 17
    # Lebaran 2022 and 2023: the active window stretches back over the cuti bersama
    assert calendar.active_window_start(date(2022, 5, 9)) == date(2022, 4, 25)
    assert calendar.active_window_start(date(2023, 6, 30)) <= date(2023, 6, 22)


def test_shipped_file_states_its_legal_basis():
    rows = holidays.read_file()
    assert {h.day.year for h in rows} == {2022, 2023}
    assert all(h.kind in holidays.KINDS and "SKB" in h.legal_basis for h in rows)
    basis = {h.day: h.legal_basis for h in rows}
    assert "624/2023" in basis[date(2023, 6, 28)] and "624/2023" in basis[date(2023, 6, 30)]
    assert "375/2022" in basis[date(2022, 5, 4)]
    assert "327/2023" in basis[date(2023, 4, 19)]
    assert date(2022, 12, 26) not in basis
    cuti = sorted(h.day for h in rows if h.kind == "cuti bersama")
    assert [d for d in cuti if d.year == 2022] == [date(2022, 4, 29), date(2022, 5, 4), date(2022, 5, 5),
                                                  date(2022, 5, 6)]
    assert len([d for d in cuti if d.year == 2023]) == 11


def test_years_without_holidays():
    assert calendar.years_without_holidays(date(2022, 1, 5), date(2023, 12, 31)) == []
    assert calendar.years_without_holidays(date(2023, 12, 1), date(2025, 1, 31)) == [2024, 2025]
    assert calendar.is_workday(date(2024, 4, 10))  # Idulfitri 2024, but 2024 has no data: Monday to Friday
    calendar.set_holidays({date(2024, 4, 10): "Hari Raya Idulfitri 1445 H"})
    assert not calendar.is_workday(date(2024, 4, 10))
    assert calendar.years_without_holidays(date(2023, 12, 1), date(2024, 1, 31)) == [2023]


@pytest.mark.parametrize("content, message", [
    ("tanggal,nama,jenis\n2024-01-01,Tahun Baru,libur nasional\n", "dasar_hukum"),
    ("tanggal,nama,jenis,dasar_hukum\n2024-13-01,Tahun Baru,libur nasional,SKB 1\n", "Baris 2"),
    ("tanggal,nama,jenis,dasar_hukum\n2024-01-01,Tahun Baru,libur daerah,SKB 1\n", "jenis"),
    ("tanggal,nama,jenis,dasar_hukum\n2024-01-01,Tahun Baru,libur nasional,\n", "dasar_hukum"),
    ("tanggal,nama,jenis,dasar_hukum\n2024-01-01,A,libur nasional,SKB 1\n2024-01-01,B,cuti bersama,SKB 1\n",
     "dua kali"),
    ("# hanya komentar\n", "kosong"),
])
def test_bad_holiday_files_are_refused(tmp_path, content, message):
    f = tmp_path / "libur.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(holidays.HolidayFileError, match=message):
        holidays.read_file(f)


def test_a_spreadsheet_file_with_semicolons(tmp_path):
    f = tmp_path / "libur.csv"
    f.write_bytes("\ufefftanggal;nama;jenis;dasar_hukum\n2024-02-09;Cuti bersama Imlek;Cuti_Bersama;SKB 855/2023\n"
                  .encode("utf-8"))
    [h] = holidays.read_file(f)
    assert h == holidays.Holiday(date(2024, 2, 9), "Cuti bersama Imlek", "cuti bersama", "SKB 855/2023")


# ---------------------------------------------------------------- the database and the command
def test_database_holidays_drive_the_calendar(engine):
    _fresh_holidays(engine)
    cov = holidays.coverage(engine=engine)
    assert list(cov["year"]) == [2022, 2023]
    assert any("624/2023" in b for b in cov.set_index("year").loc[2023, "legal_basis"])
    # an edit in the database (as another process would make) reaches the calendar once installed
    with engine.begin() as conn:
        conn.execute(Holiday.__table__.insert().values(day=date(2022, 12, 26), name="uji", kind="cuti bersama",
                                                        legal_basis="uji"))
    assert calendar.is_workday(date(2022, 12, 26))
    holidays.install(engine)
    assert not calendar.is_workday(date(2022, 12, 26))
    assert len(calendar.workdays(*month(2022, 12))) == 21
    _fresh_holidays(engine)
    holidays.install(engine)
    assert len(calendar.workdays(*month(2022, 12))) == 22


def test_cli_loads_a_year_replacing_it_audited(engine, tmp_path, capsys):
    _fresh_holidays(engine)
    url = engine.url_for_test
    f = tmp_path / "libur-2023-2024.csv"
    f.write_text(
        "# 2023 without cuti bersama Natal, and 2024 (one entry)\n"
        "tanggal,nama,jenis,dasar_hukum\n"
        + "".join(f"{h.day},{h.name},{h.kind},\"{h.legal_basis}\"\n" for h in holidays.read_file()
                  if h.day.year == 2023 and h.day != date(2023, 12, 26))
        + "2024-04-10,Hari Raya Idulfitri 1445 H,libur nasional,\"SKB 855/2023, 3/2023, 4/2023\"\n",
        encoding="utf-8")
    with engine.connect() as conn:
        audits_before = conn.execute(select(func.count()).select_from(AuditLog)
                                     .where(AuditLog.action == "libur_muat")).scalar()
    assert cli_main(["--database-url", url, "libur", "--muat", str(f), "--user", "operator1"]) == 0
    out = capsys.readouterr().out
    assert "2023: 27 -> 26 entri (dihapus 26/12)" in out and "2024: 0 -> 1 entri" in out
    # the calendar of this process follows at once; 2022 is untouched
    assert calendar.is_workday(date(2023, 12, 26)) and not calendar.is_workday(date(2024, 4, 10))
    assert calendar.holiday_years() == {2022, 2023, 2024}
    assert len(calendar.workdays(*month(2022, 5))) == 15
    log = auth.audit_log(engine=engine, actor=KOMINFO)
    log = log[log["action"] == "libur_muat"]
    assert len(log) == audits_before + 2 and set(log["target"]) >= {"2023", "2024"}
    row = log[log["target"] == "2023"].iloc[0]
    assert row["username"] == "operator1"
    assert json.loads(row["before"])["dihapus"] == ["2023-12-26"]
    assert json.loads(row["after"])["entri"] == 26
    # the listing shows the years covered with their working days and SKB
    assert cli_main(["--database-url", url, "libur"]) == 0
    listing = capsys.readouterr().out
    assert "2024" in listing and "624/2023" in listing and "Senin-Jumat" in listing
    assert cli_main(["--database-url", url, "libur", "--tahun", "2024"]) == 0
    assert "10/04/2024 Rabu" in capsys.readouterr().out
    # loading the same file again changes nothing and audits nothing
    assert cli_main(["--database-url", url, "libur", "--muat", str(f)]) == 0
    assert "2023: tidak berubah" in capsys.readouterr().out
    assert len(auth.audit_log(engine=engine, actor=KOMINFO).query("action == 'libur_muat'")) == len(log)
    # a bad file: one line on stderr, nothing changed
    bad = tmp_path / "salah.csv"
    bad.write_text("tanggal,nama,jenis,dasar_hukum\n2025-01-01,Tahun Baru,libur nasional,\n", encoding="utf-8")
    assert cli_main(["--database-url", url, "libur", "--muat", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "Baris 2" in err and "Tidak ada yang diubah" in err and "Traceback" not in err
    assert calendar.holiday_years() == {2022, 2023, 2024}
    _fresh_holidays(engine)


def test_loading_is_one_transaction(engine, tmp_path, monkeypatch):
    """A failure while the second year is written leaves the first year as it was."""
    _fresh_holidays(engine)
    f = tmp_path / "libur.csv"
    f.write_text("tanggal,nama,jenis,dasar_hukum\n2023-01-02,uji,cuti bersama,SKB uji\n"
                 "2024-01-01,Tahun Baru 2024 Masehi,libur nasional,SKB 855/2023\n", encoding="utf-8")
    real_audit = holidays.audit

    def failing_audit(conn, **kw):
        if kw["target"] == "2024":
            raise RuntimeError("putus")
        real_audit(conn, **kw)

    monkeypatch.setattr(holidays, "audit", failing_audit)
    with pytest.raises(RuntimeError):
        holidays.load_file(engine=engine, actor=KOMINFO, path=f)
    assert [h.day for h in holidays.entries(engine=engine, year=2023)][:2] == [date(2023, 1, 1), date(2023, 1, 22)]
    assert holidays.entries(engine=engine, year=2024) == []
    with pytest.raises(auth.PermissionDenied):
        holidays.load_file(engine=engine, actor=auth.Actor("satpol", "satpolpp"), path=f)


def test_init_loads_the_shipped_file_once(tmp_path):
    from tests.test_cli import cli

    r = cli("init", data_dir=tmp_path)
    assert r.returncode == 0 and "Hari libur: 47 entri" in r.stdout, r.stdout + r.stderr
    r = cli("init", data_dir=tmp_path)
    assert r.returncode == 0 and "Hari libur" not in r.stdout
    r = cli("libur", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = {ln.split()[0]: ln.split() for ln in r.stdout.splitlines() if ln[:4].isdigit()}
    assert set(lines) == {"2022", "2023"}
    assert lines["2022"][1:4] == ["16", "4", "246"] and lines["2023"][1:4] == ["16", "11", "239"]


def test_refresh_notices_a_change_from_another_process(sqlite_engine):
    _fresh_holidays(sqlite_engine)
    holidays.install(sqlite_engine)
    assert not holidays.refresh(sqlite_engine, max_age_s=0)
    f = Path(sqlite_engine.url.database).with_name("libur.csv")
    f.write_text("tanggal,nama,jenis,dasar_hukum\n2024-01-01,Tahun Baru 2024 Masehi,libur nasional,SKB 855/2023\n",
                 encoding="utf-8")
    holidays.load_file(engine=sqlite_engine, actor=KOMINFO, path=f)
    calendar.set_holidays({})  # as in another process that has not seen the load
    assert holidays.refresh(sqlite_engine, max_age_s=0) is False  # same version recorded: the load installed it
    holidays._installed["version"] = "older"
    assert holidays.refresh(sqlite_engine, max_age_s=0) is True
    assert 2024 in calendar.holiday_years()


# ---------------------------------------------------------------- the pages
def _only_2023_holidays(demo_dir: Path) -> None:
    from data_access.db import make_engine

    eng = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    with eng.begin() as conn:
        conn.execute(Holiday.__table__.delete())
        conn.execute(Holiday.__table__.insert(), [
            {"day": h.day, "name": h.name, "kind": h.kind, "legal_basis": h.legal_basis}
            for h in holidays.read_file() if h.day.year == 2023])
    eng.dispose()


def test_notice_for_a_period_without_holiday_data(demo_dir, page):
    at = page("peta", "pimpinan")
    assert not at.exception
    assert not any("hari libur" in i.value for i in at.info)
    _only_2023_holidays(demo_dir)
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    at = page("peta", "pimpinan")
    assert not at.exception
    notes = [i.value for i in at.info if "hari libur" in i.value]
    assert len(notes) == 1 and "2022" in notes[0] and "Senin–Jumat" in notes[0]


def test_onboarding_page_shows_holidays_and_estimates(demo_dir, page):
    at = page("onboarding", "kominfo")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Dasar hukum (SKB)" in d.value.columns)
    assert list(table["Tahun"]) == ["2022", "2023"]
    assert "624/2023" in table.set_index("Tahun").loc["2023", "Dasar hukum (SKB)"]
    from tests.helpers import figure

    fig = figure(at)
    assert "perkiraan" in fig["layout"]["title"]["subtitle"]["text"]
    printed = next(t for t in fig["data"] if t["name"] == "QR dicetak")
    assert "perkiraan" in printed["hovertemplate"]
    at.selectbox(key="onboarding_opd").set_value("DISKOMINFO").run()
    assert any("(perkiraan)" in m.value for m in at.markdown)


def test_qr_page_marks_estimated_printing_dates(demo_dir, page):
    at = page("qr", "kominfo")
    assert not at.exception
    lines = [m.value for m in at.markdown if "BKL019-DISKOMINFO" in m.value]
    assert lines and "dicetak 7 Januari 2022 (perkiraan)" in lines[0]


def test_map_hover_says_approximate(sqlite_engine):
    from data_access import boundaries
    from ui import charts

    with sqlite_engine.begin() as conn:
        conn.execute(Opd.__table__.update().where(Opd.code == "DISKOMINFO").values(location_approx=False))
    ov = q.opd_overview(engine=sqlite_engine, start=date(2022, 1, 5), end=date(2022, 1, 31))
    fig = charts.build_opd_map(ov, boundaries.load())
    markers = [t for t in fig.data if t.type == "scattergeo" and t.mode == "markers"]
    assert markers and all("%{text}" in tr.hovertemplate for tr in markers)
    text = {c[0]: t for tr in markers for c, t in zip(tr.customdata, tr.text)}
    assert text["DISKOMINFO"] == "" and text["DISDIK"] == "<br><i>Lokasi perkiraan</i>"


# ---------------------------------------------------------------- the registry
def test_printing_dates_are_estimates_until_recorded(engine):
    reg = q.opd_registry(engine=engine)
    printed = reg[reg["qr_printed_on"].notna()]
    assert len(printed) == 21 and printed["qr_printed_estimate"].all()
    assert not reg.loc[reg["qr_printed_on"].isna(), "qr_printed_estimate"].any()
    assert reg["location_approx"].all()  # no position in the registry has been surveyed
    # the operator records the real day, earlier than the estimate (and than the registration day the
    # file derived from it): no longer an estimate, and the audit says so
    ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDAG", printed_on=date(2022, 1, 28))
    row = q.opd_registry(engine=engine).set_index("code").loc["DISDAG"]
    assert row["qr_printed_on"] == date(2022, 1, 28) and not row["qr_printed_estimate"]
    assert row["venue_registered_on"] == date(2022, 1, 28)
    log = auth.audit_log(engine=engine, actor=KOMINFO)
    mark = log[(log["action"] == "qr_dicetak") & (log["target"] == "DISDAG")].iloc[0]
    assert json.loads(mark["before"]) == {"qr_printed_on": "2022-01-31", "qr_printed_estimate": True,
                                          "venue_registered_on": "2022-01-31"}
    # a real registration day still bounds the printing day
    with pytest.raises(ob.OnboardingError, match="sebelum kode venue"):
        ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDAG", printed_on=date(2022, 1, 20))
    ob.undo_printed(engine=engine, actor=KOMINFO, code="DISKOMINFO")
    log = auth.audit_log(engine=engine, actor=KOMINFO)
    undo = log[(log["action"] == "qr_dicetak_batal") & (log["target"] == "DISKOMINFO")].iloc[0]
    assert json.loads(undo["before"])["qr_printed_estimate"] is True
    assert not q.opd_registry(engine=engine).set_index("code").loc["DISKOMINFO", "qr_printed_estimate"]
    # init does not turn the recorded date back into the file's estimate
    from data_access.registry import load_registry

    with engine.begin() as conn:
        load_registry(conn)
    row = q.opd_registry(engine=engine).set_index("code").loc["DISDAG"]
    assert row["qr_printed_on"] == date(2022, 1, 28) and not row["qr_printed_estimate"]


def _rings(geometry: dict) -> list[list[list[tuple[float, float]]]]:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [[[(float(x), float(y)) for x, y in ring] for ring in poly] for poly in polys]


def _in_ring(x: float, y: float, ring) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _inside(x: float, y: float, polys) -> bool:
    """Even-odd ray casting: inside an outer ring and outside its holes, for any of the polygons."""
    return any(_in_ring(x, y, p[0]) and not any(_in_ring(x, y, h) for h in p[1:]) for p in polys)


def _edge_distance_m(x: float, y: float, polys) -> float:
    """Metres from the point to the nearest outline segment (local flat approximation)."""
    kx, ky = 111_320 * math.cos(math.radians(y)), 110_574
    best = math.inf
    for poly in polys:
        for ring in poly:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
                ax, ay, bx, by = (x1 - x) * kx, (y1 - y) * ky, (x2 - x) * kx, (y2 - y) * ky
                dx, dy = bx - ax, by - ay
                t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
                best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def test_every_opd_point_lies_inside_its_kecamatan():
    gj = json.loads((GEO_DIR / "bangkalan_kecamatan.geojson").read_text(encoding="utf-8"))
    kec = {f["properties"]["nama"]: _rings(f["geometry"]) for f in gj["features"]
           if f["properties"]["level"] == "kec"}
    regency = next(_rings(f["geometry"]) for f in gj["features"] if f["properties"]["level"] == "kab")
    assert len(kec) == 18
    # the point-in-polygon test itself, on the kecamatan centroids the file states
    for f in gj["features"]:
        if f["properties"]["level"] == "kec":
            assert _inside(f["properties"]["lng"], f["properties"]["lat"], kec[f["properties"]["nama"]])
    assert not _inside(112.7415, -7.02, kec["Bangkalan"])  # Disdik's old point, in the strait
    problems = []
    for r in read_registry():
        polys = kec.get(r["kecamatan"])
        if polys is None:
            problems.append(f"{r['code']}: kecamatan {r['kecamatan']} not in the outline file")
            continue
        for name, shape in ((r["kecamatan"], polys), ("Kabupaten Bangkalan", regency)):
            if not _inside(r["lon"], r["lat"], shape):
                problems.append(f"{r['code']}: outside {name}")
            elif _edge_distance_m(r["lon"], r["lat"], shape) < 50:
                problems.append(f"{r['code']}: within 50 m of the outline of {name}")
    assert problems == []


def test_outline_ships_with_its_licence():
    assert (GEO_DIR / "bangkalan_kecamatan.geojson").is_file()
    licence = (GEO_DIR / "LICENSE-wilayah_boundaries.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) 2024 Cahya DSN" in licence
    assert "cahyadsn/wilayah_boundaries" in (GEO_DIR / "SOURCE.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- migration 0008 on an older database
def test_migration_0008_marks_estimates_and_moves_points(tmp_path):
    from alembic import command
    from alembic.config import Config

    from data_access import config
    from data_access.db import ALEMBIC_INI, init_schema, make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'lama.db'}")
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(config.PROJECT_ROOT / "alembic"))
    cfg.attributes["configure_logger"] = False
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
        rows = [("DISKOMINFO", -7.0297, 112.7421, "2022-01-07"),  # the file's date: an estimate
                ("DISDAG", -7.0328, 112.7471, "2022-02-03"),  # a date an operator recorded
                ("DISDIK", -7.02, 112.7415, None),  # the old point in the strait
                ("DISHUB", -7.05, 112.75, None)]  # a point someone had already corrected
        for i, (code, lat, lon, day) in enumerate(rows, 1):
            conn.execute(text(
                "INSERT INTO opd (id, code, name, short_name, category, kecamatan, lat, lon, asn_headcount, "
                "headcount_is_estimate, venue_code, venue_registered_on, qr_printed_on) VALUES "
                "(:i, :c, :c, :c, 'dinas', 'Bangkalan', :lat, :lon, 10, 1, NULL, NULL, :d)"),
                {"i": i, "c": code, "lat": lat, "lon": lon, "d": day})
    init_schema(eng)
    with eng.connect() as conn:
        got = {r.code: r for r in conn.execute(select(Opd.code, Opd.lat, Opd.lon, Opd.qr_printed_estimate,
                                                      Opd.location_approx))}
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 0  # filled by init / start-up
    assert got["DISKOMINFO"].qr_printed_estimate and not got["DISDAG"].qr_printed_estimate
    assert (got["DISDIK"].lat, got["DISDIK"].lon) == (-7.0235, 112.7441)
    assert (got["DISHUB"].lat, got["DISHUB"].lon) == (-7.05, 112.75)
    assert all(r.location_approx for r in got.values())
    eng.dispose()

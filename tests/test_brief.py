"""The weekly brief (Laporan mingguan pimpinan): weeks, the figures of a week against the one
before on a small fixed data set, the PDF's text holding exactly those figures, the kecamatan
map drawn on the page, a week without data, the command and the Ringkasan download, both audited."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from data_access import boundaries, domain
from data_access import queries as q
from data_access.brief import (AUDIT_ACTION, Week, brief_pdf, change_int, change_points, headline_rows,
                               last_full_week, weekly_brief)
from data_access.fmt import fmt_int, fmt_pct
from tests.helpers import load_small, scans

W02 = Week(date(2022, 1, 10))  # 10-16 January 2022, the week of tests.helpers.SMALL
PREV = [  # the week before (3-9 January): fewer check-ins, one refusal
    ("DISKOMINFO", "2022-01-05 07:30", "asn", "hijau", "diterima", "a1"),
    ("DISKOMINFO", "2022-01-06 07:30", "asn", "hijau", "diterima", "a1"),
    ("DISKOMINFO", "2022-01-06 07:35", "asn", "hijau", "diterima", "a2"),
    ("DISKOMINFO", "2022-01-07 10:00", "pengunjung", "merah", "ditolak", "v2"),
    ("DINKES", "2022-01-07 07:10", "asn", "hijau", "diterima", "b1"),
]
SUNDAY = [("DISKOMINFO", "2022-01-16 09:00", "pengunjung", "hijau", "diterima", "v3")]  # the week ends with data
GENERATED = datetime(2022, 1, 17, 1, 0)  # 17 January 08.00 WIB


def load_weeks(engine) -> None:
    load_small(engine)
    assert scans(engine, PREV + SUNDAY) == len(PREV) + len(SUNDAY)


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        assert len(doc) == 1  # one A4 page
        w, h = doc[0].get_size()
        assert (round(w / 72 * 25.4), round(h / 72 * 25.4)) == (210, 297)
        return doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def expected(engine, start: date, end: date) -> dict:
    """The figures as the data layer computes them for those days."""
    ov = q.opd_overview(engine=engine, start=start, end=end)
    tot = q.totals(engine=engine, start=start, end=end)
    return {"printed": int(domain.qr_printed(ov).sum()), "active": int(domain.active(ov).sum()),
            "checkins": tot["checkins"], "refusal_rate": tot["refusal_rate"], "coverage": q.weighted_coverage(ov),
            "ov": ov}


# ---------------------------------------------------------------- weeks
def test_weeks_run_monday_to_sunday():
    assert Week.parse("2022-W02") == W02 == Week.containing(date(2022, 1, 16)) == Week.containing(date(2022, 1, 10))
    assert W02.sunday == date(2022, 1, 16) and W02.iso == "2022-W02"
    assert W02.label() == "Pekan 2/2022 (10–16 Januari 2022)"
    assert Week.parse("2022w5").monday == date(2022, 1, 31)
    assert Week(date(2021, 12, 27)).label() == "Pekan 52/2021 (27 Desember 2021 – 2 Januari 2022)"
    assert last_full_week(date(2022, 1, 17)) == W02  # a Monday's job reports the week that just ended
    assert last_full_week(date(2022, 1, 16)) == W02.previous()
    for bad, words in (("minggu lalu", "tidak dikenali"), ("2022-W60", "tidak memiliki pekan")):
        with pytest.raises(ValueError, match=words):
            Week.parse(bad)


def test_changes_in_words():
    assert change_int(120, 100) == "+20 (+20,0%)" and change_int(1000, 2000) == "-1.000 (-50,0%)"
    assert change_int(5, 5) == "tetap" and change_int(5, 0) == "+5" and change_int(None, 3) == "-"
    assert change_points(0.456, 0.40) == "+5,6 poin" and change_points(0.1, 0.1) == "tetap"
    assert change_points(0.580, 0.569) == "+1,1 poin"  # the difference of the two printed figures
    assert change_points(None, 0.2) == "-"


# ---------------------------------------------------------------- the figures and the page
def test_brief_holds_the_data_layers_figures_for_both_weeks(engine):
    load_weeks(engine)
    brief = weekly_brief(engine=engine, week=W02)
    this, prev = expected(engine, date(2022, 1, 10), date(2022, 1, 16)), expected(engine, date(2022, 1, 5),
                                                                                     date(2022, 1, 9))
    assert (brief.this.start, brief.this.end) == (date(2022, 1, 10), date(2022, 1, 16))
    assert (brief.prev.start, brief.prev.end) == (date(2022, 1, 5), date(2022, 1, 9))  # the data begin on 5 Jan
    for fig, want in ((brief.this, this), (brief.prev, prev)):
        assert fig.qr_printed == want["printed"] and fig.active == want["active"]
        assert fig.checkins == want["checkins"] and fig.refusal_rate == pytest.approx(want["refusal_rate"])
        assert fig.coverage == pytest.approx(want["coverage"])
    # by hand, from tests.helpers.SMALL and PREV above
    assert (brief.this.checkins, brief.prev.checkins) == (10, 5)
    assert brief.this.refusal_rate == pytest.approx(2 / 10) and brief.prev.refusal_rate == pytest.approx(1 / 5)
    assert brief.this.active == 2 and brief.prev.active == 2
    assert brief.notes == []

    text = pdf_text(brief_pdf(brief, boundaries.load(), generated_by="kominfo", generated_at=GENERATED))
    flat = " ".join(text.split())
    assert "Laporan Mingguan Pimpinan" in flat and "Pekan 2/2022 (10-16 Januari 2022)" in flat
    assert "Pembanding: 5-9 Januari 2022." in flat and "17 Januari 2022 08.00 WIB" in flat
    rows = {r[0]: r[1:] for r in headline_rows(brief)}
    assert rows["OPD dengan QR dicetak"][:2] == (f"{this['printed']} dari 52", f"{prev['printed']} dari 52")
    assert rows["Check-in"] == ("10", "5", "+5 (+100,0%)")
    assert rows["Tingkat penolakan"] == (fmt_pct(this["refusal_rate"]), fmt_pct(prev["refusal_rate"]), "tetap")
    assert rows["Cakupan ASN (target 80%)"][:2] == (fmt_pct(this["coverage"]), fmt_pct(prev["coverage"]))
    for label, cells in rows.items():
        line = " ".join([label, *cells])
        assert line in flat, line  # each headline row, as printed, with its change
    # the OPDs that printed their QR this week (registry dates 10-16 January) and the furthest behind
    ov = this["ov"]
    days = ov["qr_printed_on"].map(lambda d: d is not None and d == d and date(2022, 1, 10) <= d <= date(2022, 1, 16))
    printed_now = sorted(ov.loc[days, "short_name"])
    assert printed_now and sorted(brief.printed["short_name"]) == printed_now
    assert f"QR dicetak pekan ini ({len(printed_now)} OPD)" in flat
    behind = domain.furthest_behind(ov, 10)
    assert list(brief.behind["short_name"]) == list(behind["short_name"])
    assert f"10 OPD paling tertinggal (dari {int(domain.behind(ov).sum())} OPD" in flat
    for name, why in zip(behind["short_name"], domain.behind_reasons(behind)):
        assert name in flat and why.split(";")[0] in flat
    assert "Peta cakupan ASN per kecamatan" in flat and "cahyadsn/wilayah_boundaries" in flat
    for kec in ("Bangkalan", "Tanjung Bumi", "Kwanyar"):  # names written on the map
        assert kec in flat


def test_the_map_is_drawn_on_the_page(sqlite_engine):
    import pypdfium2 as pdfium

    load_weeks(sqlite_engine)
    data = brief_pdf(weekly_brief(engine=sqlite_engine, week=W02), boundaries.load(), generated_by="kominfo",
                     generated_at=GENERATED)
    doc = pdfium.PdfDocument(data)
    img = np.asarray(doc[0].render(scale=2).to_pil().convert("RGB")).astype(int)
    doc.close()
    h, w, _ = img.shape

    def share(rgb, region) -> float:
        part = img[region]
        return float((np.abs(part - np.array(rgb)).sum(axis=2) < 40).mean())

    from data_access.brief import OUTLINE

    right = (slice(int(h * 0.30), int(h * 0.62)), slice(int(w * 0.40), w))  # where the map sits
    left = (slice(0, h), slice(0, int(w * 0.35)))
    assert share(OUTLINE, right) > 0.004 and share(OUTLINE, left) == 0  # the regency outline, only there
    ys, xs = np.nonzero((np.abs(img - np.array(OUTLINE)).sum(axis=2) < 40))
    assert xs.max() - xs.min() > w * 0.45 and ys.max() - ys.min() > h * 0.18  # around the whole regency
    red = boundaries.coverage_rgb(0)  # kecamatan without a check-in: the scale's red
    assert share(red, right) > 0.05 and share(red, left) == 0


def test_a_week_without_data_says_so(sqlite_engine):
    load_weeks(sqlite_engine)
    week = Week.parse("2022-W10")  # March: nothing imported
    brief = weekly_brief(engine=sqlite_engine, week=week)
    assert not brief.this.has_data and not brief.prev.has_data
    assert brief.this.checkins is None and brief.this.coverage is None and brief.this.active is None
    assert brief.this.qr_printed == int(domain.qr_printed(
        q.opd_overview(engine=sqlite_engine, start=week.sunday, end=week.sunday)).sum())  # the registry still counts
    flat = " ".join(pdf_text(brief_pdf(brief, boundaries.load(), generated_by="kominfo",
                                       generated_at=GENERATED)).split())
    assert "Tidak ada data check-in untuk pekan ini." in flat and "5-16 Januari 2022" in flat
    for label in ("OPD aktif (7 hari terakhir)", "Check-in", "Tingkat penolakan", "Cakupan ASN (target 80%)"):
        assert f"{label} tanpa data tanpa data -" in flat
    assert "0,0%" not in flat.split("OPD paling tertinggal")[0]  # no zero shown as a fact
    assert "Mulai aktif pekan ini Tidak dapat dihitung" in flat
    assert "OPD belum mencetak QR)" in flat


def test_a_week_in_progress_is_compared_with_the_same_days(sqlite_engine):
    load_small(sqlite_engine)  # data up to Saturday 15 January
    assert scans(sqlite_engine, PREV) == len(PREV)
    brief = weekly_brief(engine=sqlite_engine, week=W02)
    assert (brief.this.start, brief.this.end) == (date(2022, 1, 10), date(2022, 1, 15))
    assert (brief.prev.start, brief.prev.end) == (date(2022, 1, 5), date(2022, 1, 8))
    before = q.totals(engine=sqlite_engine, start=date(2022, 1, 3), end=date(2022, 1, 8))
    assert brief.prev.checkins == before["checkins"]
    assert any("hanya mencakup 10-15 Januari 2022" in n.replace("–", "-") for n in brief.notes)


# ---------------------------------------------------------------- the command and the page, audited
def _audit(engine):
    from data_access import auth

    log = auth.audit_log(engine=engine, actor=auth.SYSTEM)
    return log[log["action"] == AUDIT_ACTION]


def test_command_writes_the_brief_and_the_audit_log(sqlite_engine, tmp_path, capsys, monkeypatch):
    from data_access.cli import main

    load_weeks(sqlite_engine)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    out = tmp_path / "laporan.pdf"
    assert main(["brief", "--week", "2022-W02", "--out", str(out), "--user", "bupati"]) == 0
    assert "Pekan 2/2022" in capsys.readouterr().out
    flat = " ".join(pdf_text(out.read_bytes()).split())
    assert "Check-in 10 5 +5 (+100,0%)" in flat and "Dibuat oleh bupati" in flat
    got = _audit(sqlite_engine)
    assert list(got["username"]) == ["bupati"] and list(got["target"]) == ["2022-W02"]
    assert '"cli"' in got["after"].iloc[0]
    assert main(["brief", "--week", "pekan-lalu", "--out", str(out)]) == 1
    assert "tidak dikenali" in capsys.readouterr().err
    assert len(_audit(sqlite_engine)) == 1  # nothing made, nothing logged
    # without --week: the last full week before today (WIB); a week far from the data says so
    assert main(["brief", "--out", str(tmp_path / "lalu.pdf")]) == 0
    assert "pekan tanpa data check-in" in capsys.readouterr().out


def test_ringkasan_offers_the_brief_for_the_week_of_the_periods_end(demo_dir, page, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    from data_access.db import make_engine

    deferred = {}
    add_deferred = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        fid = add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)
        deferred[fid] = (data_callable, file_name)
        return fid

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    at = page("ringkasan", "pimpinan")
    assert not at.exception
    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    end = q.data_range(engine=engine)[1]
    week = Week.containing(end)
    button = next(b for b in at.get("download_button") if "laporan mingguan" in b.proto.label.lower())
    assert week.label() in button.proto.label
    make, name = deferred[button.proto.deferred_file_id]
    assert name == f"laporan-mingguan-{week.iso}.pdf" and _audit(engine).empty  # made only on click
    flat = " ".join(pdf_text(make()).split())
    want = weekly_brief(engine=engine, week=week)
    assert f"Check-in {fmt_int(want.this.checkins)} {fmt_int(want.prev.checkins)}" in flat
    got = _audit(engine)
    assert list(got["username"]) == ["pimpinan"] and list(got["target"]) == [week.iso]
    engine.dispose()

"""The onboarding rules of data_access.domain: each line of the README's glossary that they
define, stated as a test on a fixed data set with every case, on all three databases; the
Ringkasan cards and lists, and every other figure built on the stages, checked against it."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pypdfium2 as pdfium
import pytest
from sqlalchemy import update

from data_access import auth, domain
from data_access import onboarding as ob
from data_access import queries as q
from data_access import visits as vs
from data_access.calendar import now_utc
from data_access.models import Opd
from data_access.report import monev_report
from tests.conftest import _clear_streamlit_caches
from tests.helpers import figure, opd_id, scans

START, END = date(2022, 1, 10), date(2022, 1, 28)  # the data's range; active window 22-28 Jan
SATPOL = auth.Actor("satpolpp", "satpolpp")

# code: (venue registered on, QR printed on, days with a check-in, visits as (day, QR posted))
CASES = {
    "DISKOMINFO": (date(2022, 1, 5), date(2022, 1, 6), ["2022-01-10", "2022-01-26"], [(date(2022, 1, 21), False)]),
    "RSUD": (date(2022, 1, 5), date(2022, 1, 6), ["2022-01-27", "2022-01-28"], [(date(2022, 1, 20), True)]),
    "BPBD": (date(2022, 1, 5), date(2022, 1, 7), ["2022-01-12"], [(date(2022, 1, 31), True)]),  # visit after the end
    "DISBUDPAR": (date(2022, 1, 5), date(2022, 1, 7), ["2022-01-13"], [(date(2022, 1, 20), True)]),
    "KEC-KONANG": (date(2022, 1, 5), date(2022, 1, 14), [], []),
    "DINKES": (date(2022, 1, 5), None, ["2022-01-11", "2022-01-24"], []),
    "SETDA": (date(2022, 1, 5), None, [], [(date(2022, 1, 20), True)]),
    "DISKAN": (date(2022, 1, 5), None, [], []),
    "DPUPR": (date(2022, 1, 20), date(2022, 2, 2), [], []),  # printed after the end
    "INSPEKTORAT": (date(2022, 2, 3), None, [], []),  # registered after the end
    "DISDIK": (None, None, [], []),
}
WHAT = {  # the case each OPD stands for
    "DISKOMINFO": "printed, active (a visit did not find the QR posted)",
    "RSUD": "printed, active, verified by a visit",
    "BPBD": "printed, quiet (its only posted visit is after the end)",
    "DISBUDPAR": "printed, verified by a visit, quiet",
    "KEC-KONANG": "printed, never a check-in",
    "DINKES": "check-ins without a printed QR (anomaly)",
    "SETDA": "a visit found a QR posted, no printing date (anomaly)",
    "DISKAN": "registered, not printed",
    "DPUPR": "registered, printed only after the end",
    "INSPEKTORAT": "registered only after the end",
    "DISDIK": "not registered",
}
STAGE = {
    "DISKOMINFO": "aktif", "RSUD": "terverifikasi", "BPBD": "qr_dicetak", "DISBUDPAR": "terverifikasi",
    "KEC-KONANG": "qr_dicetak", "DINKES": "terdaftar", "SETDA": "terdaftar", "DISKAN": "terdaftar",
    "DPUPR": "terdaftar", "INSPEKTORAT": "belum_terdaftar", "DISDIK": "belum_terdaftar",
}
PRINTED = {"DISKOMINFO", "RSUD", "BPBD", "DISBUDPAR", "KEC-KONANG"}
ACTIVE = {"DISKOMINFO", "RSUD", "DINKES"}
QUIET = {"BPBD", "DISBUDPAR", "KEC-KONANG"}
NO_QR = set(CASES) - PRINTED
ANOMALY = {"DINKES": domain.CHECKIN_WITHOUT_QR, "SETDA": domain.POSTED_WITHOUT_QR}
ATTENTION = NO_QR | QUIET


def load_cases(engine) -> None:
    """Every OPD without a venue code or printing date, then the cases above."""
    with engine.begin() as conn:
        conn.execute(update(Opd).values(venue_code=None, venue_registered_on=None, qr_printed_on=None))
        for code, (registered, printed, _, _) in CASES.items():
            conn.execute(update(Opd).where(Opd.code == code).values(
                venue_code=f"PL-{code}" if registered else None, venue_registered_on=registered, qr_printed_on=printed))
    rows = [(code, f"{day} 07:30", "asn", "hijau", "diterima", f"{code}-1")
            for code, (_, _, days, _) in CASES.items() for day in days]
    assert scans(engine, rows) == len(rows)
    for code, (_, _, _, visits) in CASES.items():
        for day, posted in visits:
            vs.add_visit(engine=engine, actor=SATPOL, visit=vs.VisitInput(
                opd_code=code, visited_on=day, officer="Petugas Uji", qr_posted=posted, scanning_enforced=posted,
                unscanned_entries=0 if posted else 2))


@pytest.fixture
def cases(engine):
    load_cases(engine)
    return engine


def overview(engine, *, only_cases: bool = True) -> pd.DataFrame:
    ids = [opd_id(engine, c) for c in CASES] if only_cases else None
    return q.opd_overview(engine=engine, start=START, end=END, opd_ids=ids).set_index("code")


def codes(ov: pd.DataFrame, mask: pd.Series) -> set[str]:
    return set(ov.index[mask.to_numpy()])


def test_data_set_covers_every_case(cases):
    assert q.data_range(engine=cases) == (START, END)
    assert set(WHAT) == set(CASES) == set(STAGE)
    assert set(STAGE.values()) == set(domain.STAGES)


# ---------------------------------------------------------------- the glossary, line by line
def test_tahap_onboarding(cases):
    """Tahap onboarding, as of the end of the range, each stage including the ones before it:
    Belum terdaftar (no venue code) → Terdaftar (code, QR not printed) → QR dicetak (a printing
    date on or before the end) → Aktif (printed, a check-in in the last 7 days) → Terverifikasi
    (printed, the latest visit found the QR posted)."""
    ov = overview(cases)
    assert ov["stage"].to_dict() == STAGE
    assert list(domain.STAGES) == ["belum_terdaftar", "terdaftar", "qr_dicetak", "aktif", "terverifikasi"]
    assert list(domain.STAGE_LABELS) == list(domain.STAGES)
    # the funnel holds: a stage from "QR dicetak" on means a printed QR, and only that
    assert (ov["stage"].isin(domain.PRINTED_STAGES) == domain.qr_printed(ov)).all()
    assert (ov["stage"].isin(domain.NOT_PRINTED_STAGES) == domain.no_qr(ov)).all()
    # the whole registry: every OPD outside the cases has nothing
    full = overview(cases, only_cases=False)
    assert (full.loc[~full.index.isin(list(CASES)), "stage"] == "belum_terdaftar").all()


def test_qr_dicetak(cases):
    """QR dicetak: a printing date on or before the end of the range; check-ins alone (DINKES),
    a posted QR alone (SETDA) or a printing date after the end (DPUPR) do not count."""
    ov = overview(cases)
    assert codes(ov, domain.qr_printed(ov)) == PRINTED
    assert codes(ov, domain.no_qr(ov)) == NO_QR
    # on the last day of the range the onboarding progress line says the same
    prog = q.onboarding_progress(engine=cases, start=START, end=END, opd_ids=[opd_id(cases, c) for c in CASES])
    assert prog["qr_printed"].iloc[-1] == len(PRINTED)


def test_aktif_7_hari_terakhir(cases):
    """Aktif 7 hari terakhir: at least one check-in in the last 7 calendar days of the range,
    printed or not (DINKES counts: it did check people in)."""
    ov = overview(cases)
    assert codes(ov, domain.active(ov)) == ACTIVE
    assert codes(ov, ov["checkins_7d"] > 0) == ACTIVE


def test_sepi(cases):
    """Sepi: QR printed, no check-in in the last 7 days of the range, whatever the stage: a
    verified OPD (DISBUDPAR) is quiet too."""
    ov = overview(cases)
    assert codes(ov, domain.quiet(ov)) == QUIET
    assert ov.loc["DISBUDPAR", "stage"] == "terverifikasi"


def test_check_in_tanpa_qr_tercetak(cases):
    """The anomaly: check-ins (or a posted QR found by a visit) without a printing date. The OPD
    keeps its registration stage, is not counted as printed, and carries the reason."""
    ov = overview(cases)
    assert ov["anomaly"].dropna().to_dict() == ANOMALY
    assert codes(ov, domain.anomaly(ov)) <= codes(ov, domain.no_qr(ov))
    assert domain.stage_label(ov).loc["DINKES"] == "Terdaftar (QR belum dicetak) · check-in tanpa QR tercetak"
    assert domain.stage_label(ov).loc["DISKAN"] == "Terdaftar (QR belum dicetak)"


def test_perlu_perhatian(cases):
    """Perlu perhatian: no printed QR (the anomaly included), or printed but quiet."""
    ov = overview(cases)
    assert codes(ov, domain.needs_attention(ov)) == ATTENTION
    assert not codes(ov, domain.needs_attention(ov)) & {"DISKOMINFO", "RSUD"}


def test_terlambat(cases):
    """Terlambat (hari): days from the Surat Edaran to the end of the range, for every OPD still
    without a printed QR; the WhatsApp message names the anomaly's reason."""
    ov = q.opd_overview(engine=cases, start=START, end=END, opd_ids=[opd_id(cases, c) for c in CASES])
    late = ob.without_qr(ov, as_of=END).set_index("code")
    assert set(late.index) == NO_QR
    assert (late["overdue_days"] == (END - date(2022, 1, 5)).days).all()
    assert late["registered"].to_dict() == {c: c not in ("DISDIK", "INSPEKTORAT") for c in NO_QR}
    msg = ob.whatsapp_message(late, as_of=END)
    assert "Dinas Kesehatan (check-in sudah berjalan, tanggal cetak QR belum dilaporkan ke Diskominfo)" in msg
    assert "Dinas Perikanan (kode venue sudah ada, tinggal cetak)" in msg


# ---------------------------------------------------------------- other figures built on the stages
def test_weekly_pipeline_kecamatan_and_compliance_agree(cases):
    ids = [opd_id(cases, c) for c in CASES]
    pipe = q.pipeline_weekly(engine=cases, start=START, end=END, opd_ids=ids)
    last = pipe[pipe["week_end"] == pd.Timestamp(END)].set_index("stage")["opds"].to_dict()
    assert last == {s: list(STAGE.values()).count(s) for s in domain.STAGES}
    kec = q.kecamatan_summary(engine=cases, start=START, end=END, opd_ids=ids).set_index("kecamatan")
    assert kec["printed"].sum() == len(PRINTED) and kec.loc["Konang", "printed"] == 1
    comp = vs.compliance(engine=cases, start=START, end=END, opd_ids=ids)
    assert set(comp["code"].iloc[:len(NO_QR)]) == NO_QR  # no QR first, the anomaly included


# ---------------------------------------------------------------- the Ringkasan page
@pytest.fixture
def app_on(cases, monkeypatch):
    """The pages read the case database (DATABASE_URL), with the demo accounts to sign in."""
    auth.create_demo_accounts(engine=cases)
    monkeypatch.setenv("DATABASE_URL", cases.url_for_test)
    _clear_streamlit_caches()
    yield cases
    _clear_streamlit_caches()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


NO_QR_TITLE, QUIET_TITLE = "Belum mencetak QR Code", "QR sudah dicetak, tetapi sepi 7 hari terakhir"


def _lists(at) -> dict[str, pd.DataFrame]:
    """The two "Perlu perhatian" lists by title (an empty list shows a note, not a table)."""
    counts = {}
    for md in at.markdown:
        for title in (NO_QR_TITLE, QUIET_TITLE):
            if md.value.startswith(f"**{title}** ("):
                counts[title] = int(md.value.rsplit("(", 1)[1].split()[0])
    tables = iter(at.dataframe)
    return {t: next(tables).value if counts[t] else pd.DataFrame({"OPD": []}) for t in (NO_QR_TITLE, QUIET_TITLE)}


def test_ringkasan_cards_and_lists(app_on, page):
    names = q.opd_registry(engine=app_on).set_index("code")["short_name"]
    at = page("ringkasan", "pimpinan", query={"opd": [names[c] for c in CASES]})
    assert not at.exception and not at.warning
    m = _metrics(at)
    assert m["Jumlah OPD"] == str(len(CASES))
    assert m["QR dicetak"] == str(len(PRINTED))
    assert m["Aktif 7 hari terakhir"] == str(len(ACTIVE))
    assert any(c.value.startswith(f"{len(ATTENTION)} OPD: belum mencetak QR Code") for c in at.caption)
    lists = _lists(at)
    no_qr, quiet = lists[NO_QR_TITLE], lists[QUIET_TITLE]
    by_name = {v: k for k, v in names.items()}
    assert {by_name[n] for n in no_qr["OPD"]} == NO_QR
    assert {by_name[n]: r for n, r in zip(no_qr["OPD"], no_qr["Keterangan"]) if isinstance(r, str)} == ANOMALY
    assert no_qr.set_index("OPD").loc[names["DINKES"], "Tahap"] == "Terdaftar (QR belum dicetak)"
    assert {by_name[n] for n in quiet["OPD"]} == QUIET
    quiet = quiet.set_index("OPD")
    assert quiet.loc[names["DISBUDPAR"], "Tahap"] == "Terverifikasi"
    assert quiet.loc[names["DISBUDPAR"], "Check-in terakhir"] == "13 Januari 2022"
    assert quiet.loc[names["KEC-KONANG"], "Check-in terakhir"] == "belum pernah"
    titles = [md.value for md in at.markdown]
    assert f"**{NO_QR_TITLE}** ({len(NO_QR)} OPD)" in titles and f"**{QUIET_TITLE}** ({len(QUIET)} OPD)" in titles


def test_ringkasan_whole_registry(app_on, page):
    at = page("ringkasan", "pimpinan")
    assert not at.exception
    m = _metrics(at)
    assert m["Jumlah OPD"] == "52" and m["QR dicetak"] == str(len(PRINTED))
    lists = _lists(at)
    assert len(lists[NO_QR_TITLE]) == 52 - len(PRINTED) and len(lists[QUIET_TITLE]) == len(QUIET)


def test_ringkasan_demo_lists_are_the_domain_subsets(demo_dir, page):
    """On the demo data (default period) the page's figures are the domain's subsets."""
    from data_access.db import make_engine

    eng = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    lo, hi = q.data_range(engine=eng)
    ov = q.opd_overview(engine=eng, start=lo, end=hi)
    eng.dispose()
    at = page("ringkasan", "pimpinan")
    assert not at.exception
    assert _metrics(at)["QR dicetak"] == str(int(domain.qr_printed(ov).sum()))
    lists = _lists(at)
    assert set(lists[NO_QR_TITLE]["OPD"]) == set(ov.loc[domain.no_qr(ov), "short_name"])
    assert set(lists[QUIET_TITLE]["OPD"]) == set(ov.loc[domain.quiet(ov), "short_name"])


def test_other_pages_and_report_show_the_anomaly_and_quiet(app_on, page):
    names = q.opd_registry(engine=app_on).set_index("code")["short_name"]
    query = {"opd": [names[c] for c in CASES]}
    at = page("adopsi", "pimpinan", query=query)
    assert not at.exception
    tahap = at.dataframe[0].value.set_index("OPD")["Tahap"]
    assert tahap[names["DINKES"]] == "Terdaftar (QR belum dicetak) · check-in tanpa QR tercetak"
    assert tahap[names["SETDA"]] == "Terdaftar (QR belum dicetak) · QR terpasang tanpa tanggal cetak"
    bars = {y: t for trace in figure(at)["data"] for y, t in zip(trace["y"], trace["text"])}
    assert {c for c in CASES if bars[names[c]].endswith("· sepi")} == QUIET
    assert bars[names["DINKES"]].endswith("· check-in tanpa QR tercetak")

    at = page("onboarding", "pimpinan", query=query)
    assert not at.exception
    assert [int(m.value) for m in at.metric] == [list(STAGE.values()).count(s) for s in domain.STAGES]
    official = q.opd_registry(engine=app_on).set_index("code")["name"]
    missing = at.dataframe[0].value.set_index("OPD")
    assert set(missing.index) == {official[c] for c in NO_QR}
    for code in NO_QR:  # the anomaly is said in the reason, and only for the anomalous OPDs
        says = [a for a in set(ANOMALY.values()) if a in missing.loc[official[code], "Alasan"]]
        assert says == ([ANOMALY[code]] if code in ANOMALY else []), code

    ids = [opd_id(app_on, c) for c in CASES]
    pdf = monev_report(compliance=vs.compliance(engine=app_on, start=START, end=END, opd_ids=ids),
                       visits=vs.list_visits(engine=app_on, start=START, end=END, opd_ids=ids),
                       start=START, end=END, filter_labels=[], generated_by="satpolpp", generated_at=now_utc())
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    doc.close()
    assert "check-in tanpa QR tercetak" in " ".join(text.split())


def test_classify_again_or_with_a_repeated_index_gives_the_same_columns():
    """classify adds its columns in one step; a frame classified before, or one whose index
    repeats a label, has them replaced in place instead, with the same values."""
    facts = pd.DataFrame({
        "venue_code": ["V1", "V2", None, "V4"],
        "venue_registered_on": [date(2022, 1, 3), None, None, date(2022, 4, 1)],
        "qr_printed_on": [date(2022, 1, 4), None, None, date(2022, 1, 10)],
        "checkins_7d": [5, 2, 0, 0],
        "last_day": [date(2022, 2, 27), date(2022, 2, 20), pd.NaT, pd.NaT],
        "qr_posted": [None, None, None, True],
        "photo_result": [None, None, None, "sesuai"],
    })
    once = domain.classify(facts, end=date(2022, 2, 28))
    assert list(once["stage"]) == ["aktif", "terdaftar", "belum_terdaftar", "terverifikasi"]
    assert list(once["anomaly"]) == [None, domain.CHECKIN_WITHOUT_QR, None, None]
    pd.testing.assert_frame_equal(domain.classify(once, end=date(2022, 2, 28)), once)
    repeated = domain.classify(facts.set_axis([0, 0, 1, 1]), end=date(2022, 2, 28))
    pd.testing.assert_frame_equal(repeated.reset_index(drop=True), once)

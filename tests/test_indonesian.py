"""Issue 19: Indonesian formats and words in every table, the period picker (quick periods, a month,
a typed range; up to today), the filter summary, a notice naming every unusable part of a link,
whom to chase first, contact persons (kominfo only), the per-OPD WhatsApp message, the audit log as
sentences, and the QR page's search, "belum dicetak" filter and ZIP of the OPDs listed."""
from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from streamlit import dataframe_util

from data_access import auth, domain, labels
from data_access import onboarding as ob
from data_access import queries as q
from data_access.db import make_engine
from data_access.fmt import fmt_range, parse_date
from data_access.periods import QUICK_PERIODS, matching_quick, months_between, quick_period
from data_access.registry import read_registry

KOMINFO = auth.Actor("kominfo", "kominfo")
PIMPINAN = auth.Actor("pimpinan", "pimpinan")


def shown(element) -> pd.DataFrame:
    """What a st.dataframe shows: the Styler's display text where there is one."""
    styler = element.proto.arrow_data.styler
    if styler.display_values:
        return dataframe_util.convert_arrow_bytes_to_pandas_df(styler.display_values)
    return element.value


def summary_of(at) -> str:
    """The text of the filter summary at the top of a data page."""
    for h in at.html:
        m = re.search(r'class="pantau-filter-text">(.*?)</span>', h.proto.body)
        if m:
            return html.unescape(m.group(1))
    raise AssertionError("no filter summary on the page")


def plain(markdown: str) -> str:
    """Markdown text as the user reads it: escapes and invisible joiners dropped."""
    from ui.safe import WORD_JOINER

    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def demo_engine(demo_dir: Path):
    return make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")


# ---------------------------------------------------------------- formats and words
def test_range_and_typed_dates():
    assert fmt_range(date(2022, 6, 1), date(2022, 6, 30)) == "1–30 Juni 2022"
    assert fmt_range(date(2022, 5, 1), date(2022, 6, 30)) == "1 Mei – 30 Juni 2022"
    assert fmt_range(date(2022, 12, 1), date(2023, 1, 5)) == "1 Desember 2022 – 5 Januari 2023"
    assert fmt_range(date(2022, 1, 5), date(2022, 1, 5)) == "5 Januari 2022"
    for text in ("01/06/2022", "1/6/2022", "1-6-22", "1.6.2022", "1 Juni 2022", "1 jun 2022", "2022-06-01"):
        assert parse_date(text) == date(2022, 6, 1), text
    for text in ("31/02/2022", "kemarin", "", "06/2022"):
        with pytest.raises(ValueError):
            parse_date(text)


def test_quick_periods():
    today = date(2026, 11, 27)  # a Friday
    data = (date(2022, 1, 7), date(2022, 2, 20))
    got = {k: quick_period(k, today=today, data_range=data) for k in QUICK_PERIODS}
    assert got == {
        "semua": data,
        "minggu-ini": (date(2026, 11, 23), today),
        "minggu-lalu": (date(2026, 11, 16), date(2026, 11, 22)),
        "bulan-ini": (date(2026, 11, 1), today),
        "bulan-lalu": (date(2026, 10, 1), date(2026, 10, 31)),
        "30-hari": (date(2026, 10, 29), today),
        "sejak-se": (date(2022, 1, 5), today),
    }
    assert quick_period("bulan-lalu", today=date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert quick_period("minggu-ini", today=date(2026, 11, 23)) == (date(2026, 11, 23), date(2026, 11, 23))
    assert matching_quick(date(2026, 10, 1), date(2026, 10, 31), today=today) == "bulan-lalu"
    assert months_between(date(2022, 1, 5), date(2022, 3, 2)) == [date(2022, 3, 1), date(2022, 2, 1), date(2022, 1, 1)]


def test_every_table_speaks_indonesian(demo_dir, page):
    """Displayed values: 1.234 and 87,6%, whatever the browser's language; categories in words;
    the cells keep their numbers, so sorting by a column sorts by value."""
    at = page("adopsi", "kominfo")
    assert not at.exception
    table = at.dataframe[0]
    view, raw = shown(table), table.value
    assert pd.api.types.is_numeric_dtype(raw["Check-in"])  # sorting stays numeric
    big = raw.index[raw["Check-in"] >= 1000]
    assert len(big), "the demo has offices with over a thousand check-ins"
    for i in big:
        assert view.loc[i, "Check-in"] == f"{int(raw.loc[i, 'Check-in']):,}".replace(",", ".")
    pct = view["Cakupan ASN (%)"].dropna()
    assert pct.str.fullmatch(r"(\d+,\d%|–)").all(), pct.head()
    assert set(view["Kategori"]) <= set(labels.CATEGORY_LABELS.values())
    assert not set(view["Kategori"]) & set(labels.CATEGORY_LABELS)  # no raw codes ("dinas", "rsud")
    assert view["Check-in terakhir"].str.fullmatch(r"\d{1,2} (Jan|Feb|Mar) 2022|–").all()

    at = page("penolakan", "kominfo")
    assert not at.exception
    for element in at.dataframe:
        view = shown(element)
        for col in ("Check-in", "Ditolak"):
            if col in view:
                assert not view[col].astype(str).str.contains(",").any()  # 12.810, never 12,810
        if "Tingkat penolakan (%)" in view:
            assert view["Tingkat penolakan (%)"].astype(str).str.fullmatch(r"\d+,\d\d%|–").all()
    jenis = [shown(e) for e in at.dataframe if "Jenis" in e.value]
    assert set(jenis[0]["Jenis"]) <= {"ASN", "Pengunjung"}

    at = page("monev", "pimpinan")
    assert not at.exception
    comp = next(e for e in at.dataframe if "Cakupan ASN (%)" in e.value)
    view = shown(comp)
    assert view["Cakupan ASN (%)"].str.fullmatch(r"\d+,\d%|–").all()
    assert view["Check-in per hari kerja"].str.fullmatch(r"[\d.]+,\d|–").all()

    at = page("peta", "kominfo")
    at.session_state["peta_view"] = "Per OPD"
    at.run()
    assert not at.exception
    table = next(e for e in at.dataframe if "Lintang" in e.value)
    view = shown(table)
    assert view["Lintang"].str.fullmatch(r"-\d,\d{4}").all() and view["Bujur"].str.fullmatch(r"11\d,\d{4}").all()
    assert pd.api.types.is_numeric_dtype(table.value["Check-in"])


def test_no_label_names_two_things(demo_dir, page):
    """'Periode' is the sidebar's period only; the chart's day/week switch has its own name."""
    for name in ("penolakan", "adopsi"):
        at = page(name, "kominfo")
        widgets = [w for kind in ("pills", "segmented_control", "selectbox", "date_input", "radio", "multiselect")
                   for w in getattr(at, kind)]
        names = [w.label for w in widgets]
        assert names.count("Periode") == 1, names
    at = page("penolakan", "kominfo")
    assert at.segmented_control(key="penolakan_period").label == "Satuan waktu grafik"


# ---------------------------------------------------------------- the period picker
def test_quick_period_applies_with_one_click(demo_dir, page):
    at = page("ringkasan", "kominfo")
    assert at.pills(key="periode_cepat").value == "semua"  # the default: the data's range
    first = at.sidebar.caption[-1].value
    assert first.startswith("52 dari 52 OPD · 7 Januari 2022")
    today = ob.today_wib()
    at.pills(key="periode_cepat").set_value("30-hari").run()
    assert not at.exception
    start, end = today - timedelta(days=29), today
    assert at.sidebar.caption[-1].value.endswith(f"{start.day} {fmt_range(start, start).split(' ', 1)[1]} – "
                                                 f"{fmt_range(end, end)}")
    assert at.query_params["periode"] == [start.isoformat(), end.isoformat()]
    assert summary_of(at) == f"Semua OPD · {fmt_range(start, end)}"
    # the data ends in 2022: the period still applies, and the page says where the data is
    assert any("Tidak ada data check-in pada periode ini" in i.value for i in at.info)
    at.pills(key="periode_cepat").set_value("sejak-se").run()
    assert summary_of(at) == f"Semua OPD · {fmt_range(date(2022, 1, 5), today)}"
    at.pills(key="periode_cepat").set_value("semua").run()
    assert at.sidebar.caption[-1].value == first
    assert "periode" not in at.query_params  # the default leaves the address clean


def test_typed_range_and_month(demo_dir, page):
    at = page("adopsi", "kominfo")
    at.text_input(key="periode_dari").input("1/2/2022")
    at.text_input(key="periode_sampai").input("10 Februari 2022")
    at.button(key="FormSubmitter:periode_form-Terapkan").click().run()
    assert not at.exception and not at.sidebar.error
    assert summary_of(at) == "Semua OPD · 1–10 Februari 2022"
    assert at.text_input(key="periode_dari").value == "01/02/2022"  # shown back in one form
    # a change of page drops the typed fields' widget state (Streamlit's cleanup); they show the period again
    at.session_state["periode_dari"] = at.session_state["periode_sampai"] = ""
    at.run()
    assert at.text_input(key="periode_dari").value == "01/02/2022"
    assert at.text_input(key="periode_sampai").value == "10/02/2022"
    # a day after today, a reversed range and a typo are refused in words; the period stays
    tomorrow = ob.today_wib() + timedelta(days=1)
    for a, b, want in (("01/02/2022", f"{tomorrow:%d/%m/%Y}", "Pilih tanggal antara"),
                       ("10/02/2022", "01/02/2022", "sesudah tanggal akhir"),
                       ("32/01/2022", "01/02/2022", "bukan tanggal yang ada")):
        at.text_input(key="periode_dari").input(a)
        at.text_input(key="periode_sampai").input(b)
        at.button(key="FormSubmitter:periode_form-Terapkan").click().run()
        assert want in at.sidebar.error[0].value
        assert summary_of(at) == "Semua OPD · 1–10 Februari 2022"
    at.selectbox(key="periode_bulan").select(date(2022, 1, 1)).run()
    assert summary_of(at) == "Semua OPD · 5–31 Januari 2022"  # from the Surat Edaran on
    assert not at.sidebar.error


def test_period_reaches_today(demo_dir, page):
    today = ob.today_wib()
    at = page("monev", "satpolpp", query={"periode": [(today - timedelta(days=3)).isoformat(), today.isoformat()]})
    assert not at.exception and not at.warning
    assert at.sidebar.caption[-1].value.endswith(fmt_range(today, today))


def test_filter_summary(demo_dir, page):
    at = page("monev", "kominfo", query={"opd": ["Dinas Kesehatan"], "periode": ["2022-02-01", "2022-02-10"]})
    assert summary_of(at) == "Dinas Kesehatan · 1–10 Februari 2022"
    at = page("adopsi", "kominfo", query={"kategori": ["Dinas"], "kecamatan": ["Bangkalan"]})
    assert re.fullmatch(r"Dinas · Kec\. Bangkalan \(\d+ OPD\) · 7 Januari – 18 Februari 2022", summary_of(at))
    at = page("qr", "kominfo", query={"opd": ["Diskominfo", "Dinas Kesehatan", "RSUD Syamrabu"]})
    assert summary_of(at).startswith("Diskominfo, Dinas Kesehatan +1 OPD lain · ")
    # opens the sidebar on a phone: the button's script clicks Streamlit's own "open sidebar" control
    body = next(h.proto.body for h in at.html if "pantau-filter-summary" in h.proto.body)
    assert "stExpandSidebarButton" in body and "Ubah filter" in body


@pytest.mark.parametrize("query, named", [
    ({"opd": ["Diskominfo", "Dinas Fiktif"]}, ["OPD tidak dikenal dan dibuang: Dinas Fiktif"]),
    ({"kategori": "Kementerian"}, ["kategori tidak dikenal dan dibuang: Kementerian"]),
    ({"kecamatan": "Atlantis"}, ["kecamatan tidak dikenal dan dibuang: Atlantis"]),
    ({"periode": ["kemarin", "2022-02-01"]}, ["periode bukan tanggal yang sah (kemarin; "]),
    ({"periode": ["2022-02-30", "2022-03-10"]}, ["periode bukan tanggal yang sah (2022-02-30; "]),  # only the bad one
    ({"periode": ["2022-03-01", "2022-02-01"]}, ["periode terbalik"]),
    ({"periode": ["2019-01-01", "2019-02-01"]}, ["periode di luar rentang yang dapat dipilih (5 Januari 2022 – "]),
    ({"periode": ["2022-02-01", "2022-02-02", "2022-02-03"]}, ["periode berisi lebih dari dua tanggal"]),
    ({"opds": "Diskominfo", "utm_source": "wa"}, ["parameter tidak dikenal: opds, utm_source"]),
    ({"opd": "Dinas Fiktif", "periode": ["2022-03-01", "2022-02-01"], "x": "1"},
     ["OPD tidak dikenal dan dibuang: Dinas Fiktif", "periode terbalik", "parameter tidak dikenal: x"]),
])
def test_every_bad_part_of_a_link_is_named(demo_dir, page, query, named):
    at = page("adopsi", "kominfo", query=query)
    assert not at.exception
    notice = plain(" ".join(w.value for w in at.warning))
    assert notice.startswith("Sebagian parameter tautan diabaikan dan diganti bawaan: ")
    for part in named:
        assert part in notice, (part, notice)
    if "opd" in query and "Diskominfo" in query["opd"]:  # the usable part is kept
        assert summary_of(at).startswith("Diskominfo · ")


# ---------------------------------------------------------------- chasing the OPDs
def test_chase_list_ranks_by_headcount_and_lateness(engine):
    from tests.helpers import scans, set_headcount

    end = date(2022, 3, 1)
    set_headcount(engine, "DISDIK", 300)  # no venue: both steps late
    set_headcount(engine, "KEC-GALIS", 10)  # no venue either, but small
    ob.record_venue_code(engine=engine, actor=KOMINFO, code="DISHUB", venue_code="PL-DISHUB-9",
                         registered_on=date(2022, 2, 20))
    set_headcount(engine, "DISHUB", 500)  # registered late: printing due 27 Feb, 2 days late
    scans(engine, [("DLH", "2022-02-10 08:00", "asn", "hijau", "diterima", "p1")])  # in use, not reported
    reg = q.opd_registry(engine=engine).set_index("code")
    ids = [int(reg.loc[c, "id"]) for c in ("DISDIK", "KEC-GALIS", "DISHUB", "DLH")]
    ov = q.opd_overview(engine=engine, start=date(2022, 1, 5), end=end, opd_ids=ids)
    cl = ob.chase_list(ov, as_of=end).set_index("code")
    assert list(cl.sort_values("rank").index) == ["DISDIK", "DISHUB", "KEC-GALIS", "DLH"]
    assert cl.loc["DISDIK", "days_late"] == 48  # registration was due 12 January 2022
    assert cl.loc["DISDIK", "priority"] == 300 * (48 + 41)  # printing was due 19 January
    assert cl.loc["DISHUB", "days_late"] == 2 and cl.loc["DISHUB", "priority"] == 500 * 2
    assert cl.loc["KEC-GALIS", "priority"] == 10 * (48 + 41)
    assert cl.loc["DISDIK", "reason"] == ("300 ASN; belum mendaftarkan venue: terlambat 48 hari (batas 12 Januari "
                                          "2022); belum mencetak QR: terlambat 41 hari (batas 19 Januari 2022)")
    assert cl.loc["DISHUB", "reason"] == "500 ASN; belum mencetak QR: terlambat 2 hari (batas 27 Februari 2022)"
    assert domain.CHECKIN_WITHOUT_QR in cl.loc["DLH", "reason"]  # evidently in use: last, only to report
    rows = cl.reset_index()
    msg = ob.opd_message(rows.iloc[0], as_of=end, contact_name="Bu Sari")
    assert msg.startswith("Yth. Bu Sari di Dinas Pendidikan,")
    assert "Per 1 Maret 2022, venue PeduliLindungi belum didaftarkan (terlambat 48 hari)." in msg
    assert "Unduh poster QR siap cetak" in ob.opd_message(rows.iloc[1], as_of=end)
    assert "Kirim tanggal QR Code dicetak ke Diskominfo" in ob.opd_message(rows.iloc[3], as_of=end)


def test_whatsapp_link():
    link = ob.whatsapp_link("Halo & selamat pagi\nBaris 2: 100%", "+62 812-3456-7890")
    assert link == "https://wa.me/6281234567890?text=Halo%20%26%20selamat%20pagi%0ABaris%202%3A%20100%25"
    assert ob.whatsapp_link("x") == "https://wa.me/?text=x"


@pytest.mark.parametrize("raw, want", [
    ("6281234567890", "6281234567890"), ("+62 812-3456-7890", "6281234567890"), ("0812 3456 7890", "6281234567890"),
    ("812345678", "62812345678"), ("(031) 3095 123", "62313095123"), ("", None), ("   ", None),
])
def test_whatsapp_numbers(raw, want):
    assert ob.normalize_whatsapp(raw) == want


@pytest.mark.parametrize("raw", ["12345", "6512345678", "62081234567890", "0812-xyz-7890", "6281234567890123",
                                 "=cmd|' /C calc'!A0"])
def test_whatsapp_numbers_refused(raw):
    with pytest.raises(ob.OnboardingError, match="Nomor WhatsApp"):
        ob.normalize_whatsapp(raw)


def test_contacts_kominfo_only_and_audited(engine):
    ob.set_contact(engine=engine, actor=KOMINFO, code="DINKES", name="  Sari   Dewi ", whatsapp="0812 1111 2222")
    got = ob.contacts(engine=engine, actor=KOMINFO).set_index("code").loc["DINKES"]
    assert (got["contact_name"], got["contact_whatsapp"]) == ("Sari Dewi", "6281211112222")
    with pytest.raises(auth.PermissionDenied):
        ob.contacts(engine=engine, actor=PIMPINAN)
    with pytest.raises(auth.PermissionDenied):
        ob.set_contact(engine=engine, actor=auth.Actor("satpolpp", "satpolpp"), code="DINKES", name="X", whatsapp="")
    with pytest.raises(ob.OnboardingError):
        ob.set_contact(engine=engine, actor=KOMINFO, code="DINKES", name="Sari", whatsapp="12")
    ob.set_contact(engine=engine, actor=KOMINFO, code="DINKES", name="", whatsapp="")  # cleared
    log = auth.audit_log(engine=engine, actor=KOMINFO)
    entries = log[log["action"] == "kontak_ubah"]
    assert len(entries) == 2
    lines = labels.audit_changes(entries.iloc[-1]["before"], entries.iloc[-1]["after"])
    assert lines == ["Narahubung: (kosong) → Sari Dewi", "WhatsApp: (kosong) → 6281211112222"]


def test_registry_file_may_carry_contacts(tmp_path, sqlite_engine):
    from data_access.registry import REGISTRY_FILE, load_registry

    text = REGISTRY_FILE.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(text) if not line.startswith("#"))
    rows = [text[header_at] + ",contact_name,contact_whatsapp"]
    for line in text[header_at + 1:]:
        rows.append(line + (",Pak Budi,0812 3333 4444" if line.startswith("DINKES,") else ",,"))
    path = tmp_path / "opd_registry.csv"
    path.write_text("\n".join(text[:header_at] + rows) + "\n", encoding="utf-8")
    dinkes = next(r for r in read_registry(path) if r["code"] == "DINKES")
    assert (dinkes["contact_name"], dinkes["contact_whatsapp"]) == ("Pak Budi", "6281233334444")
    ob.set_contact(engine=sqlite_engine, actor=KOMINFO, code="DINKES", name="Bu Ani", whatsapp="081255556666")
    with sqlite_engine.begin() as conn:
        load_registry(conn, path)  # Kominfo's edit wins over the file
    got = ob.contacts(engine=sqlite_engine, actor=KOMINFO).set_index("code").loc["DINKES"]
    assert got["contact_name"] == "Bu Ani"
    bad = path.read_text(encoding="utf-8").replace("0812 3333 4444", "12")
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match="DINKES"):
        read_registry(path)


def test_per_opd_message_on_the_page(demo_dir, page):
    eng = demo_engine(demo_dir)
    at = page("onboarding", "kominfo")
    assert not at.exception
    chase = shown(at.dataframe[0])
    assert list(chase.columns[:3]) == ["Urutan", "OPD", "Alasan"]
    assert chase["Alasan"].str.contains(r"^\d+ ASN; belum ").all()
    first = chase.iloc[0]["OPD"]
    code = q.opd_registry(engine=eng).set_index("name").loc[first, "code"]
    ob.set_contact(engine=eng, actor=KOMINFO, code=code, name="Bu Sari", whatsapp="0812-7777-8888")
    at = page("onboarding", "kominfo")
    message = at.code[0].value
    assert message.startswith(f"Yth. Bu Sari di {first},")
    button = at.link_button[0]
    assert button.proto.label == "Kirim lewat WhatsApp ke +6281277778888"
    url = urlparse(button.proto.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/6281277778888")
    assert parse_qs(url.query)["text"] == [message]
    assert "Bu Sari" in " ".join(shown(at.dataframe[0])["Narahubung"].dropna())
    # the group message is there too
    assert at.code[1].value.startswith("*Pengingat QR Code PeduliLindungi*")
    # other roles see the ranking and the messages, never the contact
    for role in ("pimpinan", "satpolpp"):
        other = page("onboarding", role)
        assert not other.exception
        assert "Narahubung" not in shown(other.dataframe[0]).columns
        assert other.code[0].value.startswith(f"Yth. Bapak/Ibu di {first},")
        assert urlparse(other.link_button[0].proto.url).path == "/"
        texts = " ".join(str(e.value) for kind in ("markdown", "caption", "code") for e in getattr(other, kind))
        assert "Bu Sari" not in texts and "6281277778888" not in texts


def test_contact_form_on_the_page(demo_dir, page):
    at = page("onboarding", "kominfo")
    at.selectbox(key="onboarding_opd").select("DINKES").run()
    at.text_input(key="onboarding_contact_wa_DINKES").input("12345")
    at.button(key="FormSubmitter:onboarding_contact_DINKES-Simpan narahubung").click().run()
    assert any("Nomor WhatsApp harus nomor Indonesia" in e.value for e in at.error)
    at.text_input(key="onboarding_contact_name_DINKES").input("Pak Dedi")
    at.text_input(key="onboarding_contact_wa_DINKES").input("+62 813 1234 5678")
    at.button(key="FormSubmitter:onboarding_contact_DINKES-Simpan narahubung").click().run()
    assert not at.exception and "Narahubung Dinas Kesehatan disimpan." in plain(at.success[0].value)
    got = ob.contacts(engine=demo_engine(demo_dir), actor=KOMINFO).set_index("code").loc["DINKES"]
    assert got["contact_whatsapp"] == "6281312345678"


# ---------------------------------------------------------------- the audit log as sentences
def test_audit_sentences():
    names = {"DINKES": "Dinas Kesehatan"}
    s = labels.audit_sentence
    assert s(username="kominfo", action="qr_unduh", target="DINKES", after='{"format": "pdf"}',
             opd_names=names) == "kominfo mengunduh poster QR Dinas Kesehatan"
    assert s(username="kominfo", action="qr_unduh", target="7 OPD", after={"format": "zip", "jumlah": 7},
             opd_names=names) == "kominfo mengunduh ZIP poster QR (7 OPD)"
    assert s(username="kominfo", action="pengguna_peran", target="dewi", before={"role": "pimpinan"},
             after={"role": "satpolpp"}) == "kominfo mengubah peran dewi dari Pimpinan (Kantor Bupati) menjadi Satpol PP"
    assert s(username="satpolpp", action="kunjungan_catat", target="DINKES #12", opd_names=names) == \
        "satpolpp mencatat kunjungan monev #12 ke Dinas Kesehatan"
    assert s(username="-", action="login_gagal", target="budi", after={"alasan": "sandi salah"}) == \
        "Percobaan masuk sebagai budi gagal (sandi salah)"
    assert s(username="kominfo", action="aksi_baru", target="X") == "kominfo: aksi baru (X)"
    assert labels.audit_changes('{"qr_printed_on": null, "qr_printed_estimate": true}',
                                '{"qr_printed_on": "2022-01-31", "qr_printed_estimate": false}') == [
        "Tanggal QR dicetak: (kosong) → 31 Januari 2022", "Tanggal cetak perkiraan: ya → tidak"]
    every = set(labels.ACTION_LABELS)
    for action in every:
        assert "_" not in s(username="kominfo", action=action, target="DINKES #1", opd_names=names), action


def test_every_audit_action_has_words():
    """Each action the data layer writes to the audit log has a label and a sentence of its own."""
    root = Path(__file__).resolve().parent.parent / "data_access"
    src = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    found = set(re.findall(r'audit\(\s*conn,[^)]*?action="([a-z_]+)"', src, re.S))
    found |= set(re.findall(r'_apply\(conn, actor, opd, "([a-z_]+)"', src))
    found |= set(re.findall(r'AUDIT_ACTION = "([a-z_]+)"', src))
    found |= {"pengguna_nonaktif"}  # chosen by a condition beside pengguna_aktif
    assert {"login", "qr_unduh", "venue_catat", "kontak_ubah", "impor"} <= found
    assert found <= set(labels.ACTION_LABELS), found - set(labels.ACTION_LABELS)
    generic = {a for a in found if labels.audit_sentence(username="u", action=a, target="t").startswith("u: ")}
    assert not generic, generic


def test_audit_page_reads_as_sentences_and_exports_raw(demo_dir, page):
    eng = demo_engine(demo_dir)
    ob.log_download(engine=eng, actor=KOMINFO, target="DINKES", fmt="pdf")
    ob.record_venue_code(engine=eng, actor=KOMINFO, code="DKP", venue_code="PL-DKP-77")
    at = page("audit", "kominfo")
    assert not at.exception
    view = shown(at.dataframe[0])
    assert "kominfo mengunduh poster QR Dinas Kesehatan" in set(view["Kejadian"])
    assert "kominfo mencatat kode venue Dinas Ketahanan Pangan" in set(view["Kejadian"])
    row = view[view["Kejadian"] == "kominfo mencatat kode venue Dinas Ketahanan Pangan"].iloc[0]
    assert row["Perubahan"].startswith("Kode venue: (kosong) → PL-DKP-77; Tanggal terdaftar: (kosong) → ")
    assert view["Waktu (WIB)"].str.endswith("WIB").all()
    assert not {"qr_unduh", "venue_catat"} & set(view["Jenis"])
    at.multiselect(key="audit_actions").select("qr_unduh").run()
    assert set(shown(at.dataframe[0])["Jenis"]) == {"QR / poster diunduh"}
    assert {"Unduh CSV", "Unduh Excel"} <= {b.proto.label for b in at.get("download_button")}
    # the download keeps the raw values beside the words
    log = auth.audit_log(engine=eng, actor=KOMINFO)
    export = labels.audit_export(log, opd_names={"DINKES": "Dinas Kesehatan", "DKP": "Dinas Ketahanan Pangan"})
    got = export[export["tindakan"] == "venue_catat"].iloc[0]
    assert got["Kejadian"] == "kominfo mencatat kode venue Dinas Ketahanan Pangan"
    assert got["Perubahan"].split("\n")[0] == "Kode venue: (kosong) → PL-DKP-77"
    assert got["sasaran"] == "DKP" and json.loads(got["sesudah"])["venue_code"] == "PL-DKP-77"
    assert json.loads(got["sebelum"]) == {"venue_code": None, "venue_registered_on": None}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", got["waktu_utc"])


# ---------------------------------------------------------------- the QR page
def test_qr_page_search_unprinted_and_zip_of_the_listed(demo_dir, page):
    reg = q.opd_registry(engine=demo_engine(demo_dir))
    with_code = reg[reg["venue_code"].notna()]
    waiting = with_code[with_code["qr_printed_on"].isna()]
    at = page("qr", "kominfo")
    labels_ = [b.proto.label for b in at.get("download_button")]
    assert labels_[0] == f"Unduh poster yang tampil ({len(with_code)} OPD, ZIP)"
    at.segmented_control(key="qr_printed_filter").set_value("Belum dicetak").run()
    labels_ = [b.proto.label for b in at.get("download_button")]
    assert labels_[0] == f"Unduh poster yang tampil ({len(waiting)} OPD, ZIP)"
    assert labels_.count("Poster PDF") == len(waiting)
    listed = " ".join(m.value for m in at.markdown)
    assert listed.count("belum dicetak]") == len(waiting)
    at.segmented_control(key="qr_printed_filter").set_value("Semua").run()
    at.text_input(key="qr_search").input("kesehatan").run()
    labels_ = [b.proto.label for b in at.get("download_button")]
    assert labels_[0] == "Unduh poster yang tampil (1 OPD, ZIP)"
    assert "Dinas Kesehatan" in " ".join(m.value for m in at.markdown)


def test_zip_download_logs_which_opds(sqlite_engine):
    ob.log_download(engine=sqlite_engine, actor=KOMINFO, target="2 OPD", fmt="zip", opd_codes=["DINKES", "DISDIK"])
    log = auth.audit_log(engine=sqlite_engine, actor=KOMINFO)
    entry = log[log["action"] == "qr_unduh"].iloc[0]
    names = dict(zip(q.opd_registry(engine=sqlite_engine)["code"], q.opd_registry(engine=sqlite_engine)["short_name"]))
    assert labels.audit_changes(None, entry["after"], opd_names=names) == [
        "Format: ZIP poster QR", "Jumlah OPD: 2", "OPD: Dinas Kesehatan, Dinas Pendidikan"]


def test_onboarding_chart_of_a_filter_names_it_and_counts_whole_opds(demo_dir, page):
    from tests.helpers import figure

    at = page("ringkasan", "kominfo", query={"opd": "Diskominfo"})
    assert not at.exception
    fig = next(figure(at, i) for i in range(len(at.get("plotly_chart")))
               if figure(at, i)["layout"]["title"]["text"].startswith("Kemajuan onboarding"))
    assert [a["text"] for a in fig["layout"]["annotations"] if "OPD" in a["text"]] == ["OPD dalam filter (1)"]
    assert fig["layout"]["yaxis"]["dtick"] == 1  # no 0,2 / 0,4 ticks for one OPD
    assert "%-d %B %Y" in fig["data"][0]["hovertemplate"]  # "12 April 2022" (the chart's locale)
    at = page("ringkasan", "kominfo")
    fig = next(figure(at, i) for i in range(len(at.get("plotly_chart")))
               if figure(at, i)["layout"]["title"]["text"].startswith("Kemajuan onboarding"))
    assert [a["text"] for a in fig["layout"]["annotations"] if "OPD" in a["text"]] == ["Semua OPD (52)"]

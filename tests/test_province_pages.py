"""Pages over a province's registry: the data (data_access/queries/province.py: figures per
regency add up to the whole, a regency filter selects its OPDs, a ranking shows its ends) and
the pages through AppTest (the regency filter, the ends of the rankings with a search, the map
per regency and per kecamatan), and Bangkalan's registry alone, where none of this shows."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import insert

from data_access import queries as q
from data_access.checkins import write_checkins
from data_access.db import init_schema, make_engine
from data_access.models import Opd
from data_access.synthetic import synthetic_frame, synthetic_registry
from tests.helpers import figure
from tests.test_exports import payloads
from tests.test_indonesian import plain, summary_of

START, END = date(2022, 2, 1), date(2022, 3, 15)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    d = tmp_path_factory.mktemp("province")
    engine = make_engine(f"sqlite:///{d / 'prov.db'}")
    init_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(Opd), synthetic_registry(150))
    opds = q.opd_registry(engine=engine)[["id", "asn_headcount"]]
    with engine.begin() as conn:
        write_checkins(conn, synthetic_frame(opds, 40_000, start=START, days=43, seed=5), source="demo")
    yield engine
    engine.dispose()


def test_regency_summary_adds_up_to_the_whole(province):
    reg = q.regencies(engine=province)
    assert len(reg) == 38 and reg["opds"].sum() == 150
    g = q.regency_summary(engine=province, start=START, end=END)
    ov = q.opd_overview(engine=province, start=START, end=END)
    tot = q.totals(engine=province, start=START, end=END)
    assert len(g) == 38 and g["opds"].sum() == len(ov) == 150
    assert g["checkins"].sum() == tot["checkins"] and g["refused"].sum() == tot["refused"]
    # coverage per regency weighted by headcount, as the overall figure is
    whole = (g["coverage"] * g["headcount"]).sum() / g["headcount"].sum()
    assert whole == pytest.approx(q.weighted_coverage(ov))
    assert g["lat"].between(-9, -6).all() and g["lon"].between(110, 115).all()


def test_regency_filter_selects_its_opds(province):
    ids = q.opd_ids_of_regencies(engine=province, kabupaten=["Bangkalan"])
    assert len(ids) == 52
    g = q.regency_summary(engine=province, start=START, end=END, opd_ids=ids)
    assert g["kabupaten"].tolist() == ["Bangkalan"]
    assert g["checkins"].iloc[0] == q.totals(engine=province, start=START, end=END, opd_ids=ids)["checkins"]
    two = q.opd_ids_of_regencies(engine=province, kabupaten=["Bangkalan", "Kota Surabaya"])
    assert set(ids) < set(two)


def test_ranking_ends():
    df = pd.DataFrame({"short_name": [f"OPD {i:03d}" for i in range(100)], "coverage": [i / 100 for i in range(100)]})
    df.loc[5, "coverage"] = None
    top, bottom = q.ranking_ends(df, by="coverage", n=10)
    assert top["coverage"].tolist()[:2] == [0.99, 0.98] and len(top) == 10
    assert len(bottom) == 10 and pd.isna(bottom["coverage"].iloc[-1])  # no value ranks last
    top, bottom = q.ranking_ends(df, by="coverage", n=10, search="opd 01")
    assert top["short_name"].tolist() == [f"OPD {i:03d}" for i in range(19, 9, -1)] and bottom.empty
    # the place in the whole ranking stays with each row after the search
    assert top["position"].tolist() == list(range(81, 91))
    assert len(q.search_rows(df, " opd 01 ")) == 10 and len(q.search_rows(df, "")) == 100
    assert q.MANY_OPDS == 60


# ---------------------------------------------------------------- the pages over a province
# tests/conftest.py's province_dir: the synthetic registry of 150 OPDs in 38 regencies (Bangkalan's
# 52 and three or four for each other one), check-ins from 1 February to 15 March 2022.
def test_regency_filter_narrows_the_opds(province_dir, page):
    at = page("adopsi", "pimpinan")
    assert not at.exception
    assert [m.label for m in at.sidebar.multiselect][:2] == ["Kabupaten/Kota", "Kategori"]  # above the others
    kab = at.sidebar.multiselect(key="kab")
    assert len(kab.options) == 38 and kab.value == []
    assert len(at.sidebar.multiselect(key="opd").options) == 150
    kab.set_value(["Kota Surabaya", "Sidoarjo"]).run()
    assert not at.exception
    opds = at.sidebar.multiselect(key="opd").options
    assert 0 < len(opds) < 10 and all("Surabaya" in o or "Sidoarjo" in o for o in opds)
    assert all("Surabaya" in k or "Sidoarjo" in k for k in at.sidebar.multiselect(key="kecamatan").options)
    assert at.sidebar.caption[-1].value.startswith(f"{len(opds)} dari 150 OPD · ")
    assert summary_of(at).startswith(f"Kota Surabaya, Kab. Sidoarjo ({len(opds)} OPD) · ")
    assert len(at.dataframe[0].value) == len(opds)  # few OPDs: the whole table, no search
    assert not [t for t in at.text_input if t.label == "Cari OPD"]


def test_regency_link_applies_and_an_unknown_one_is_named(province_dir, page):
    at = page("adopsi", "pimpinan", query={"kab": "Kota Surabaya"})
    assert not at.exception and not at.warning
    assert at.sidebar.multiselect(key="kab").value == ["Kota Surabaya"]
    assert summary_of(at).startswith("Kota Surabaya (")
    assert set(at.dataframe[0].value["OPD"].map(lambda n: n.split(" ", 2)[-1])) == {"Kota Surabaya"}
    at = page("adopsi", "pimpinan", query={"kab": ["Sidoarjo", "Atlantis"]})
    assert not at.exception
    notice = plain(" ".join(w.value for w in at.warning))
    assert "kabupaten/kota tidak dikenal dan dibuang: Atlantis" in notice and "Sidoarjo" not in notice
    assert summary_of(at).startswith("Kab. Sidoarjo (")


def test_bangkalan_alone_has_no_regency_filter(demo_dir, page):
    at = page("adopsi", "pimpinan")
    assert not at.exception
    assert [m.label for m in at.sidebar.multiselect] == ["Kategori", "Kecamatan", "OPD"]
    assert not [t for t in at.text_input if t.label == "Cari OPD"]
    at = page("adopsi", "pimpinan", query={"kab": "Sidoarjo"})
    assert "kabupaten/kota tidak dikenal dan dibuang: Sidoarjo" in plain(" ".join(w.value for w in at.warning))
    assert "kab" not in at.query_params
    at = page("adopsi", "pimpinan", query={"kab": "Bangkalan"})  # its one regency: nothing to choose
    assert not at.exception and not at.warning


def _bars(fig: dict) -> list[str]:
    return [y for t in fig["data"] if t["type"] == "bar" for y in t["y"]]


@pytest.fixture
def served(monkeypatch):
    """What the download buttons serve (tests/test_exports.py's recorder)."""
    from tests import test_exports

    return test_exports.downloads.__wrapped__(monkeypatch)


def _csv_rows(at, served, label: str = "Unduh CSV") -> int:
    import io

    data = next(d for lbl, _, d in payloads(at, served) if lbl == label)
    return len(pd.read_csv(io.BytesIO(data), sep=None, engine="python", encoding="utf-8-sig"))


def test_adoption_shows_the_ends_of_the_ranking_with_a_search(province_dir, page, served):
    at = page("adopsi", "pimpinan")
    assert not at.exception
    assert any(c.value.startswith("150 OPD diperingkat menurut cakupan ASN. Tampil 10 teratas dan 10 terbawah")
               for c in at.caption)
    top, bottom = figure(at, 0), figure(at, 1)
    assert len(_bars(top)) == 10 and len(_bars(bottom)) == 10
    assert "tertinggi" in top["layout"]["title"]["text"] and "terendah" in bottom["layout"]["title"]["text"]
    table = at.dataframe[0].value
    assert len(table) == 20 and table["Peringkat"].tolist() == [*range(1, 11), *range(141, 151)]
    assert set(_bars(top)) | set(_bars(bottom)) == set(table["OPD"])
    assert _csv_rows(at, served) == 150  # the download keeps every OPD
    # the search keeps the OPDs whose name holds it, then ranks them: fewer than 20 show whole
    at.text_input(key="adopsi_cari").input("kota surabaya").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert 0 < len(table) <= 20 and table["OPD"].str.contains("Kota Surabaya").all()
    assert len(at.get("plotly_chart")) == 2  # one ranking chart and the weekly one
    assert sorted(_bars(figure(at, 0))) == sorted(table["OPD"])
    assert any("cocok dengan “kota surabaya”, semuanya tampil" in c.value for c in at.caption)
    at.text_input(key="adopsi_cari").input("dinas").run()  # more than 20 match: their ends
    table = at.dataframe[0].value
    assert len(table) == 20 and table["OPD"].str.contains("Dinas", case=False).all()
    assert table["Peringkat"].is_monotonic_increasing
    at.text_input(key="adopsi_cari").input("tidak ada yang begini").run()
    assert not at.exception and "Tidak ada OPD yang namanya memuat" in at.info[-1].value
    assert _csv_rows(at, served) == 150


def test_refusals_onboarding_and_monev_show_the_ends(province_dir, page, served):
    at = page("penolakan", "pimpinan")
    assert not at.exception
    assert any(c.value.startswith("150 OPD diperingkat menurut jumlah penolakan.") for c in at.caption)
    table = next(d.value for d in at.dataframe if "Peringkat" in d.value)
    assert len(table) == 20 and table["Ditolak"].iloc[0] == table["Ditolak"].max()
    assert table["Kecamatan"].str.fullmatch(r".+ \((Kab\.|Kota) .+\)").all()  # each with its regency
    per_opd = next(d for lbl, name, d in payloads(at, served) if name.startswith("penolakan-per-opd") and
                   name.endswith(".csv"))
    assert per_opd.decode("utf-8-sig").count("\n") == 151  # the header and every OPD
    merah = next(figure(at, i) for i in range(len(at.get("plotly_chart")))
                 if figure(at, i)["layout"]["title"]["text"].startswith("Penolakan merah"))
    assert len(merah["data"]) == 10  # the ten kecamatan with the most, not one line per kecamatan
    at.text_input(key="penolakan_cari").input("Kota Surabaya").run()
    assert not at.exception
    top = next(figure(at, i) for i in range(len(at.get("plotly_chart")))
               if figure(at, i)["layout"]["title"]["text"] == "Penolakan terbanyak")
    assert _bars(top) and all("Kota Surabaya" in n for n in _bars(top))

    at = page("onboarding", "kominfo")
    assert not at.exception
    chase = at.dataframe[0].value
    assert len(chase) == 20 and chase["Urutan"].is_monotonic_increasing and chase["Urutan"].iloc[0] == 1
    assert any("OPD diperingkat menurut urutan kejar" in c.value for c in at.caption)
    at.text_input(key="onboarding_cari").input("Pamekasan").run()
    assert not at.exception and at.dataframe[0].value["OPD"].str.contains("Pamekasan").all()

    at = page("monev", "satpolpp")
    assert not at.exception
    comp = next(d.value for d in at.dataframe if "Peringkat" in d.value)
    assert comp["Peringkat"].tolist() == [*range(1, 11), *range(141, 151)]
    assert any(c.value.startswith("Unduhan CSV dan Excel serta laporan PDF memuat semua 150 OPD") for c in at.caption)


def _in_view(fig: dict, lon: list[float], lat: list[float]) -> bool:
    geo = fig["layout"]["geo"]
    (x0, x1), (y0, y1) = geo["lonaxis"]["range"], geo["lataxis"]["range"]
    return all(x0 <= x <= x1 for x in lon) and all(y0 <= y <= y1 for y in lat)


def test_map_aggregates_per_regency_or_kecamatan(province_dir, page):
    at = page("peta", "pimpinan")
    assert not at.exception
    level = at.segmented_control(key="peta_level")
    assert level.options == ["Per kabupaten/kota", "Per kecamatan"] and level.value == "Per kabupaten/kota"
    assert not [s for s in at.segmented_control if s.key == "peta_view"]  # no view per OPD
    assert any(c.value.startswith("150 OPD dalam filter: peta menampilkan angka per kabupaten/kota") for c in at.caption)
    fig = figure(at)
    names = [t.get("name") for t in fig["data"]]
    assert not {"QR dicetak (warna: cakupan ASN)", "Belum mencetak QR"} & set(names)  # no layer per OPD
    bubbles = next(t for t in fig["data"] if t.get("name") == "Cakupan ASN")
    assert len({c[0] for c in bubbles["customdata"]}) == 38 and _in_view(fig, bubbles["lon"], bubbles["lat"])
    assert len(next(t for t in fig["data"] if t.get("name") == "Nama kabupaten/kota terendah")["text"]) == 8
    table = at.dataframe[0].value
    assert len(table) == 38 and table["OPD"].sum() == 150 and "Kab. Bangkalan" in set(table["Kabupaten/Kota"])
    # a click on a regency: its figures, and it becomes the filter
    at.session_state["peta_pick_kabupaten"] = ("kabupaten", "Sidoarjo")
    at.run()
    text = " ".join(m.value for m in at.markdown)
    assert "Kab\\. Sidoarjo" in text and "Cakupan ASN:" in text
    at.button(key="peta_apply_kabupaten").click().run()
    assert not at.exception and at.sidebar.multiselect(key="kab").value == ["Sidoarjo"]
    # three OPDs: the map per OPD again, framed on them (they lie beyond Bangkalan's boundaries)
    at.segmented_control(key="peta_view").set_value("Per OPD").run()
    assert not at.exception
    fig = figure(at)
    marks = [t for t in fig["data"] if t.get("mode") == "markers"]
    lon = [x for t in marks for x in t["lon"]]
    assert len(lon) == 3 and _in_view(fig, lon, [y for t in marks for y in t["lat"]])

    at = page("peta", "pimpinan")
    at.segmented_control(key="peta_level").set_value("Per kecamatan").run()
    assert not at.exception
    fig = figure(at)
    assert "Nama kecamatan" not in [t.get("name") for t in fig["data"]]  # hundreds of names: in the hover only
    loose = next(t for t in fig["data"] if t.get("name") == "Kecamatan tanpa batas")
    assert _in_view(fig, loose["lon"], loose["lat"])
    kec = at.dataframe[0].value
    assert kec["OPD"].sum() == 150 and len(kec) > 60



# ---------------------------------------------------------------- kecamatan of the same name in two regencies
# The synthetic registry names one of Pamekasan's kecamatan Galis, as one of Bangkalan's is named
# (data_access.synthetic.SHARED_KECAMATAN): they stay two kecamatan everywhere.
GALIS_BKL, GALIS_PMK = "Galis (Kab. Bangkalan)", "Galis (Kab. Pamekasan)"


def test_kecamatan_of_one_name_in_two_regencies_stay_apart(province):
    from data_access.registry import KECAMATAN_CENTROIDS

    reg = q.opd_registry(engine=province)
    assert set(reg.loc[reg["kecamatan"] == "Galis", "kabupaten"]) == {"Bangkalan", "Pamekasan"}
    kec = q.kecamatan_summary(engine=province, start=START, end=END)
    assert not kec.duplicated(["kabupaten", "kecamatan"]).any() and kec["kecamatan_label"].is_unique
    galis = kec[kec["kecamatan"] == "Galis"].set_index("kecamatan_label")
    assert list(galis.index) == [GALIS_BKL, GALIS_PMK]
    ov = q.opd_overview(engine=province, start=START, end=END)
    for label, kab in ((GALIS_BKL, "Bangkalan"), (GALIS_PMK, "Pamekasan")):
        mine = ov[(ov["kecamatan"] == "Galis") & (ov["kabupaten"] == kab)]
        assert galis.loc[label, "opds"] == len(mine) and galis.loc[label, "checkins"] == mine["checkins"].sum()
    # Bangkalan's at its centroid; Pamekasan's at its OPDs' point, on Madura's east
    assert (galis.loc[GALIS_BKL, "lat"], galis.loc[GALIS_BKL, "lon"]) == KECAMATAN_CENTROIDS["Galis"]
    assert galis.loc[GALIS_PMK, "lon"] > 113.2
    assert kec["opds"].sum() == 150 and len(kec) == len(reg.groupby(["kabupaten", "kecamatan"]))
    merah = q.merah_by_kecamatan(engine=province, start=START, end=END)
    assert "Galis" not in set(merah["kecamatan"]) and {GALIS_BKL, GALIS_PMK} & set(merah["kecamatan"])


def test_the_kecamatan_filter_offers_each_regencys_own(province_dir, page):
    at = page("adopsi", "pimpinan")
    kec = at.sidebar.multiselect(key="kecamatan")
    assert {GALIS_BKL, GALIS_PMK} <= set(kec.options) and "Galis" not in kec.options
    kec.set_value([GALIS_PMK]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 1 and table["OPD"].iloc[0].endswith("Pamekasan") and table["Kecamatan"].iloc[0] == GALIS_PMK
    assert summary_of(at).startswith(f"Kec. {GALIS_PMK} (1 OPD)")
    # a regency chosen narrows the kecamatan to its own
    at.sidebar.multiselect(key="kab").set_value(["Bangkalan"]).run()
    assert not at.exception
    assert at.sidebar.multiselect(key="kecamatan").value == []  # Pamekasan's Galis is not Bangkalan's
    assert GALIS_BKL in at.sidebar.multiselect(key="kecamatan").options
    assert GALIS_PMK not in at.sidebar.multiselect(key="kecamatan").options
    # a link carries the label; a bare name that two regencies share is not one kecamatan
    at = page("adopsi", "pimpinan", query={"kecamatan": GALIS_BKL})
    assert not at.exception and not at.warning
    assert at.dataframe[0].value["OPD"].tolist() == ["Kec. Galis"]
    at = page("adopsi", "pimpinan", query={"kecamatan": "Galis"})
    assert "kecamatan tidak dikenal dan dibuang: Galis" in plain(" ".join(w.value for w in at.warning))


def test_the_kecamatan_map_keeps_pamekasans_galis_out_of_bangkalans(province_dir, page):
    at = page("peta", "pimpinan")
    at.segmented_control(key="peta_level").set_value("Per kecamatan").run()
    assert not at.exception
    fig = figure(at)
    choro = next(t for t in fig["data"] if t["type"] == "choropleth" and t.get("name") == "Cakupan ASN")
    i = choro["locations"].index("Galis")
    assert choro["customdata"][i][0] == GALIS_BKL and choro["customdata"][i][3] == 1  # Bangkalan's one office
    loose = next(t for t in fig["data"] if t.get("name") == "Kecamatan tanpa batas")
    j = [c[0] for c in loose["customdata"]].index(GALIS_PMK)
    assert loose["lon"][j] > 113.2  # at Pamekasan, not in Bangkalan's outline
    table = at.dataframe[0].value
    assert {GALIS_BKL, GALIS_PMK} <= set(table["Kecamatan"]) and table["Kecamatan"].is_unique
    # a click on Pamekasan's marker: its figures, and it becomes the filter
    at.session_state["peta_pick_kecamatan"] = ("kecamatan", GALIS_PMK)
    at.run()
    assert not at.exception
    assert any(plain(m.value) == f"#### Kec. {GALIS_PMK}" for m in at.markdown)
    at.button(key="peta_apply_kecamatan").click().run()
    assert not at.exception and at.sidebar.multiselect(key="kecamatan").value == [GALIS_PMK]
    # a click on Bangkalan's outline (the map names the outline "Galis"): Bangkalan's figures
    at = page("peta", "pimpinan")
    at.segmented_control(key="peta_level").set_value("Per kecamatan").run()
    at.session_state["peta_pick_kecamatan"] = ("kecamatan", "Galis")
    at.run()
    assert any(plain(m.value) == f"#### Kec. {GALIS_BKL}" for m in at.markdown)
    text = plain(" ".join(m.value for m in at.markdown))
    assert " dari 1 OPD**" in text and "- **Kec. Galis**: " in text and "Dinas 1 Pamekasan" not in text


def test_bangkalan_kecamatan_keep_their_bare_names(demo_dir, page):
    from data_access.db import make_engine
    from data_access.registry import KECAMATAN_CENTROIDS

    at = page("adopsi", "pimpinan")
    assert at.sidebar.multiselect(key="kecamatan").options == sorted(KECAMATAN_CENTROIDS)
    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    kec = q.kecamatan_summary(engine=engine, start=START, end=END)
    engine.dispose()
    assert (kec["kecamatan_label"] == kec["kecamatan"]).all() and set(kec["kabupaten"]) == {"Bangkalan"}
    assert {k: (a, b) for k, a, b in zip(kec["kecamatan"], kec["lat"], kec["lon"])} == KECAMATAN_CENTROIDS
    at = page("adopsi", "pimpinan", query={"kecamatan": "Galis"})
    assert not at.exception and not at.warning and summary_of(at).startswith("Kec. Galis (")


# ---------------------------------------------------------------- Ringkasan over a province
def _province_overview(province_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{province_dir / 'pantau.db'}")
    start, end = q.data_range(engine=engine)
    ov = q.opd_overview(engine=engine, start=start, end=end)
    engine.dispose()
    return ov, end


def _titled(at, title: str) -> int:
    """The count in a "**title** (N OPD)" line."""
    import re

    line = next(plain(m.value) for m in at.markdown if plain(m.value).startswith(f"**{title}** ("))
    return int(re.search(r"\(([\d.]+) OPD\)", line).group(1).replace(".", ""))


def test_ringkasan_names_the_regencies_and_bounds_its_lists(province_dir, page, served):
    from data_access import domain
    from data_access import onboarding as ob

    at = page("ringkasan", "pimpinan")
    assert not at.exception
    assert at.caption[0].value == "Penerapan check-in PeduliLindungi di OPD 38 kabupaten/kota"
    ov, end = _province_overview(province_dir)
    chase = ob.chase_list(ov, as_of=end)
    n_no_qr = int(domain.no_qr(ov).sum())
    assert n_no_qr > 10  # the synthetic province: enough to bound
    assert _titled(at, "Belum mencetak QR Code") == n_no_qr  # the count in words is the whole list's
    assert at.dataframe[0].value["OPD"].tolist() == chase["short_name"].head(10).tolist()  # whom to chase first
    captions = [c.value for c in at.caption]
    assert f"Tampil 10 dari {n_no_qr} OPD, menurut urutan kejar halaman Onboarding (jumlah ASN × hari terlambat)." \
        in captions
    assert any(c.startswith("150 OPD dalam filter: tiap daftar menampilkan paling banyak 10 OPD") for c in captions)
    # the download keeps every OPD needing attention, each with why
    assert _csv_rows(at, served) == int(domain.needs_attention(ov).sum())
    # a search narrows every list
    at.text_input(key="ringkasan_cari").input("Pamekasan").run()
    assert not at.exception
    for d in at.dataframe:
        assert d.value["OPD"].str.contains("Pamekasan").all()
    assert _csv_rows(at, served) == int(domain.needs_attention(ov).sum())  # still all of them
    # chosen regencies are named; few OPDs: whole lists, no search
    at.sidebar.multiselect(key="kab").set_value(["Kota Surabaya", "Sidoarjo"]).run()
    assert not at.exception
    assert at.caption[0].value == "Penerapan check-in PeduliLindungi di OPD Kota Surabaya dan Kabupaten Sidoarjo"
    assert not [t for t in at.text_input if t.key == "ringkasan_cari"]
    assert not [b for b in at.get("download_button") if b.proto.label == "Unduh CSV"]
    # the regency of the OPDs in the filter when none is chosen
    at = page("ringkasan", "pimpinan", query={"kecamatan": GALIS_PMK})
    assert at.caption[0].value == "Penerapan check-in PeduliLindungi di OPD Kabupaten Pamekasan"


def test_ringkasan_of_bangkalan_is_unchanged(demo_dir, page, served):
    from data_access import domain
    from data_access.db import make_engine

    at = page("ringkasan", "pimpinan")
    assert not at.exception
    assert at.caption[0].value == "Penerapan check-in PeduliLindungi di OPD Kabupaten Bangkalan"
    assert not [t for t in at.text_input if t.key == "ringkasan_cari"]
    assert not [b for b in at.get("download_button") if b.proto.label == "Unduh CSV"]
    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    start, end = q.data_range(engine=engine)
    ov = q.opd_overview(engine=engine, start=start, end=end)
    engine.dispose()
    no_qr = ov[domain.no_qr(ov)]
    assert at.dataframe[0].value["OPD"].tolist() == no_qr["short_name"].tolist()  # every one, registry order
    assert set(at.dataframe[0].value["Kecamatan"]) <= set(no_qr["kecamatan"])
    assert _titled(at, "QR sudah dicetak, tetapi sepi 7 hari terakhir") == int(domain.quiet(ov).sum())
    assert len(at.dataframe) == 1 + (domain.quiet(ov).sum() > 0) + (domain.photo_problem(ov).sum() > 0)


def test_attention_orders():
    from data_access import domain

    df = pd.DataFrame({"short_name": ["A", "B", "C", "D"], "asn_headcount": [10, 50, 20, 5],
                       "last_day": [date(2022, 3, 1), None, date(2022, 2, 1), date(2022, 2, 1)]})
    assert domain.longest_quiet_first(df)["short_name"].tolist() == ["B", "C", "D", "A"]  # never, oldest, larger
    assert domain.largest_first(df)["short_name"].tolist() == ["B", "C", "A", "D"]
    assert list(domain.longest_quiet_first(df).columns) == list(df.columns)


# ---------------------------------------------------------------- the QR page over a province
def _zip_names(at, served) -> list[str]:
    """The file names in the ZIP of posters the page offers (made as a click would make it)."""
    import io
    import zipfile

    b = next(b for b in at.get("download_button") if b.proto.label.startswith("Unduh poster"))
    make = served[1][b.proto.deferred_file_id][0]
    return zipfile.ZipFile(io.BytesIO(make())).namelist()


def _rows_listed(at) -> list[str]:
    """The codes of the OPDs listed with their download buttons (their PNG button's key)."""
    return [b.proto.id.rsplit("qr_png_", 1)[-1] for b in at.get("download_button") if b.proto.label == "PNG"]


def _page_line(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("Halaman ")]


def test_qr_page_lists_a_page_at_a_time_and_zips_them_all(province_dir, page, served):
    reg = synthetic_registry(150)
    with_venue = sum(r["venue_code"] is not None for r in reg)
    assert with_venue > 60
    pages = -(-with_venue // 25)
    at = page("qr", "kominfo")
    assert not at.exception
    first = _rows_listed(at)
    assert len(first) == 25 and _page_line(at) == [f"Halaman 1 dari {pages}"] * 2  # above and under the rows
    assert any(c.value == f"{with_venue} OPD, 25 per halaman: tampil OPD ke-1–25." for c in at.caption)
    assert at.button(key="qr_halaman_sebelumnya").disabled and not at.button(key="qr_halaman_berikutnya").disabled
    zip_button = next(b for b in at.get("download_button") if b.proto.label.startswith("Unduh poster"))
    assert zip_button.proto.label == f"Unduh poster semua OPD dalam daftar ({with_venue} OPD, ZIP)"
    assert len(_zip_names(at, served)) == with_venue  # every OPD listed, not only this page's
    # each OPD with its regency: two "Dinas 1 ..." of two regencies are told apart, and found by it
    assert sum(plain(m.value).startswith("**") and " · Kab. " in plain(m.value) for m in at.markdown) > 0
    at.button(key="qr_halaman_berikutnya").click().run()
    assert not at.exception
    second = _rows_listed(at)
    assert _page_line(at)[0] == f"Halaman 2 dari {pages}" and len(second) == 25 and not set(first) & set(second)
    at.button(key="qr_halaman_berikutnya_bawah").click().run()
    assert _page_line(at)[0] == f"Halaman 3 dari {pages}"
    at.button(key="qr_halaman_sebelumnya").click().run()
    assert _page_line(at)[0] == f"Halaman 2 dari {pages}"
    # a narrower list starts on its first page again; one that fits shows whole, no pages
    at.segmented_control(key="qr_printed_filter").set_value("Belum dicetak").run()
    assert not at.exception
    waiting = len(_rows_listed(at))
    assert 0 < waiting <= 60 and not _page_line(at)
    assert len(_zip_names(at, served)) == waiting
    at.segmented_control(key="qr_printed_filter").set_value("Semua").run()
    assert _page_line(at)[0] == f"Halaman 1 dari {pages}"
    at.text_input(key="qr_search").input("pamekasan").run()
    assert not at.exception and not _page_line(at)
    pmk = [r for r in reg if r["kabupaten"] == "Pamekasan" and r["venue_code"]]
    assert sorted(_rows_listed(at)) == sorted(r["code"] for r in pmk)
    assert all("Kab. Pamekasan" in plain(m.value) for m in at.markdown if m.value.startswith("**"))
    assert len(_zip_names(at, served)) == len(pmk)


def test_qr_page_of_bangkalan_is_unchanged(demo_dir, page, served):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    venues = int(q.opd_registry(engine=engine)["venue_code"].notna().sum())
    engine.dispose()
    at = page("qr", "kominfo")
    assert not at.exception
    n = len(_rows_listed(at))
    assert n == venues and not _page_line(at)
    zip_button = next(b for b in at.get("download_button") if b.proto.label.startswith("Unduh poster"))
    assert zip_button.proto.label == f"Unduh poster yang tampil ({n} OPD, ZIP)"
    assert not any("Kab." in plain(m.value) for m in at.markdown)
    assert len(_zip_names(at, served)) == n


# ---------------------------------------------------------------- Onboarding's group message over a province
def _group_message(at) -> str:
    return at.code[-1].value  # the tabs' second: the group's


def test_group_message_is_one_per_regency(province_dir, page):
    from data_access import onboarding as ob

    ov, end = _province_overview(province_dir)
    missing = ob.chase_list(ov, as_of=end)
    per_kab = missing["kabupaten"].value_counts()
    at = page("onboarding", "kominfo")
    assert not at.exception
    kab = at.selectbox(key="onboarding_msg_kab")
    assert set(kab.options) == {f"{'Kab. ' if not k.startswith('Kota ') else ''}{k} ({n} OPD)"
                                for k, n in per_kab.items()}
    top = per_kab.sort_values(ascending=False).index[0]
    assert kab.value == top == "Bangkalan"  # Bangkalan's 52 OPDs hold the most to chase
    text = _group_message(at)
    assert text.startswith("*Pengingat QR Code PeduliLindungi: OPD Kabupaten Bangkalan*\nSesuai Surat Edaran Bupati")
    assert f"belum mencetak QR Code ({per_kab['Bangkalan']} OPD):" in text
    assert any(c.value.startswith(f"OPD yang belum mencetak QR ada di {len(per_kab)} kabupaten/kota.")
               for c in at.caption)
    pmk = missing[missing["kabupaten"] == "Pamekasan"]
    assert len(pmk)
    kab.set_value("Pamekasan").run()
    assert not at.exception
    text = _group_message(at)
    assert text.startswith("*Pengingat QR Code PeduliLindungi: OPD Kabupaten Pamekasan*\nSetiap OPD wajib")
    assert "Bangkalan" not in text and text.endswith("hubungi Diskominfo Kabupaten Pamekasan.")
    listed = text.split(" OPD):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    named = [line.split(". ", 1)[1].rsplit(" (", 1)[0] for line in listed]
    assert named == pmk["name"].tolist()  # its OPDs only, in the chase order
    link = next(b for b in at.get("link_button") if b.proto.label.startswith("Buka di WhatsApp"))
    assert "Kabupaten%20Pamekasan" in link.proto.url
    # per-OPD messages stay, for every OPD to chase
    assert len(at.selectbox(key="onboarding_msg_opd").options) == len(missing)


def test_group_message_names_a_bounded_number():
    from data_access import onboarding as ob

    df = pd.DataFrame({"name": [f"Dinas {i}" for i in range(70)], "anomaly": None, "registered": False})
    text = ob.whatsapp_message(df, as_of=END, regency="Sidoarjo")
    assert "(70 OPD):" in text and "\n60. Dinas 59 (" in text and "\n61. " not in text
    assert "… dan 10 OPD lainnya: daftar lengkapnya di dasbor Pantau PeduliLindungi" in text
    assert "Diskominfo Kabupaten Sidoarjo." in text and "Bangkalan" not in text


def test_group_message_of_bangkalan_is_unchanged(demo_dir, page):
    from data_access import onboarding as ob
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    start, end = q.data_range(engine=engine)
    missing = ob.chase_list(q.opd_overview(engine=engine, start=start, end=end), as_of=end)
    engine.dispose()
    at = page("onboarding", "kominfo")
    assert not at.exception and not [s for s in at.selectbox if s.key == "onboarding_msg_kab"]
    text = _group_message(at)
    assert text == ob.whatsapp_message(missing, as_of=end)
    assert text.startswith("*Pengingat QR Code PeduliLindungi*\nSesuai Surat Edaran Bupati Bangkalan No. ")
    assert text.endswith("hubungi Diskominfo Kabupaten Bangkalan.") and "lainnya" not in text
    assert f"({len(missing)} OPD):" in text


def test_the_weekly_brief_of_a_province_and_of_one_of_its_regencies(province):
    """In a province's registry the brief covers every regency (named as such, kecamatan with
    their regency, the lowest regencies in a table where Bangkalan's map would be) or the one
    regency asked for; Bangkalan's keeps its kecamatan map; an unknown regency is refused in words."""
    from data_access import boundaries
    from data_access.brief import Week, brief_pdf, weekly_brief
    from tests.test_brief import pdf_text

    week = Week.containing(date(2022, 3, 9))
    at = datetime(2022, 3, 14, 1, 0)
    reg = q.opd_registry(engine=province)
    whole = weekly_brief(engine=province, week=week)
    assert whole.scope.is_province and whole.scope.label == "38 kabupaten/kota" and whole.n_opds == len(reg)
    assert whole.areas is not None and len(whole.areas) == 10
    lowest = q.regency_summary(engine=province, start=whole.this.start, end=whole.this.end)
    assert whole.areas["coverage"].tolist() == sorted(lowest["coverage"])[:10]
    assert whole.behind["kecamatan"].str.contains(r"\((?:Kab\.|Kota) ").all()  # kecamatan with their regency
    text = pdf_text(brief_pdf(whole, boundaries.load(), generated_by="kominfo", generated_at=at))
    assert "OPD 38 kabupaten/kota" in text and "Cakupan ASN terendah per kabupaten/kota" in text
    assert "Peta cakupan ASN" not in text and "Bangkalan (Surat Edaran" not in text

    gresik = weekly_brief(engine=province, week=week, kabupaten="kabupaten gresik")
    n_gresik = int((reg["kabupaten"] == "Gresik").sum())
    assert gresik.scope.label == "Kabupaten Gresik" and gresik.n_opds == n_gresik
    ids = reg.loc[reg["kabupaten"] == "Gresik", "id"].tolist()
    assert gresik.this.checkins == q.totals(engine=province, start=gresik.this.start, end=gresik.this.end,
                                            opd_ids=ids)["checkins"] > 0
    text = pdf_text(brief_pdf(gresik, boundaries.load(), generated_by="kominfo", generated_at=at))
    assert "OPD Pemerintah Kabupaten Gresik;" in text and "Cakupan ASN terendah per kecamatan" in text
    assert "Peta cakupan ASN" not in text

    home = weekly_brief(engine=province, week=week, kabupaten="Bangkalan")
    assert home.scope.has_map and home.n_opds == int((reg["kabupaten"] == "Bangkalan").sum())
    text = pdf_text(brief_pdf(home, boundaries.load(), generated_by="kominfo", generated_at=at))
    assert "Peta cakupan ASN per kecamatan" in text and "Kabupaten Bangkalan (Surat Edaran" in text

    with pytest.raises(ValueError, match="tidak ada di registri OPD"):
        weekly_brief(engine=province, week=week, kabupaten="Atlantis")


def test_the_front_page_names_whose_offices_are_watched(province):
    """The sign-in page's sentence: Bangkalan's own registry names its Surat Edaran; a province's
    registry its regencies (as a number beyond three), without Bangkalan's rule."""
    from data_access.registry import regencies, scope_sentence

    with province.connect() as conn:
        names = regencies(conn)
    assert len(names) == 38 and scope_sentence(names) == (
        "Pemantauan penerapan check-in PeduliLindungi di OPD 38 kabupaten/kota.")
    assert scope_sentence(["Bangkalan"]) == ("Pemantauan penerapan check-in PeduliLindungi di OPD Kabupaten "
                                             "Bangkalan (Surat Edaran Bupati 440/033/433.031/2022).")
    assert scope_sentence(["Gresik", "Kota Surabaya"]) == (
        "Pemantauan penerapan check-in PeduliLindungi di OPD Kabupaten Gresik dan Kota Surabaya.")

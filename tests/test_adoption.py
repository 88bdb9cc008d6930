"""Adoption per OPD and the adoption map: measures on all databases, pages through AppTest."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from data_access import queries as q
from tests.helpers import figure, load_small, opd_id

JAN10, JAN11, JAN14 = date(2022, 1, 10), date(2022, 1, 11), date(2022, 1, 14)
SHARED_GEO = Path(__file__).resolve().parent.parent.parent / "shared" / "geo" / "bangkalan_kecamatan.geojson"


def test_weekly_and_kecamatan_measures(engine):
    load_small(engine)
    a, b = opd_id(engine, "DISKOMINFO"), opd_id(engine, "DINKES")
    w = q.coverage_weekly(engine=engine, start=JAN10, end=JAN14, opd_ids=[a, b])
    w = w.set_index("opd_id")["coverage"]
    # week of 10 Jan has 5 working days: A = (2+1)/(5*4), B = 2/(5*2); both = 5/(5*6)
    assert w.loc[a] == pytest.approx(3 / 20)
    assert w.loc[b] == pytest.approx(2 / 10)
    assert w.loc[0] == pytest.approx(5 / 30)
    # the selection as a whole alone, summed per week in the database: the same line
    whole = q.coverage_weekly(engine=engine, start=JAN10, end=JAN14, opd_ids=[a, b], per_opd=False)
    assert whole["opd_id"].tolist() == [0] and whole["coverage"].iloc[0] == pytest.approx(5 / 30)
    start, end = date(2022, 1, 3), date(2022, 1, 31)
    every = q.coverage_weekly(engine=engine, start=start, end=end)
    total = every[every["opd_id"] == 0].reset_index(drop=True)
    assert len(total) == 5 and total["coverage"].gt(0).any()
    got = q.coverage_weekly(engine=engine, start=start, end=end, per_opd=False)
    assert got["week"].tolist() == total["week"].tolist()
    assert got["coverage"].to_numpy() == pytest.approx(total["coverage"].to_numpy())
    assert q.weekly_lines_per_opd([a, b]) and not q.weekly_lines_per_opd(None)
    assert not q.weekly_lines_per_opd(list(range(q.WEEKLY_LINES_MAX + 1)))
    kec = q.kecamatan_summary(engine=engine, start=JAN10, end=JAN11, opd_ids=[a, b]).set_index("kecamatan")
    assert kec.loc["Bangkalan", "checkins"] == 8  # 6 + 3 minus the Saturday scan outside the range
    assert kec.loc["Bangkalan", "coverage"] == pytest.approx(5 / 12)
    t = q.adoption_table(engine=engine, start=JAN10, end=JAN11, opd_ids=[a, b]).set_index("code")
    assert t.loc["DISKOMINFO", "visitors_per_day"] == pytest.approx(0.5)  # one visitor over two working days


def test_adoption_page(demo_dir, page):
    at = page("adopsi", "pimpinan")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[0] == "Cakupan ASN (tertimbang)"
    assert at.metric[0].value.endswith("%") and "," in at.metric[0].value
    table = at.dataframe[0].value
    assert len(table) == 52  # OPDs without data are listed, not left out
    assert (table["Check-in"] == 0).sum() == int(at.metric[2].value)
    assert table["Cakupan ASN (%)"].is_monotonic_decreasing
    fig = figure(at)
    names = {t["name"] for t in fig["data"]}
    assert "Belum terdaftar" in names or "Terdaftar (QR belum dicetak)" in names
    shapes = fig["layout"].get("shapes", [])
    assert any(s.get("x0") == 0.8 for s in shapes)  # the 80% target line
    assert [b.label for b in at.get("download_button")] == ["Unduh CSV", "Unduh Excel"]


def test_adoption_page_with_filter(demo_dir, page):
    at = page("adopsi", "satpolpp", query={"kategori": "Kantor Kecamatan"})
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 18
    assert table["OPD"].str.startswith("Kec.").all()


def _small_geojson(path: Path) -> Path:
    feats = []
    for i, name in enumerate(["Bangkalan", "Kamal", "Modung"]):
        x, y = 112.7 + i * 0.1, -7.0 - i * 0.05
        feats.append({"type": "Feature", "properties": {"nama": name},
                      "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.05, y], [x + 0.05, y - 0.05],
                                                                       [x, y - 0.05], [x, y]]]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_map_page_views(demo_dir, page):
    at = page("peta", "pimpinan")
    assert not at.exception
    fig = figure(at)  # "Per kecamatan" first: a choropleth with the 18 names written on it
    assert [t["type"] for t in fig["data"]][:2] == ["choropleth", "choropleth"]
    assert len(next(t for t in fig["data"] if t.get("name") == "Nama kecamatan")["text"]) == 18
    assert fig["layout"]["geo"]["visible"] is False  # no base layers: nothing to fetch
    assert "http" not in json.dumps(fig)  # no tile, font or topojson server
    at.segmented_control(key="peta_view").set_value("Per OPD").run()
    whole, town = figure(at, 0), figure(at, 1)
    codes = [c[0] for t in whole["data"] if t["type"] == "scattergeo" and t.get("mode") == "markers"
             for c in t["customdata"]]
    assert len(codes) == 52
    assert "Kota Bangkalan" in town["layout"]["title"]["text"]


@pytest.mark.parametrize("source", ["written", "shared"])
def test_map_choropleth_with_boundaries(demo_dir, page, tmp_path, monkeypatch, source):
    if source == "shared":
        if not SHARED_GEO.exists():
            pytest.skip("../shared/geo not present")
        path = SHARED_GEO
    else:
        path = _small_geojson(tmp_path / "kec.geojson")
    monkeypatch.setenv("PANTAU_BOUNDARY_GEOJSON", str(path))
    at = page("peta", "pimpinan")
    assert not at.exception and not at.warning
    fig = figure(at)
    trace = next(t for t in fig["data"] if t.get("name") == "Cakupan ASN")
    assert trace["type"] == "choropleth"
    assert trace["featureidkey"] == "properties.nama"
    geo_names = {f["properties"]["nama"] for f in trace["geojson"]["features"]}
    assert set(trace["locations"]) == geo_names
    names = next(t for t in fig["data"] if t.get("name") == "Nama kecamatan")
    assert len(names["text"]) == 18  # a kecamatan the file lacks is still named, at its centroid
    if source == "shared":
        assert len(geo_names) == 18
    else:
        assert geo_names == {"Bangkalan", "Kamal", "Modung"}
        loose = next(t for t in fig["data"] if t.get("name") == "Kecamatan tanpa batas")
        assert len(loose["lat"]) == 15


def test_map_bad_boundary_file(demo_dir, page, tmp_path, monkeypatch):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    monkeypatch.setenv("PANTAU_BOUNDARY_GEOJSON", str(bad))
    at = page("peta", "pimpinan")
    at.segmented_control(key="peta_view").set_value("Per kecamatan").run()
    assert not at.exception
    assert "batas kecamatan bawaan" in at.warning[0].value
    assert next(t for t in figure(at)["data"] if t.get("name") == "Cakupan ASN")["type"] == "choropleth"

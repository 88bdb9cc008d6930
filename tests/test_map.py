"""The offline map: the shipped boundaries, the figures (every kecamatan named, the lagging OPDs
named, labels that do not cover each other, nothing fetched from a server) and the page's
views with their drill-down and filter. The map drawn in Chromium: tests/test_browser_map.py."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from sqlalchemy import update

from data_access import boundaries, domain
from data_access import queries as q
from data_access.models import Opd
from data_access.registry import KECAMATAN_CENTROIDS
from tests.helpers import figure, load_small

START, END = date(2022, 1, 10), date(2022, 1, 14)


def _labels(fig, name: str):
    return next(t for t in fig.data if t.name == name)


def _overlap(frame, trace, font: float) -> float:
    """The largest overlap (px²) between two labels of a trace, at the map's narrowest width."""
    x, y = frame.to_xy(np.asarray(trace.lon, dtype=float), np.asarray(trace.lat, dtype=float))
    sizes = [boundaries.text_box(t, font) for t in trace.text]
    worst = 0.0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            ox = (sizes[i][0] + sizes[j][0]) / 2 - abs(x[i] - x[j])
            oy = (sizes[i][1] + sizes[j][1]) / 2 - abs(y[i] - y[j])
            if ox > 0 and oy > 0:
                worst = max(worst, ox * oy)
    return worst


def _frame(fig):
    from ui import charts

    geo = fig.layout.geo  # the view: the labels' box, for the town with a margin around it
    pad = charts.TOWN_VIEW_PAD if "Kota Bangkalan" in fig.layout.title.text else 0.0
    (x0, x1), (y0, y1) = geo.lonaxis.range, geo.lataxis.range
    f = pad / (1 + 2 * pad)
    dx, dy = (x1 - x0) * f, (y1 - y0) * f
    return charts._frame((x0 + dx, y0 + dy, x1 - dx, y1 - dy), pad=pad)


# ---------------------------------------------------------------- the boundaries
def test_shipped_boundaries_are_the_default():
    b = boundaries.load()
    assert b.shipped and b.source == "bawaan"
    assert set(b.kecamatan) == set(KECAMATAN_CENTROIDS) and len(b.kecamatan) == 18
    assert b.outline, "the regency outline"
    assert boundaries.configured_file(None) == boundaries.DEFAULT_FILE
    for notice in ("SOURCE.md", "LICENSE-wilayah_boundaries.txt"):  # the MIT notice ships beside the data
        assert (boundaries.GEO_DIR / notice).is_file()
    assert "Copyright (c) 2024 Cahya DSN" in (boundaries.GEO_DIR / "LICENSE-wilayah_boundaries.txt").read_text()
    x0, y0, x1, y1 = b.bbox()
    assert 112.6 < x0 < x1 < 113.2 and -7.3 < y0 < y1 < -6.8
    # every label point lies inside its own kecamatan
    for name, (lon, lat) in b.label_points.items():
        rings = [np.array(r) for r in b.kecamatan[name]]
        assert boundaries._inside(lon, lat, rings), name


def test_a_users_file_replaces_them(tmp_path):
    feats = [
        {"type": "Feature", "properties": {"nama": "KEC. BANGKALAN"},
         "geometry": {"type": "Polygon", "coordinates": [[[112.70, -7.0], [112.8, -7.0], [112.8, -7.1], [112.7, -7.1],
                                                          [112.70, -7.0]]]}},
        {"type": "Feature", "properties": {"nama": "kamal"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[[[112.7, -7.1], [112.8, -7.1], [112.8, -7.2],
                                                                 [112.7, -7.1]]]]}},
        {"type": "Feature", "properties": {"nama": "Atlantis"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
    ]
    path = tmp_path / "resmi.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    b = boundaries.load(boundaries.configured_file(path))
    assert not b.shipped and b.source == str(path)
    assert set(b.kecamatan) == {"Bangkalan", "Kamal"}  # names matched to the registry, the stranger left out
    assert b.outline == []
    lon, lat = b.label_points["Bangkalan"]
    assert lon == pytest.approx(112.75) and lat == pytest.approx(-7.05)


@pytest.mark.parametrize("content, message", [
    ("{not json", "bukan GeoJSON"),
    ('{"type": "Feature"}', "bukan FeatureCollection"),
    ('{"type": "FeatureCollection", "features": []}', "tidak memuat kecamatan"),
])
def test_unusable_files_are_refused_in_words(tmp_path, content, message):
    path = tmp_path / "batas.geojson"
    path.write_text(content)
    with pytest.raises(boundaries.BoundaryError, match=message):
        boundaries.load(path)
    with pytest.raises(boundaries.BoundaryError, match="tidak dapat dibaca"):
        boundaries.load(tmp_path / "tidak-ada.geojson")


def test_labels_are_placed_apart():
    rng = np.random.default_rng(3)
    anchors = 150 + rng.normal(0, 25, size=(25, 2))  # a crowded town in a 300 px square
    sizes = np.tile([60.0, 14.0], (25, 1))
    centres, moved = boundaries.place_labels(anchors, sizes, obstacles=anchors, obstacle_radius=5, width=300,
                                             height=300)
    for i in range(25):
        assert 0 <= centres[i, 0] - 30 and centres[i, 0] + 30 <= 300 and 0 <= centres[i, 1] - 7 <= 300 - 14
        for j in range(i + 1, 25):
            assert (abs(centres[i, 0] - centres[j, 0]) >= 60 or abs(centres[i, 1] - centres[j, 1]) >= 14), (i, j)
    assert moved.any()
    # a lone label stays on its anchor when centred
    c, m = boundaries.place_labels(np.array([[50.0, 50.0]]), np.array([[20.0, 10.0]]), width=100, height=100,
                                   centred=True)
    assert c.tolist() == [[50.0, 50.0]] and not m[0]


def test_coverage_colours():
    assert boundaries.coverage_rgb(0) == (0xC6, 0x28, 0x28)
    assert boundaries.coverage_rgb(1) == (0x1B, 0x5E, 0x20)
    assert boundaries.coverage_rgb(None) == boundaries.coverage_rgb(float("nan")) == (0xE0, 0xE0, 0xE0)


# ---------------------------------------------------------------- the figures
def test_kecamatan_map_writes_every_name_and_percentage(sqlite_engine):
    from ui import charts

    load_small(sqlite_engine)
    df = q.kecamatan_summary(engine=sqlite_engine, start=START, end=END)
    fig = charts.build_kecamatan_map(df, boundaries.load())
    choro = next(t for t in fig.data if t.type == "choropleth" and t.name == "Cakupan ASN")
    assert sorted(choro.locations) == sorted(KECAMATAN_CENTROIDS)
    names = _labels(fig, "Nama kecamatan")
    assert names.mode == "text" and len(names.text) == 18
    by_name = {t.split("</b>")[0].removeprefix("<b>"): t for t in names.text}
    assert set(by_name) == set(KECAMATAN_CENTROIDS)
    cov = dict(zip(df["kecamatan"], df["coverage"]))
    from data_access.fmt import fmt_pct

    for k, text in by_name.items():
        assert text.endswith("<br>" + fmt_pct(cov[k])), text
    assert "%" in by_name["Bangkalan"] and "," in by_name["Bangkalan"]  # Indonesian decimal comma
    bar = choro.colorbar
    assert bar.title.text == "Cakupan ASN" and "80% (target)" in bar.ticktext
    assert any(t.name == "Batas kabupaten" and t.mode == "lines" for t in fig.data)
    # drawn with no server: base layers off, no URL anywhere in the figure, an inline topojson
    assert fig.layout.geo.visible is False
    assert "http" not in fig.to_json()
    assert charts.MAP_CONFIG["topojsonURL"].startswith("data:application/json,")
    assert _overlap(_frame(fig), names, 11) < 1.0


def test_opd_maps_show_every_office_and_name_the_lagging(demo_dir):
    from data_access.db import make_engine
    from ui import charts

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    rng = q.data_range(engine=engine)
    ov = q.opd_overview(engine=engine, start=rng[0], end=rng[1])
    engine.dispose()
    b = boundaries.load()
    behind = set(ov.loc[domain.behind(ov), "short_name"])
    assert behind  # in this small demo every office lags: all 35 in town are named

    def markers(fig):
        return [c[0] for t in fig.data if t.type == "scattergeo" and t.mode == "markers" for c in t.customdata]

    def named(trace):
        return {t.replace("<br>", " ") for t in trace.text}

    whole = charts.build_opd_map(ov, b)
    assert sorted(markers(whole)) == sorted(ov["code"])  # every OPD, the town's small
    rural = ov[ov["kecamatan"] != charts.TOWN_KECAMATAN]
    labels = _labels(whole, "Nama OPD tertinggal")
    assert named(labels) == set(rural.loc[domain.behind(rural), "short_name"]) | {
        f"<b>Kota Bangkalan</b> {int((ov['kecamatan'] == 'Bangkalan').sum())} OPD: lihat perbesaran"}
    town = charts.build_town_map(ov, b)
    in_town = ov[ov["kecamatan"] == charts.TOWN_KECAMATAN]
    assert len(in_town) == 35 and sorted(markers(town)) == sorted(in_town["code"])
    labels = _labels(town, "Nama OPD tertinggal")
    assert named(labels) == set(in_town.loc[domain.behind(in_town), "short_name"])
    assert _overlap(_frame(town), labels, 10) < 1.0  # readable on a phone: no label covers another
    # the legend says what the shapes mean, in Bahasa Indonesia
    assert {t.name for t in whole.data if t.showlegend is not False and t.mode == "markers"} == {
        "QR dicetak (warna: cakupan ASN)", "Belum mencetak QR"}


def test_map_hover_says_approximate_and_names_are_plain_text(sqlite_engine):
    from ui import charts

    with sqlite_engine.begin() as conn:
        conn.execute(update(Opd).where(Opd.code == "DISKOMINFO").values(location_approx=False))
        conn.execute(update(Opd).where(Opd.code == "DISDIK").values(
            short_name="<a href='http://contoh.invalid'>klik</a>"))
    ov = q.opd_overview(engine=sqlite_engine, start=START, end=END)
    fig = charts.build_town_map(ov, boundaries.load())
    pts = {c[0]: (c, t) for tr in fig.data if tr.type == "scattergeo" and tr.mode == "markers"
           for c, t in zip(tr.customdata, tr.text)}
    assert pts["DISKOMINFO"][1] == "" and pts["DISDIK"][1] == "<br><i>Lokasi perkiraan</i>"
    text = " ".join(_labels(fig, "Nama OPD tertinggal").text)
    assert "&lt;a" in text and "&lt;/a&gt;" in text and "<a " not in text


# ---------------------------------------------------------------- the page
def _panel_texts(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_page_opens_per_kecamatan_and_applies_a_click_as_filter(demo_dir, page):
    at = page("peta", "pimpinan")
    assert not at.exception and not at.warning
    fig = figure(at)
    assert [t["type"] for t in fig["data"]][:2] == ["choropleth", "choropleth"]
    names = next(t for t in fig["data"] if t.get("name") == "Nama kecamatan")
    assert len(names["text"]) == 18
    assert any("Klik kecamatan" in i.value for i in at.info)
    # what the map's click leaves behind (the browser test clicks for real)
    at.session_state["peta_pick_kecamatan"] = ("kecamatan", "Geger")
    at.run()
    assert "Kec. Geger" in _panel_texts(at) and "Cakupan ASN:" in _panel_texts(at)
    at.button(key="peta_apply_kecamatan").click().run()
    assert not at.exception
    assert at.session_state["kecamatan"] == ["Geger"]
    assert at.multiselect(key="kecamatan").value == ["Geger"]
    fig = figure(at)
    choro = next(t for t in fig["data"] if t.get("name") == "Cakupan ASN")
    assert choro["locations"] == ["Geger"]  # the map now shows the filter


def test_page_per_opd_drills_down_to_an_office(demo_dir, page):
    at = page("peta", "pimpinan")
    at.segmented_control(key="peta_view").set_value("Per OPD").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # the regency and the town
    at.session_state["peta_pick_opd"] = ("opd", "DISKOMINFO")
    at.run()
    text = _panel_texts(at)
    assert "Dinas Komunikasi dan Informatika" in text or "Diskominfo" in text
    at.button(key="peta_apply_opd").click().run()
    assert not at.exception
    assert at.session_state["opd"] == ["DISKOMINFO"]
    assert at.multiselect(key="opd").value == ["DISKOMINFO"]


def test_page_with_a_bad_boundary_file_uses_the_shipped_one(demo_dir, page, tmp_path, monkeypatch):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    monkeypatch.setenv("PANTAU_BOUNDARY_GEOJSON", str(bad))
    at = page("peta", "pimpinan")
    assert not at.exception
    assert "batas kecamatan bawaan" in at.warning[0].value
    assert len(next(t for t in figure(at)["data"] if t.get("name") == "Nama kecamatan")["text"]) == 18

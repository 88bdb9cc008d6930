"""Refusal trends: figures against hand-computed values on all databases, the page through AppTest."""
from __future__ import annotations

from datetime import date

import pytest

from data_access import queries as q
from tests.helpers import figure, load_small, opd_id, scans

JAN10, JAN16 = date(2022, 1, 10), date(2022, 1, 16)
EXTRA = [
    ("DISKOMINFO", "2022-01-11 09:30", "pengunjung", "kuning", "ditolak", "v2"),
    ("DISKOMINFO", "2022-01-11 09:40", "pengunjung", "kuning", "diterima", "v3"),
    ("DINKES", "2022-01-11 10:15", "pengunjung", "merah", "ditolak", "v4"),
]


@pytest.fixture
def refusal_data(engine):
    load_small(engine)
    assert scans(engine, EXTRA) == 3
    return engine, [opd_id(engine, "DISKOMINFO"), opd_id(engine, "DINKES")]


def test_refusal_figures(refusal_data):
    engine, ids = refusal_data
    kw = dict(engine=engine, start=JAN10, end=JAN16, opd_ids=ids)
    d = q.refusals_daily(**kw).set_index("day")
    # 10 Jan: 7 check-ins, refused v1 (merah) and b2 (hitam); 11 Jan: 4 check-ins, v2 kuning and v4 merah refused
    assert d.loc["2022-01-10", ["checkins", "refused", "merah", "hitam", "kuning"]].tolist() == [7, 2, 1, 1, 0]
    assert d.loc["2022-01-11", ["checkins", "refused", "merah", "hitam", "kuning"]].tolist() == [4, 2, 1, 0, 1]
    assert d.loc["2022-01-15", "refused"] == 0
    by_opd = q.refusals_by_opd(**kw).set_index("short_name")
    assert by_opd.loc["Diskominfo", ["checkins", "refused", "merah"]].tolist() == [8, 2, 1]
    assert by_opd.loc["Dinas Kesehatan", "rate"] == pytest.approx(2 / 4)
    vt = q.refusals_by_visitor_type(**kw).set_index("visitor_type")
    assert vt.loc["asn", ["checkins", "refused", "hitam"]].tolist() == [8, 1, 1]
    assert vt.loc["pengunjung", ["checkins", "refused", "merah", "kuning"]].tolist() == [4, 3, 2, 1]
    heat = q.refusal_heatmap(**kw).set_index(["dow", "hour"])
    assert heat.loc[(0, 9), "refused"] == 1  # Monday 09.00 WIB: v1
    assert heat.loc[(1, 10), "refused"] == 1  # Tuesday 10.00: v4
    assert heat.loc[(5, 8), "checkins"] == 1 and heat.loc[(5, 8), "refused"] == 0  # Saturday
    m = q.merah_by_kecamatan(**kw)
    assert m.to_dict("records") == [{"kecamatan": "Bangkalan", "week": m["week"].iloc[0], "merah": 2}]
    assert m["week"].iloc[0].date() == JAN10


def test_refusal_page(demo_dir, page):
    at = page("penolakan", "satpolpp")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Check-in ditolak", "Tingkat penolakan", "Ditolak: merah", "Ditolak: hitam"]
    n_charts = len(at.get("plotly_chart"))
    assert n_charts == 6
    trend = figure(at, 0)
    assert [t["name"] for t in trend["data"]] == ["Ditolak: Merah", "Ditolak: Hitam", "Ditolak: Kuning"]
    refused_total = sum(sum(t["y"]) for t in trend["data"])
    assert f"{int(refused_total):,}".replace(",", ".") == at.metric[0].value
    assert any(s.get("line", {}).get("dash") == "dash" for s in trend["layout"].get("shapes", []))  # Surat Edaran
    # every chart's table downloads
    assert len(at.get("download_button")) == 2 * 5
    at.segmented_control(key="penolakan_measure").set_value("Persentase").run()
    rate = figure(at, 0)
    assert max(max(v for v in t["y"] if v is not None) for t in rate["data"]) < 1
    at.number_input(key="penolakan_min_volume").set_value(10_000_000).run()
    assert any("Tidak ada OPD dengan sedikitnya" in i.value for i in at.info)


def test_refusal_page_follows_filters(demo_dir, page):
    at = page("penolakan", "pimpinan", query={"opd": "RSUD Syamrabu"})
    assert not at.exception
    top = figure(at, 1)
    assert top["data"][0]["y"] == ["RSUD Syamrabu"]

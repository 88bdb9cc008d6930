"""Figure builders: DataFrame in, finished plotly figure out. No Streamlit import here."""
from __future__ import annotations

import html
from urllib.parse import quote

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from data_access import domain
from data_access.boundaries import COVERAGE_SCALE, Boundaries, Frame, padded, place_labels, text_box
from data_access.calendar import SURAT_EDARAN_DATE
from data_access.domain import COVERAGE_TARGET, STAGE_LABELS, STAGES
from data_access.fmt import MONTHS, MONTHS_SHORT, fmt_int, fmt_pct
from data_access.registry import HOME_REGENCY

# One palette for the status colours everywhere.
STATUS_COLORS = {"hijau": "#2e7d32", "kuning": "#f9a825", "merah": "#c62828", "hitam": "#212121"}
STATUS_LABELS = {"hijau": "Hijau", "kuning": "Kuning", "merah": "Merah", "hitam": "Hitam"}
# one colour per onboarding stage, in the domain's order: grey, light to dark blue, green
STAGE_COLORS = dict(zip(STAGES, ("#9e9e9e", "#90caf9", "#42a5f5", "#1565c0", "#2e7d32"), strict=True))
PRIMARY = "#1565c0"
SECONDARY = "#c62828"

# Every figure must read on a 390 px phone (a chart about 350 px wide) as well as on a desktop:
# - the title sits below a strip kept free for plotly's toolbar (always shown on a touch
#   screen), and wraps to lines of TITLE_CHARS characters;
# - the legend sits at the bottom of the figure, under the axis labels, never over them;
# - a date axis has at most MAX_DATE_TICKS short labels; long category names are shortened on
#   the axis and in legends (the whole name stays in the hover text).
MODEBAR_SPACE = 34  # px above the title (the toolbar is 25 px high, 2 px from the top)
TITLE_SIZE = 16
TITLE_LINE = 21  # px per title line
SUBTITLE_LINE = 16
TITLE_CHARS = 38
ABOVE_PLOT = 22  # px between the title and the plot: room for a note such as "Surat Edaran 5 Jan 2022"
LEGEND_ROW = 22  # px per row of legend entries
MAX_DATE_TICKS = 6
LABEL_CHARS = 24  # a category name on an axis
LEGEND_CHARS = 20  # a name in a legend

LAYOUT = dict(
    template="plotly_white",
    separators=",.",  # Indonesian: decimal comma, thousands dot
    legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.005, xanchor="left", x=0,
                font=dict(size=12), itemsizing="constant"),
    hoverlabel=dict(namelength=-1),
    font=dict(family="Source Sans Pro, sans-serif"),
    modebar=dict(bgcolor="rgba(255,255,255,0.8)"),
)
_MAP_LAYOUT = {**LAYOUT, "margin": dict(l=10, r=10, t=60, b=10),
               "legend": dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0)}


def _lines(text: str | None, width: int) -> list[str]:
    """Words of `text` in lines of at most `width` characters (a longer word keeps its own line)."""
    lines: list[str] = []
    for word in str(text or "").split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def short(name: str, width: int = LABEL_CHARS) -> str:
    """A name cut to `width` characters with an ellipsis (for an axis or a legend)."""
    name = str(name)
    return name if len(name) <= width else name[: width - 1].rstrip() + "…"


def legend_rows(n: int, per_row: int = 3) -> int:
    """Rows a legend of n entries takes on a phone (about three short entries to a row)."""
    return -(-n // per_row) if n > 1 else (1 if n == 1 else 0)


def _finish(fig: go.Figure, title: str, *, height: int = 380, subtitle: str | None = None,
            legend: int | None = None) -> go.Figure:
    """Title (wrapped, below the toolbar strip), size, margins, the shared layout. `legend`: rows
    the legend takes on a phone (default: one per three traces shown in it); the figure grows by
    what the title and the legend take, so the plot keeps its height."""
    if any(t.type in ("choropleth", "scattergeo") for t in fig.data):  # the maps set their own margins
        fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height, **_MAP_LAYOUT)
        return fig
    lines = _lines(title, TITLE_CHARS)
    sub = _lines(subtitle, TITLE_CHARS + 14)
    top = MODEBAR_SPACE + TITLE_LINE * max(len(lines), 1) + SUBTITLE_LINE * len(sub) + ABOVE_PLOT
    if legend is None:
        legend = legend_rows(sum(1 for t in fig.data if t.showlegend is not False and t.name))
    bottom = 10 + LEGEND_ROW * legend + (8 if legend else 0)
    extra = top - 60 + bottom - 10
    # plotly centres a title of several lines on its anchor: the anchor moves down by half of the extra lines
    pad = MODEBAR_SPACE + round(TITLE_LINE * 0.6 * (len(lines) - 1))
    fig.update_layout(
        title=dict(text="<br>".join(lines), x=0, xanchor="left", xref="container", y=1, yref="container",
                   yanchor="top", pad=dict(t=pad, l=4), font=dict(size=TITLE_SIZE)),
        height=height + max(extra, 0), margin=dict(l=10, r=10, t=top, b=bottom), **LAYOUT,
    )
    if sub:
        fig.update_layout(title_subtitle=dict(text="<br>".join(sub), font=dict(size=12)))
    return fig


def _date_axis(fig: go.Figure, days: pd.Series) -> None:
    """Indonesian month names on a date axis (plotly's own would be English), at most
    MAX_DATE_TICKS of them, short enough for a phone: '10 Jan' for weeks; 'Feb' for months,
    with the year under the first month and under each January."""
    if days.empty:
        return
    lo, hi = pd.Timestamp(days.min()), pd.Timestamp(days.max())
    span = (hi - lo).days
    if span > 62:
        months = pd.date_range(lo.to_period("M").to_timestamp(), hi, freq="MS")
        step = -(-len(months) // MAX_DATE_TICKS)
        ticks = months[::step]
        text = [f"{MONTHS_SHORT[t.month - 1]}<br>{t.year}" if i == 0 or t.month <= step else MONTHS_SHORT[t.month - 1]
                for i, t in enumerate(ticks)]
    else:
        weeks = pd.date_range(lo, hi, freq="7D")
        step = -(-len(weeks) // MAX_DATE_TICKS)
        ticks = weeks[::step]
        text = [f"{t.day} {MONTHS_SHORT[t.month - 1]}" for t in ticks]
    fig.update_xaxes(tickvals=list(ticks), ticktext=text, tickangle=0)


def mark_surat_edaran(fig: go.Figure, days: pd.Series | None = None) -> None:
    """A dashed line on 5 January 2022, when it lies inside the shown range."""
    se = pd.Timestamp(SURAT_EDARAN_DATE)
    if days is not None and not days.empty and (se < pd.Timestamp(days.min()) - pd.Timedelta(days=7)
                                                 or se > pd.Timestamp(days.max())):
        return
    fig.add_shape(type="line", x0=se, x1=se, y0=0, y1=1, yref="paper", line=dict(dash="dash", color="#616161"))
    fig.add_annotation(x=se, y=1, yref="paper", text="Surat Edaran 5 Jan 2022", showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=11, color="#616161"))


def build_onboarding_progress(df: pd.DataFrame, *, total_opds: int, whole: str = "Semua OPD") -> go.Figure:
    """Cumulative OPDs with a printed QR, and OPDs active (a check-in in the last 7 days).
    `whole` names the line of `total_opds` (all OPDs, or those in the filter)."""
    fig = go.Figure()
    fig.add_scatter(x=df["day"], y=df["qr_printed"], mode="lines", name="QR dicetak", line=dict(color=PRIMARY, width=3),
                    hovertemplate="%{x|%-d %B %Y}: %{y} OPD<extra>QR dicetak</extra>")
    fig.add_scatter(x=df["day"], y=df["active"], mode="lines", name="Aktif (7 hari)",
                    line=dict(color=STATUS_COLORS["hijau"], width=2),
                    hovertemplate="%{x|%-d %B %Y}: %{y} OPD<extra>Aktif</extra>")
    fig.add_hline(y=total_opds, line=dict(color="#9e9e9e", dash="dot"),
                  annotation_text=f"{whole} ({total_opds})", annotation_position="top right")
    fig.update_yaxes(title="Jumlah OPD", rangemode="tozero")
    if total_opds <= 10:  # a count of a few OPDs: whole numbers on the axis, not 0,2 / 0,4
        fig.update_yaxes(dtick=1)
    mark_surat_edaran(fig, df["day"])
    _date_axis(fig, df["day"])
    return _finish(fig, "Kemajuan onboarding sejak Surat Edaran")


def build_daily_checkins(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=df["day"], y=df["checkins"] - df["refused"], name="Diterima", marker_color=PRIMARY,
                hovertemplate="%{x|%-d %B %Y}: %{y:,} diterima<extra></extra>")
    fig.add_bar(x=df["day"], y=df["refused"], name="Ditolak", marker_color=SECONDARY,
                hovertemplate="%{x|%-d %B %Y}: %{y:,} ditolak<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="Check-in per hari", tickformat=",d")
    mark_surat_edaran(fig, df["day"])
    _date_axis(fig, df["day"])
    return _finish(fig, "Check-in per hari")


def build_coverage_bar(df: pd.DataFrame, *, target: float = COVERAGE_TARGET,
                       title: str = "Cakupan ASN per OPD (urut)") -> go.Figure:
    """Ranked horizontal bars of ASN coverage per OPD, coloured by stage. OPDs without data
    get a grey marker and the label 'tanpa data' instead of being left out; a printed QR
    without check-ins in the active window is marked 'sepi', an anomaly is named. With a
    `position` column (a long ranking's ends), the hover says each OPD's place in it."""
    d = df.sort_values("coverage", ascending=True, na_position="first")
    d = d.assign(_note=_bar_notes(d))
    fig = go.Figure()
    for stage, label in STAGE_LABELS.items():
        part = d[d["stage"] == stage]
        if part.empty:
            continue
        fig.add_bar(
            y=part["short_name"], x=part["coverage"].fillna(0), orientation="h", name=label,
            marker_color=STAGE_COLORS[stage],
            text=[("tanpa data" if c == 0 or pd.isna(c) else f"{c * 100:.0f}%".replace(".", ",")) + note
                  for c, note in zip(part["coverage"], part["_note"])],
            textposition="outside",
            customdata=list(zip(part["checkins"], [f"Peringkat {fmt_int(p)}<br>" for p in part["position"]]
                                if "position" in part else [""] * len(part))),
            hovertemplate="%{y}<br>%{customdata[1]}Cakupan ASN %{x:.1%}<br>%{customdata[0]:,} check-in<extra>"
                          + label + "</extra>",
        )
    fig.add_vline(x=target, line=dict(color=SECONDARY, dash="dash"),
                  annotation_text=f"Target {int(target * 100)}%", annotation_position="top")
    fig.update_xaxes(title="Cakupan ASN", tickformat=".0%", range=[0, 1.1])
    fig.update_yaxes(categoryorder="array", categoryarray=list(d["short_name"]), title=None,
                     tickvals=list(d["short_name"]), ticktext=[short(n) for n in d["short_name"]])
    fig.update_layout(barmode="overlay")
    return _finish(fig, title, height=max(380, 22 * len(d) + 120))


def _bar_notes(df: pd.DataFrame) -> list[str]:
    """A short note after an OPD's coverage: quiet, or the anomaly."""
    if "qr_printed" not in df:
        return [""] * len(df)
    quiet = domain.quiet(df)
    return [f" · {a}" if isinstance(a, str) else (" · sepi" if q else "") for a, q in zip(df["anomaly"], quiet)]


def build_coverage_weekly(df: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    fig = go.Figure()
    for opd_id, part in df.groupby("opd_id", sort=False):
        is_total = opd_id == 0
        name = "Seluruh pilihan" if is_total else names.get(opd_id, str(opd_id))
        fig.add_scatter(
            x=part["week"], y=part["coverage"], mode="lines+markers" if is_total else "lines",
            name=short(name, LEGEND_CHARS), meta=name,
            line=dict(width=4 if is_total else 1.5, color="#212121" if is_total else None),
            hovertemplate="Pekan %{x|%-d %B %Y}: %{y:.1%}<extra>%{meta}</extra>",
        )
    fig.add_hline(y=COVERAGE_TARGET, line=dict(color=SECONDARY, dash="dash"))
    fig.update_yaxes(title="Cakupan ASN", tickformat=".0%", rangemode="tozero")
    mark_surat_edaran(fig, df["week"])
    _date_axis(fig, df["week"])
    return _finish(fig, "Cakupan ASN per pekan")


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, "", height=200)


# ---------------------------------------------------------------- map
# The maps are drawn on plotly's geo subplot with its base layers off: the kecamatan outlines
# come from data_access.boundaries, the names are SVG text, so nothing is fetched from a tile,
# font or topojson server and the map reads the same on a closed network.
# plotly.js asks for a world topojson before it draws a geo subplot holding a choropleth, even
# with every base layer off: the pages hand it an empty one inline, so nothing is fetched (the
# '#' keeps the file name plotly appends out of the data).
EMPTY_TOPOJSON_URL = "data:application/json," + quote('{"type":"Topology","objects":{},"arcs":[]}') + "#"
# plotly's own words (the toolbar's tooltips, its date formats) in Bahasa Indonesia: passed with
# every chart (plotly.js config "locales": no script to fetch, nothing registered globally)
PLOT_LOCALE = {
    "dictionary": {
        "Download plot as a png": "Unduh grafik sebagai PNG",
        "Download plot as a PNG": "Unduh grafik sebagai PNG",  # Streamlit's own button
        "Fullscreen": "Layar penuh",
        "Exit fullscreen": "Keluar dari layar penuh",
        "Download plot": "Unduh grafik",
        "Zoom": "Perbesar area",
        "Pan": "Geser",
        "Box Select": "Pilih dengan kotak",
        "Lasso Select": "Pilih dengan laso",
        "Zoom in": "Perbesar",
        "Zoom out": "Perkecil",
        "Autoscale": "Skala otomatis",
        "Reset axes": "Kembalikan sumbu",
        "Reset view": "Kembalikan tampilan",
        "Reset": "Kembalikan",
        "Toggle Spike Lines": "Garis bantu",
        "Show closest data on hover": "Tampilkan data terdekat",
        "Compare data on hover": "Bandingkan data",
        "Produced with Plotly.js": "Dibuat dengan Plotly.js",
        "Double-click to zoom back out": "Klik dua kali untuk kembali",
        "Snapshot succeeded": "Gambar berhasil dibuat",
        "Taking snapshot - this may take a few seconds": "Membuat gambar, mungkin perlu beberapa detik",
        "Sorry, there was a problem downloading your snapshot!": "Maaf, gambar gagal diunduh.",
    },
    "format": {
        "days": ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
        "shortDays": ["Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"],
        "months": list(MONTHS),
        "shortMonths": list(MONTHS_SHORT),
        "date": "%d/%m/%Y",
        "decimal": ",",
        "thousands": ".",
    },
}
PLOT_CONFIG = {"locale": "id", "locales": {"id": PLOT_LOCALE}}
MAP_CONFIG = {**PLOT_CONFIG, "scrollZoom": False, "displayModeBar": False, "topojsonURL": EMPTY_TOPOJSON_URL}
MAP_MIN_WIDTH = 330  # px of a map at its narrowest (a 390 px phone): labels are placed for it
TOWN_KECAMATAN = "Bangkalan"  # the kecamatan of the town where most offices stand (of HOME_REGENCY)
MAP_INK = "#263238"
MAP_BORDER = "#90a4ae"
MAP_LAND = "#eceff1"
NO_QR_COLOR = STATUS_COLORS["hitam"]
_HALO = "0 0 2px #ffffff, 0 0 3px #ffffff, 0 0 4px #ffffff"


def _home(df: pd.DataFrame) -> pd.Series:
    """The rows of HOME_REGENCY (Bangkalan), whose kecamatan the boundaries outline: another
    regency's kecamatan of the same name (a province's) is not drawn in its outline."""
    return df["kabupaten"] == HOME_REGENCY if "kabupaten" in df else pd.Series(True, index=df.index)


def _in_town(df: pd.DataFrame) -> pd.Series:
    return (df["kecamatan"] == TOWN_KECAMATAN) & _home(df)


def coverage_colorscale():
    return [[p, c] for p, c in COVERAGE_SCALE]


def _coverage_colorbar(title: str = "Cakupan ASN") -> dict:
    ticks = [0, 0.2, 0.4, 0.6, COVERAGE_TARGET, 1]
    text = [fmt_pct(t, 0) + (" (target)" if t == COVERAGE_TARGET else "") for t in ticks]
    return dict(title=dict(text=title, side="top"), orientation="h", x=0, xanchor="left", y=0, yanchor="top",
                len=1, lenmode="fraction", thickness=10, tickvals=ticks, ticktext=text, outlinewidth=0)


def _plain(text) -> str:
    """A name as literal text in a plotly label or hover (plotly reads <a>, <b>, <br> in them)."""
    return html.escape(str(text), quote=False)


def _wrap(name: str, width: int = 16, lines_max: int = 3) -> str:
    """A short name over at most `lines_max` lines for a map label (escaped)."""
    words, lines = _plain(name).split(), [""]
    for w in words:
        if lines[-1] and len(lines[-1]) + 1 + len(w) > width and len(lines) < lines_max:
            lines.append(w)
        else:
            lines[-1] = f"{lines[-1]} {w}".strip()
    return "<br>".join(lines)


# plotly fits a small lon/lat range (the town's) a few per cent larger than its area, cutting the
# edges off: that map shows this much more on every side than the box its labels are kept in
TOWN_VIEW_PAD = 0.06


def _geo(frame: Frame, pad: float = 0.0) -> dict:
    """The geo subplot showing a frame (and `pad` around it), with no base layer."""
    x0, y0, x1, y1 = padded((frame.lon_min, frame.lat_min, frame.lon_max, frame.lat_max), pad)
    return dict(visible=False, projection=dict(type="mercator"), showframe=False, bgcolor="rgba(0,0,0,0)",
                lonaxis=dict(range=[x0, x1]), lataxis=dict(range=[y0, y1]), domain=dict(x=[0, 1], y=[0, 1]))


def _frame(bbox, *, width: float = MAP_MIN_WIDTH, aspect: float | None = None, pad: float = 0.0) -> Frame:
    """The box the labels are kept in, measured in px as it shows when the whole map (the box and
    `pad` around it) is `width` px wide, its narrowest; `aspect` (height ÷ width) stretches the
    box north and south."""
    x0, y0, x1, y1 = bbox
    k = np.cos(np.radians((y0 + y1) / 2))
    if aspect is not None:
        mid, half = (y0 + y1) / 2, (x1 - x0) * k * aspect / 2
        y0, y1 = mid - half, mid + half
    width = width / (1 + 2 * pad)
    height = width * ((y1 - y0) / k) / (x1 - x0)
    return Frame(x0, y0, x1, y1, width, height)


def _rings_xy(rings) -> tuple[list, list]:
    lon, lat = [], []
    for ring in rings:
        pts = list(ring) + [ring[0]]
        lon += [p[0] for p in pts] + [None]
        lat += [p[1] for p in pts] + [None]
    return lon, lat


def _add_land(fig: go.Figure, bounds: Boundaries, *, fill: str = MAP_LAND) -> None:
    """The regency and every kecamatan in a plain colour (not hoverable): the ground under the
    coloured kecamatan, also where a coarse file leaves slivers between them."""
    gj = bounds.geojson()
    names = list(bounds.kecamatan)
    if bounds.outline:
        gj["features"].insert(0, {"type": "Feature", "id": "_kabupaten", "properties": {"nama": "_kabupaten"},
                                  "geometry": {"type": "MultiPolygon",
                                               "coordinates": [[[list(p) for p in r]] for r in bounds.outline]}})
        names.insert(0, "_kabupaten")
    fig.add_choropleth(geojson=gj, locations=names, featureidkey="properties.nama", z=[0] * len(names),
                       colorscale=[[0, fill], [1, fill]], showscale=False, hoverinfo="skip",
                       marker=dict(line=dict(width=0.8, color=MAP_BORDER)), name="Kecamatan", showlegend=False)


def _add_outline(fig: go.Figure, bounds: Boundaries) -> None:
    if not bounds.outline:
        return
    lon, lat = _rings_xy(bounds.outline)
    fig.add_scattergeo(lon=lon, lat=lat, mode="lines", line=dict(width=2.2, color=MAP_INK), hoverinfo="skip",
                       name="Batas kabupaten", showlegend=False)


def _add_labels(fig: go.Figure, frame: Frame, lon, lat, texts, *, font: int, obstacles=None, radius=5.0,
                centred: bool = False, color: str = MAP_INK, name: str = "Nama", regions=None,
                first: int | None = None) -> None:
    """Names written on the map where they cover nothing else; a thin line joins a label that had
    to move to its place."""
    if not len(texts):
        return
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    ax, ay = frame.to_xy(lon, lat)
    anchors = np.column_stack([ax, ay])
    sizes = np.array([text_box(t, font) for t in texts])
    obs = None
    if obstacles is not None and len(obstacles[0]):
        ox, oy = frame.to_xy(*obstacles)
        obs = np.column_stack([ox, oy])
    px_regions = None
    if regions is not None:
        px_regions = [[np.column_stack(frame.to_xy([p[0] for p in r], [p[1] for p in r])) for r in rings]
                      for rings in regions]
    centres, moved = place_labels(anchors, sizes, obstacles=obs, obstacle_radius=radius, width=frame.width,
                                  height=frame.height, centred=centred, regions=px_regions, first=first)
    llon, llat = frame.to_lonlat(centres[:, 0], centres[:, 1])
    if moved.any():
        seg_lon, seg_lat = [], []
        for i in np.flatnonzero(moved):
            # to the edge of the label's box, not into the text
            dx, dy = centres[i] - anchors[i]
            w, h = sizes[i] / 2 + 1
            t = min(w / abs(dx) if dx else np.inf, h / abs(dy) if dy else np.inf, 1.0)
            ex, ey = frame.to_lonlat(centres[i][0] - dx * t, centres[i][1] - dy * t)
            seg_lon += [float(lon[i]), float(ex), None]
            seg_lat += [float(lat[i]), float(ey), None]
        fig.add_scattergeo(lon=seg_lon, lat=seg_lat, mode="lines", line=dict(width=0.8, color="#78909c"),
                           hoverinfo="skip", showlegend=False, name="Garis penunjuk")
    ink = dict(textfont=dict(color=color))  # a selection elsewhere does not dim the names
    fig.add_scattergeo(lon=llon, lat=llat, mode="text", text=list(texts), hoverinfo="skip", showlegend=False,
                       textfont=dict(size=font, color=color, shadow=_HALO), textposition="middle center", name=name,
                       selected=ink, unselected=ink)


def _finish_map(fig: go.Figure, title: str, frame: Frame, *, height: int, legend: bool = True,
                scale: bool = True, pad: float = 0.0) -> go.Figure:
    """The shared map layout: title, a legend under it, the colour bar under the map."""
    fig.update_layout(geo=_geo(frame, pad), dragmode=False, clickmode="event+select")
    _finish(fig, title, height=height)
    fig.update_layout(margin=dict(l=4, r=4, t=84 if legend else 40, b=64 if scale else 6), showlegend=legend,
                      title=dict(y=1, yref="container", yanchor="top", pad=dict(t=10)),
                      legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)))
    return fig


def _wide_bbox(bounds: Boundaries, df: pd.DataFrame) -> tuple[float, float, float, float]:
    """The box to show: the boundaries' (Bangkalan's), grown to hold every point of `df` that
    lies beyond them (a province's places); only the points' when none lies within them (another
    regency alone), at least MIN_SPAN degrees across."""
    bx0, by0, bx1, by1 = bounds.bbox()
    pts = df.dropna(subset=["lon", "lat"])
    lon, lat = pts["lon"].astype(float), pts["lat"].astype(float)
    inside = lon.between(bx0, bx1) & lat.between(by0, by1)
    if inside.all():
        return bx0, by0, bx1, by1
    x0, y0, x1, y1 = float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    if inside.any():
        x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = max(x1 - x0, MIN_SPAN) / 2, max(y1 - y0, MIN_SPAN) / 2
    return cx - hx, cy - hy, cx + hx, cy + hy


MIN_SPAN = 0.25  # degrees: a map of a few places close together still shows their surroundings


def build_kecamatan_map(df: pd.DataFrame, bounds: Boundaries, *, province: bool = False) -> go.Figure:
    """Per kecamatan: a choropleth of Cakupan ASN with each kecamatan's name and coverage written
    on it, the regency outline, and a legend (colour bar) in Bahasa Indonesia. A kecamatan in
    the data without an outline in the boundary file is a marker at its centroid. Clicking a
    kecamatan selects it (points carry `location` = the kecamatan, or customdata[0] for a marker).
    `province`: the kecamatan of many regencies: the map spans every one, the markers are
    smaller and no name is written (hundreds would cover each other; the hover names each)."""
    fig = go.Figure()
    box = _wide_bbox(bounds, df)
    frame = _frame(box if box == bounds.bbox() else padded(box, 0.05))
    _add_land(fig, bounds, fill="#f5f5f5")
    order = {k: i for i, k in enumerate(bounds.kecamatan)}  # drawn in the boundaries' order
    outlined = df["kecamatan"].isin(list(order)) & _home(df)
    drawn = df[outlined].sort_values("kecamatan", key=lambda s: s.map(order))
    name = "kecamatan_label" if "kecamatan_label" in df else "kecamatan"  # with its regency in a province
    custom = list(zip(drawn[name].map(_plain), drawn["coverage"], drawn["checkins"], drawn["opds"],
                      drawn["printed"]))
    hover = ("<b>Kec. %{customdata[0]}</b><br>Cakupan ASN %{customdata[1]:.1%}<br>%{customdata[2]:,} check-in"
             "<br>QR dicetak: %{customdata[4]} dari %{customdata[3]} OPD<extra></extra>")
    fig.add_choropleth(
        geojson=bounds.geojson(), locations=drawn["kecamatan"], featureidkey="properties.nama",
        z=drawn["coverage"].fillna(0), zmin=0, zmax=1, colorscale=coverage_colorscale(),
        marker=dict(line=dict(width=1, color="#ffffff")), colorbar=_coverage_colorbar(), customdata=custom,
        hovertemplate=hover, name="Cakupan ASN", selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=0.45)),
    )
    loose = df[~outlined]
    if not loose.empty:
        fig.add_scattergeo(
            lon=loose["lon"], lat=loose["lat"], mode="markers", name="Kecamatan tanpa batas",
            marker=dict(size=10 if province else 16, color=loose["coverage"].fillna(0), cmin=0, cmax=1,
                        colorscale=coverage_colorscale(), line=dict(width=1, color="#ffffff")),
            customdata=list(zip(loose[name], loose["coverage"], loose["checkins"], loose["opds"],
                                loose["printed"])),
            hovertemplate=hover, showlegend=False,
        )
    _add_outline(fig, bounds)
    if province:
        return _finish_map(fig, f"Cakupan ASN per kecamatan ({len(df)} kecamatan)", frame, height=440, legend=False)
    cov = dict(zip(drawn["kecamatan"], drawn["coverage"]))
    names = list(bounds.kecamatan)  # each outline's name, then each marker's (its label)
    pts = [bounds.label_points[k] for k in names] + list(zip(loose["lon"].astype(float), loose["lat"].astype(float)))
    texts = ([f"<b>{_plain(k)}</b><br>{fmt_pct(cov[k])}" if k in cov else _plain(k) for k in names]
             + [f"<b>{_plain(k)}</b><br>{fmt_pct(c)}" for k, c in zip(loose[name], loose["coverage"])])
    regions = [bounds.kecamatan[k] for k in names] + [[] for _ in range(len(loose))]
    _add_labels(fig, frame, [p[0] for p in pts], [p[1] for p in pts], texts, font=11, centred=True,
                name="Nama kecamatan", regions=regions)
    return _finish_map(fig, "Cakupan ASN per kecamatan", frame, height=480, legend=False)


REGENCY_NAMES = 8  # regencies named on the map: those with the lowest coverage


def build_regency_map(df: pd.DataFrame, bounds: Boundaries, *, labels: dict[str, str] | None = None) -> go.Figure:
    """Per regency (a province's registry; regency_summary): a bubble at the mean point of its
    OPDs, its area the number of OPDs, its colour Cakupan ASN; the REGENCY_NAMES regencies with
    the lowest coverage named on the map. The shipped kecamatan outlines (Bangkalan's: the only
    boundaries there are) lie under it for orientation. Points carry customdata[0] = the regency
    as the registry spells it; `labels` gives the name to show ("Kab. Bangkalan")."""
    fig = go.Figure()
    d = df.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    frame = _frame(padded(_wide_bbox(bounds, d), 0.06))
    _add_land(fig, bounds)
    _add_outline(fig, bounds)
    names = [labels.get(k, k) if labels else k for k in d["kabupaten"]]
    size = 8 + 14 * np.sqrt(d["opds"] / max(int(d["opds"].max()), 1)) if len(d) else []  # 8-22 px: a phone too
    custom = list(zip(d["kabupaten"], [_plain(n) for n in names], d["coverage"].fillna(0), d["checkins"], d["opds"],
                      d["printed"], d["active"]))
    fig.add_scattergeo(
        lon=d["lon"], lat=d["lat"], mode="markers", name="Cakupan ASN",
        marker=dict(size=size, color=d["coverage"].fillna(0), cmin=0, cmax=1, colorscale=coverage_colorscale(),
                    showscale=True, colorbar=_coverage_colorbar(), line=dict(width=1, color="#ffffff"), opacity=0.9),
        customdata=custom, showlegend=False,
        hovertemplate=("<b>%{customdata[1]}</b><br>Cakupan ASN %{customdata[2]:.1%}<br>%{customdata[3]:,} check-in"
                       "<br>QR dicetak: %{customdata[5]} dari %{customdata[4]} OPD<br>Aktif: %{customdata[6]} OPD"
                       "<extra></extra>"),
        selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=0.45)),
    )
    low = d.assign(_name=names).sort_values(["coverage", "kabupaten"], na_position="first").head(REGENCY_NAMES)
    _add_labels(fig, frame, low["lon"], low["lat"], [f"{_wrap(n, 14, 2)}<br>{fmt_pct(c, 0)}"
                                                     for n, c in zip(low["_name"], low["coverage"])],
                font=10, obstacles=(d["lon"], d["lat"]), radius=8.0, name="Nama kabupaten/kota terendah")
    return _finish_map(fig, f"Cakupan ASN per kabupaten/kota ({len(d)})", frame, height=440, legend=False)


def _opd_markers(fig: go.Figure, df: pd.DataFrame, *, town_small: bool, scale: bool = True) -> None:
    """Two marker traces, so the legend explains them: printed (colour = coverage) and not yet
    printed (black diamonds). Points carry customdata[0] = the OPD's code."""
    stage = domain.stage_label(df)
    approx = df["location_approx"] if "location_approx" in df else pd.Series(False, index=df.index)
    kec = df["kecamatan_label"] if "kecamatan_label" in df else df["kecamatan"]
    custom = list(zip(df["code"], df["name"].map(_plain), kec.map(_plain), df["coverage"].fillna(0),
                      df["checkins"], stage.map(_plain)))
    text = ["<br><i>Lokasi perkiraan</i>" if a else "" for a in approx]
    hover = ("<b>%{customdata[1]}</b><br>Kec. %{customdata[2]}<br>Cakupan ASN %{customdata[3]:.1%}"
             "<br>%{customdata[4]:,} check-in<br>%{customdata[5]}%{text}<extra></extra>")
    printed = domain.qr_printed(df).to_numpy()
    small = _in_town(df).to_numpy() & town_small
    size = np.where(small, 7, 12)
    for mask, name, marker in (
        (printed, "QR dicetak (warna: cakupan ASN)",
         dict(color=df["coverage"].fillna(0), cmin=0, cmax=1, colorscale=coverage_colorscale(),
              showscale=scale, colorbar=_coverage_colorbar(), symbol="circle")),
        (~printed, "Belum mencetak QR", dict(color=NO_QR_COLOR, symbol="diamond")),
    ):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        m = {k: (v.iloc[idx] if isinstance(v, pd.Series) else v) for k, v in marker.items()}
        fig.add_scattergeo(
            lon=df["lon"].iloc[idx], lat=df["lat"].iloc[idx], mode="markers", name=name,
            marker=dict(size=size[idx], line=dict(width=1, color="#ffffff"), opacity=1, **m),
            customdata=[custom[i] for i in idx], text=[text[i] for i in idx], hovertemplate=hover,
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=0.5)),
        )


def town_bbox(df: pd.DataFrame) -> tuple[float, float, float, float] | None:
    """The box around the offices in the town (Kec. Bangkalan), or None when none is shown."""
    town = df[_in_town(df)]
    if town.empty:
        return None
    x0, x1 = float(town["lon"].min()), float(town["lon"].max())
    y0, y1 = float(town["lat"].min()), float(town["lat"].max())
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0, 0.006) / 2
    return cx - half, cy - half, cx + half, cy + half


def build_opd_map(df: pd.DataFrame, bounds: Boundaries) -> go.Figure:
    """Per OPD, the whole regency: every office at its position (colour = coverage, black
    diamond = no QR printed yet), the lagging ones (domain.behind) named on the map. The town's
    offices are small here and framed: build_town_map shows them large. Offices beyond the
    boundaries (another regency's) widen the map to show them."""
    fig = go.Figure()
    box = _wide_bbox(bounds, df)
    frame = _frame(box if box == bounds.bbox() else padded(box, 0.05))
    _add_land(fig, bounds)
    _add_outline(fig, bounds)
    box = town_bbox(df)
    label_lon, label_lat, label_text = [], [], []
    if box is not None:
        x0, y0, x1, y1 = padded(box, 0.25)
        fig.add_scattergeo(lon=[x0, x1, x1, x0, x0], lat=[y0, y0, y1, y1, y0], mode="lines", hoverinfo="skip",
                           line=dict(width=1.5, color=MAP_INK, dash="dot"), showlegend=False, name="Kota Bangkalan")
        n_town = int(_in_town(df).sum())
        label_lon.append((x0 + x1) / 2)
        label_lat.append(y1)
        label_text.append(f"<b>Kota Bangkalan</b><br>{n_town} OPD: lihat perbesaran")
    _opd_markers(fig, df, town_small=True)
    rural = df[~_in_town(df) & domain.behind(df)]
    label_lon += list(rural["lon"])
    label_lat += list(rural["lat"])
    label_text += [_wrap(s) for s in rural["short_name"]]
    _add_labels(fig, frame, label_lon, label_lat, label_text, font=10, obstacles=(df["lon"], df["lat"]),
                radius=6.5, name="Nama OPD tertinggal", first=0 if box is not None else None)
    return _finish_map(fig, "Semua OPD", frame, height=420)


def build_town_map(df: pd.DataFrame, bounds: Boundaries) -> go.Figure:
    """Per OPD, zoomed to the town (Kec. Bangkalan), where most offices stand a few hundred metres
    apart: each office a marker, every lagging one named, labels moved apart with a line to
    their office where needed."""
    fig = go.Figure()
    town = df[_in_town(df)]
    box = town_bbox(df)
    frame = _frame(padded(box, 0.36), aspect=1.3, pad=TOWN_VIEW_PAD)
    _add_land(fig, bounds)
    _add_outline(fig, bounds)
    _opd_markers(fig, town, town_small=False, scale=False)
    lag = town[domain.behind(town)]
    _add_labels(fig, frame, lag["lon"], lag["lat"], [_wrap(s, 13) for s in lag["short_name"]], font=10,
                obstacles=(town["lon"], town["lat"]), radius=7.5, name="Nama OPD tertinggal")
    return _finish_map(fig, f"Perbesaran: Kota Bangkalan ({len(town)} OPD)", frame, height=520, legend=False,
                       scale=False, pad=TOWN_VIEW_PAD)


def build_pipeline(df: pd.DataFrame, *, estimated_printing: int = 0) -> go.Figure:
    """Stacked areas: OPDs per onboarding stage at the end of each week. `estimated_printing`:
    how many of the OPDs' printing dates are estimates, said under the title and in the hover."""
    fig = go.Figure()
    for stage, label in STAGE_LABELS.items():
        part = df[df["stage"] == stage]
        note = " (tanggal cetak sebagian perkiraan)" if estimated_printing and stage == "qr_dicetak" else ""
        fig.add_scatter(x=part["week_end"], y=part["opds"], name=label, mode="lines", stackgroup="tahap",
                        line=dict(width=0.5, color=STAGE_COLORS[stage]), fillcolor=STAGE_COLORS[stage],
                        hovertemplate="%{x|%-d %B %Y}: %{y} OPD<extra>" + label + note + "</extra>")
    fig.update_yaxes(title="Jumlah OPD", rangemode="tozero")
    mark_surat_edaran(fig, df["week_end"])
    _date_axis(fig, df["week_end"])
    note = (f"Tanggal cetak QR {estimated_printing} OPD adalah perkiraan: sumbernya hanya menyebut QR sudah dicetak "
            "per 31 Januari 2022." if estimated_printing else None)
    return _finish(fig, "Tahap onboarding per pekan", subtitle=note)


# ---------------------------------------------------------------- refusals
REFUSED_COLORS = {"merah": STATUS_COLORS["merah"], "hitam": STATUS_COLORS["hitam"], "kuning": STATUS_COLORS["kuning"]}
DAY_NAMES = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def weekly_refusals(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily refusal rows summed to weeks starting Monday (column 'day' = the Monday)."""
    if daily.empty:
        return daily
    d = daily.copy()
    d["day"] = d["day"] - pd.to_timedelta(d["day"].dt.day_of_week, unit="D")
    return d.groupby("day", as_index=False).sum(numeric_only=True)


def build_refusal_trend(df: pd.DataFrame, *, as_rate: bool, period_label: str) -> go.Figure:
    """Refusals per period split by colour, as counts or as a share of all check-ins."""
    fig = go.Figure()
    for status, color in REFUSED_COLORS.items():
        y = df[status] / df["checkins"].where(df["checkins"] > 0) if as_rate else df[status]
        fig.add_bar(x=df["day"], y=y, name=f"Ditolak: {STATUS_LABELS[status]}", marker_color=color,
                    hovertemplate="%{x|%-d %B %Y}: " + ("%{y:.2%}" if as_rate else "%{y:,}") + "<extra>"
                    + STATUS_LABELS[status] + "</extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="Tingkat penolakan" if as_rate else "Check-in ditolak",
                     tickformat=".1%" if as_rate else ",d")
    mark_surat_edaran(fig, df["day"])
    _date_axis(fig, df["day"])
    return _finish(fig, f"Penolakan per {period_label}")


def build_top_opd(df: pd.DataFrame, *, value: str, title: str) -> go.Figure:
    d = df.sort_values(value, ascending=True)
    is_rate = value == "rate"
    fig = go.Figure()
    fig.add_bar(
        y=d["short_name"], x=d[value], orientation="h", marker_color=SECONDARY,
        customdata=d[["checkins", "refused"]].to_numpy(),
        hovertemplate="%{y}<br>%{customdata[1]:,} ditolak dari %{customdata[0]:,} check-in<extra></extra>",
        text=[f"{v * 100:.1f}%".replace(".", ",") if is_rate else f"{int(v):,}".replace(",", ".") for v in d[value]],
        textposition="outside", cliponaxis=False,
    )
    top = float(d[value].max()) if len(d) else 0.0
    fig.update_xaxes(title="Tingkat penolakan" if is_rate else "Check-in ditolak", tickformat=".0%" if is_rate else ",d",
                     range=[0, top * 1.3 if top > 0 else 1], nticks=4)  # room for the value after the longest bar
    fig.update_yaxes(categoryorder="array", categoryarray=list(d["short_name"]), title=None,
                     tickvals=list(d["short_name"]), ticktext=[short(n) for n in d["short_name"]])
    return _finish(fig, title, height=max(320, 28 * len(d) + 120))


def build_visitor_type_refusals(df: pd.DataFrame) -> go.Figure:
    labels = {"asn": "ASN", "pengunjung": "Pengunjung"}
    fig = go.Figure()
    for status, color in REFUSED_COLORS.items():
        fig.add_bar(x=df["visitor_type"].map(labels), y=df[status] / df["checkins"].where(df["checkins"] > 0),
                    name=STATUS_LABELS[status], marker_color=color,
                    hovertemplate="%{x}: %{y:.2%}<extra>" + STATUS_LABELS[status] + "</extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="Tingkat penolakan", tickformat=".1%")
    return _finish(fig, "ASN dibanding pengunjung")


def build_refusal_heatmap(df: pd.DataFrame, *, as_rate: bool) -> go.Figure:
    hours = list(range(int(df["hour"].min()), int(df["hour"].max()) + 1)) if not df.empty else list(range(6, 17))
    grid = df.pivot_table(index="dow", columns="hour", values=["checkins", "refused"], aggfunc="sum", fill_value=0)
    refused = grid["refused"].reindex(index=range(7), columns=hours, fill_value=0) if not df.empty else None
    checkins = grid["checkins"].reindex(index=range(7), columns=hours, fill_value=0) if not df.empty else None
    if df.empty:
        return empty_figure("Tidak ada check-in pada filter ini")
    z = (refused / checkins.where(checkins > 0)) if as_rate else refused
    x = [f"{h:02d}.00" for h in hours]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=x, y=DAY_NAMES, colorscale="Reds",
        colorbar=dict(title="Tingkat" if as_rate else "Ditolak", tickformat=".0%" if as_rate else ",d", thickness=12),
        hovertemplate="%{y} %{x} WIB<br>" + ("%{z:.1%}" if as_rate else "%{z:,} ditolak") + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    # the hour alone under each column ("07"), upright: the axis title says what it is
    fig.update_xaxes(title="Jam (WIB)", tickvals=x, ticktext=[f"{h:02d}" for h in hours], tickangle=0)
    return _finish(fig, "Penolakan menurut hari dan jam")


def build_merah_kecamatan(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kec, part in df.groupby("kecamatan"):
        fig.add_scatter(x=part["week"], y=part["merah"], mode="lines+markers", name=short(kec, LEGEND_CHARS),
                        hovertemplate="Pekan %{x|%-d %B %Y}: %{y:,} ditolak (merah)<extra>Kec. " + kec + "</extra>")
    fig.update_yaxes(title="Ditolak merah per pekan", rangemode="tozero", tickformat=",d")
    fig.update_layout(legend=dict(title=dict(text="Kecamatan:", side="top left")))
    mark_surat_edaran(fig, df["week"])
    _date_axis(fig, df["week"])
    n = df["kecamatan"].nunique()
    return _finish(fig, "Penolakan merah per kecamatan", legend=legend_rows(n) + 1)

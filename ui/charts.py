"""Figure builders: DataFrame in, finished plotly figure out. No Streamlit import here."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from data_access import domain
from data_access.calendar import SURAT_EDARAN_DATE
from data_access.domain import COVERAGE_TARGET, STAGE_LABELS, STAGES

# One palette for the status colours everywhere.
STATUS_COLORS = {"hijau": "#2e7d32", "kuning": "#f9a825", "merah": "#c62828", "hitam": "#212121"}
STATUS_LABELS = {"hijau": "Hijau", "kuning": "Kuning", "merah": "Merah", "hitam": "Hitam"}
# one colour per onboarding stage, in the domain's order: grey, light to dark blue, green
STAGE_COLORS = dict(zip(STAGES, ("#9e9e9e", "#90caf9", "#42a5f5", "#1565c0", "#2e7d32"), strict=True))
PRIMARY = "#1565c0"
SECONDARY = "#c62828"
ID_MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]

LAYOUT = dict(
    template="plotly_white",
    separators=",.",  # Indonesian: decimal comma, thousands dot
    margin=dict(l=10, r=10, t=60, b=10),
    legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
    hoverlabel=dict(namelength=-1),
    font=dict(family="Source Sans Pro, sans-serif"),
)


def _finish(fig: go.Figure, title: str, *, height: int = 380) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height, **LAYOUT)
    return fig


def _date_axis(fig: go.Figure, days: pd.Series) -> None:
    """Indonesian month names on a date axis (plotly's own would be English)."""
    if days.empty:
        return
    lo, hi = pd.Timestamp(days.min()), pd.Timestamp(days.max())
    span = (hi - lo).days
    if span > 62:
        ticks = pd.date_range(lo.to_period("M").to_timestamp(), hi, freq="MS")
        text = [f"{ID_MONTHS[t.month - 1]} {t.year}" for t in ticks]
    else:
        ticks = pd.date_range(lo, hi, freq="7D")
        text = [f"{t.day} {ID_MONTHS[t.month - 1]}" for t in ticks]
    fig.update_xaxes(tickvals=list(ticks), ticktext=text)


def mark_surat_edaran(fig: go.Figure, days: pd.Series | None = None) -> None:
    """A dashed line on 5 January 2022, when it lies inside the shown range."""
    se = pd.Timestamp(SURAT_EDARAN_DATE)
    if days is not None and not days.empty and (se < pd.Timestamp(days.min()) - pd.Timedelta(days=7)
                                                 or se > pd.Timestamp(days.max())):
        return
    fig.add_shape(type="line", x0=se, x1=se, y0=0, y1=1, yref="paper", line=dict(dash="dash", color="#616161"))
    fig.add_annotation(x=se, y=1, yref="paper", text="Surat Edaran 5 Jan 2022", showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=11, color="#616161"))


def build_onboarding_progress(df: pd.DataFrame, *, total_opds: int) -> go.Figure:
    """Cumulative OPDs with a printed QR, and OPDs active (a check-in in the last 7 days)."""
    fig = go.Figure()
    fig.add_scatter(x=df["day"], y=df["qr_printed"], mode="lines", name="QR dicetak", line=dict(color=PRIMARY, width=3),
                    hovertemplate="%{x|%d-%m-%Y}: %{y} OPD<extra>QR dicetak</extra>")
    fig.add_scatter(x=df["day"], y=df["active"], mode="lines", name="Aktif (7 hari)",
                    line=dict(color=STATUS_COLORS["hijau"], width=2),
                    hovertemplate="%{x|%d-%m-%Y}: %{y} OPD<extra>Aktif</extra>")
    fig.add_hline(y=total_opds, line=dict(color="#9e9e9e", dash="dot"),
                  annotation_text=f"Semua OPD ({total_opds})", annotation_position="top left")
    fig.update_yaxes(title="Jumlah OPD", rangemode="tozero")
    mark_surat_edaran(fig, df["day"])
    _date_axis(fig, df["day"])
    return _finish(fig, "Kemajuan onboarding sejak Surat Edaran")


def build_daily_checkins(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=df["day"], y=df["checkins"] - df["refused"], name="Diterima", marker_color=PRIMARY,
                hovertemplate="%{x|%d-%m-%Y}: %{y:,} diterima<extra></extra>")
    fig.add_bar(x=df["day"], y=df["refused"], name="Ditolak", marker_color=SECONDARY,
                hovertemplate="%{x|%d-%m-%Y}: %{y:,} ditolak<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="Check-in per hari", tickformat=",d")
    mark_surat_edaran(fig, df["day"])
    _date_axis(fig, df["day"])
    return _finish(fig, "Check-in per hari")


def build_coverage_bar(df: pd.DataFrame, *, target: float = COVERAGE_TARGET) -> go.Figure:
    """Ranked horizontal bars of ASN coverage per OPD, coloured by stage. OPDs without data
    get a grey marker and the label 'tanpa data' instead of being left out; a printed QR
    without check-ins in the active window is marked 'sepi', an anomaly is named."""
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
            customdata=part[["checkins"]].to_numpy(),
            hovertemplate="%{y}<br>Cakupan ASN %{x:.1%}<br>%{customdata[0]:,} check-in<extra>" + label + "</extra>",
        )
    fig.add_vline(x=target, line=dict(color=SECONDARY, dash="dash"),
                  annotation_text=f"Target {int(target * 100)}%", annotation_position="top")
    fig.update_xaxes(title="Cakupan ASN", tickformat=".0%", range=[0, 1.1])
    fig.update_yaxes(categoryorder="array", categoryarray=list(d["short_name"]), title=None)
    fig.update_layout(barmode="overlay")
    return _finish(fig, "Cakupan ASN per OPD (urut)", height=max(380, 22 * len(d) + 120))


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
        fig.add_scatter(
            x=part["week"], y=part["coverage"], mode="lines+markers" if is_total else "lines",
            name="Seluruh pilihan" if is_total else names.get(opd_id, str(opd_id)),
            line=dict(width=4 if is_total else 1.5, color="#212121" if is_total else None),
            hovertemplate="Pekan %{x|%d-%m-%Y}: %{y:.1%}<extra>%{fullData.name}</extra>",
        )
    fig.add_hline(y=COVERAGE_TARGET, line=dict(color=SECONDARY, dash="dash"))
    fig.update_yaxes(title="Cakupan ASN", tickformat=".0%", rangemode="tozero")
    mark_surat_edaran(fig, df["week"])
    _date_axis(fig, df["week"])
    return _finish(fig, "Cakupan ASN per pekan")


def coverage_colorscale():
    return [[0, "#c62828"], [0.5, "#f9a825"], [0.8, "#7cb342"], [1, "#1b5e20"]]


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, "", height=200)


# ---------------------------------------------------------------- map
BANGKALAN_CENTER = {"lat": -7.04, "lon": 112.90}
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def base_map_style() -> dict:
    """A MapLibre style that needs no server to draw: a plain background, with OpenStreetMap
    tiles on top that simply stay blank when the browser cannot reach them (closed network).
    No text layers, so no font server is needed either."""
    return {
        "version": 8,
        "sources": {
            "osm": {"type": "raster", "tiles": [OSM_TILES], "tileSize": 256,
                    "attribution": "© OpenStreetMap contributors"},
        },
        "layers": [
            {"id": "latar", "type": "background", "paint": {"background-color": "#eef3f7"}},
            {"id": "osm", "type": "raster", "source": "osm"},
        ],
    }


def _marker_sizes(values: pd.Series, *, smallest: float = 8, largest: float = 34) -> list[float]:
    v = values.fillna(0).astype(float)
    top = v.max()
    if top <= 0:
        return [smallest] * len(v)
    return list(smallest + (largest - smallest) * (v / top) ** 0.5)


def _coverage_marker(df: pd.DataFrame, sizes) -> dict:
    return dict(
        size=sizes, color=df["coverage"].fillna(0), cmin=0, cmax=1, colorscale=coverage_colorscale(),
        colorbar=dict(title="Cakupan ASN", tickformat=".0%"), opacity=0.9,
    )


def build_opd_map(df: pd.DataFrame) -> go.Figure:
    """Every OPD at its coordinates: colour = ASN coverage, size = check-ins."""
    fig = go.Figure()
    fig.add_scattermap(
        lat=df["lat"], lon=df["lon"], mode="markers",
        text=["<br><i>Lokasi perkiraan</i>" if a else "" for a in df.get("location_approx", [False] * len(df))],
        marker=_coverage_marker(df, _marker_sizes(df["checkins"])),
        customdata=list(zip(df["name"], df["kecamatan"], df["coverage"].fillna(0), df["checkins"],
                            domain.stage_label(df))),
        hovertemplate="<b>%{customdata[0]}</b><br>Kec. %{customdata[1]}<br>Cakupan ASN %{customdata[2]:.1%}"
                      "<br>%{customdata[3]:,} check-in<br>%{customdata[4]}%{text}<extra></extra>",
        name="OPD",
    )
    fig.update_layout(map=dict(style=base_map_style(), center=BANGKALAN_CENTER, zoom=9.7))
    return _finish(fig, "Peta adopsi per OPD", height=620)


def build_kecamatan_map(df: pd.DataFrame, geojson: dict | None = None) -> go.Figure:
    """Per kecamatan: a choropleth by coverage when boundaries are given, else markers at the
    kecamatan centroids."""
    fig = go.Figure()
    custom = list(zip(df["kecamatan"], df["coverage"].fillna(0), df["checkins"], df["opds"]))
    hover = ("<b>Kec. %{customdata[0]}</b><br>Cakupan ASN %{customdata[1]:.1%}<br>%{customdata[2]:,} check-in"
             "<br>%{customdata[3]} OPD<extra></extra>")
    if geojson is not None:
        fig.add_choroplethmap(
            geojson=geojson, locations=df["kecamatan"], featureidkey="properties.nama",
            z=df["coverage"].fillna(0), zmin=0, zmax=1, colorscale=coverage_colorscale(),
            marker=dict(opacity=0.65, line=dict(width=1, color="#ffffff")),
            colorbar=dict(title="Cakupan ASN", tickformat=".0%"), customdata=custom, hovertemplate=hover,
            name="Kecamatan",
        )
    else:
        fig.add_scattermap(
            lat=df["lat"], lon=df["lon"], mode="markers",
            marker=_coverage_marker(df, _marker_sizes(df["checkins"], smallest=12, largest=44)),
            customdata=custom, hovertemplate=hover, name="Kecamatan",
        )
    fig.update_layout(map=dict(style=base_map_style(), center=BANGKALAN_CENTER, zoom=9.7))
    return _finish(fig, "Peta adopsi per kecamatan", height=620)


def build_pipeline(df: pd.DataFrame, *, estimated_printing: int = 0) -> go.Figure:
    """Stacked areas: OPDs per onboarding stage at the end of each week. `estimated_printing`:
    how many of the OPDs' printing dates are estimates, said under the title and in the hover."""
    fig = go.Figure()
    for stage, label in STAGE_LABELS.items():
        part = df[df["stage"] == stage]
        note = " (tanggal cetak sebagian perkiraan)" if estimated_printing and stage == "qr_dicetak" else ""
        fig.add_scatter(x=part["week_end"], y=part["opds"], name=label, mode="lines", stackgroup="tahap",
                        line=dict(width=0.5, color=STAGE_COLORS[stage]), fillcolor=STAGE_COLORS[stage],
                        hovertemplate="%{x|%d-%m-%Y}: %{y} OPD<extra>" + label + note + "</extra>")
    fig.update_yaxes(title="Jumlah OPD", rangemode="tozero")
    mark_surat_edaran(fig, df["week_end"])
    _date_axis(fig, df["week_end"])
    _finish(fig, "Tahap onboarding per pekan")
    if estimated_printing:
        fig.update_layout(title_subtitle_text=f"Tanggal cetak QR {estimated_printing} OPD adalah perkiraan: sumbernya "
                                              "hanya menyebut QR sudah dicetak per 31 Januari 2022.",
                          margin_t=80)
    return fig


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
                    hovertemplate="%{x|%d-%m-%Y}: " + ("%{y:.2%}" if as_rate else "%{y:,}") + "<extra>"
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
        textposition="outside",
    )
    fig.update_xaxes(title="Tingkat penolakan" if is_rate else "Check-in ditolak", tickformat=".0%" if is_rate else ",d")
    fig.update_yaxes(categoryorder="array", categoryarray=list(d["short_name"]), title=None)
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
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=[f"{h:02d}.00" for h in hours], y=DAY_NAMES, colorscale="Reds",
        colorbar=dict(title="Tingkat" if as_rate else "Ditolak", tickformat=".0%" if as_rate else ",d"),
        hovertemplate="%{y} %{x} WIB<br>" + ("%{z:.1%}" if as_rate else "%{z:,} ditolak") + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="Jam (WIB)")
    return _finish(fig, "Penolakan menurut hari dan jam")


def build_merah_kecamatan(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kec, part in df.groupby("kecamatan"):
        fig.add_scatter(x=part["week"], y=part["merah"], mode="lines+markers", name=f"Kec. {kec}",
                        hovertemplate="Pekan %{x|%d-%m-%Y}: %{y:,} ditolak (merah)<extra>Kec. " + kec + "</extra>")
    fig.update_yaxes(title="Ditolak berstatus merah per pekan", rangemode="tozero", tickformat=",d")
    mark_surat_edaran(fig, df["week"])
    _date_axis(fig, df["week"])
    return _finish(fig, "Tindak lanjut vaksinasi: penolakan merah per kecamatan")

"""The weekly brief for the Bupati's office (Laporan mingguan pimpinan): one A4 page with the
week's headline figures against the previous week, the OPDs that printed their QR or became
active, the ten OPDs furthest behind and why, and the kecamatan map drawn from the boundary
data (fpdf2 shapes, no browser).

Weeks run Monday to Sunday (WIB dates, as every day in the rollups). A week is compared with
the same days of the week before; a week without any check-in in the database says so instead
of showing zeros. No Streamlit here: the Ringkasan page and `python -m data_access brief` call it."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from fpdf import FPDF
from sqlalchemy import Engine

from . import domain, queries
from .auth import Actor, audit
from .boundaries import SOURCE_NOTE, Boundaries, Frame, coverage_rgb, padded, place_labels, text_box
from .calendar import SURAT_EDARAN_NO
from .domain import ACTIVE_WINDOW_DAYS, COVERAGE_TARGET
from .fmt import DAYS, MONTHS_SHORT, fmt_date, fmt_datetime_wib, fmt_dec, fmt_int, fmt_pct, fmt_range
from .labels import regency_full
from .registry import HOME_REGENCY
from .report import _latin1

TITLE = "Laporan Mingguan Pimpinan"
AUDIT_ACTION = "laporan_mingguan_unduh"
BEHIND_ROWS = 10
AREA_ROWS = 10  # regencies or kecamatan listed where the brief has no map


# ---------------------------------------------------------------- weeks
@dataclass(frozen=True)
class Week:
    """An ISO week: Monday to Sunday."""
    monday: date

    @classmethod
    def containing(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def parse(cls, text: str) -> Week:
        """'2022-W05' (ISO year and week). Raises ValueError in Bahasa Indonesia."""
        m = re.fullmatch(r"\s*(\d{4})-?W(\d{1,2})\s*", str(text or ""), flags=re.IGNORECASE)
        if not m:
            raise ValueError(f"pekan {text!r} tidak dikenali; tulis seperti 2022-W05 (tahun ISO dan nomor pekan)")
        year, week = int(m.group(1)), int(m.group(2))
        try:
            return cls(date.fromisocalendar(year, week, 1))
        except ValueError:
            raise ValueError(f"tahun {year} tidak memiliki pekan ke-{week}") from None

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def iso(self) -> str:
        y, w, _ = self.monday.isocalendar()
        return f"{y}-W{w:02d}"

    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7))

    def label(self) -> str:
        y, w, _ = self.monday.isocalendar()
        return f"Pekan {w}/{y} ({fmt_range(self.monday, self.sunday)})"


def last_full_week(today: date) -> Week:
    """The last Monday-to-Sunday week that has ended by `today` (a Monday's job reports the week
    before)."""
    return Week.containing(today).previous()


# ---------------------------------------------------------------- figures
@dataclass
class Figures:
    """One week's (or its comparison days') headline figures. Without data, only the registry's
    count of printed QR codes is known; the others are None."""
    start: date | None  # the days the figures cover (the week clipped to the data), None: no data
    end: date | None
    qr_printed: int
    active: int | None = None
    checkins: int | None = None
    refusal_rate: float | None = None
    coverage: float | None = None

    @property
    def has_data(self) -> bool:
        return self.start is not None


@dataclass
class WeeklyBrief:
    week: Week
    data_range: tuple[date, date] | None
    n_opds: int
    this: Figures
    prev: Figures
    printed: pd.DataFrame  # short_name, qr_printed_on, qr_printed_estimate: printed during the week
    became_active: pd.DataFrame | None  # short_name; None when the week before has no data
    behind: pd.DataFrame  # the furthest behind (short_name, kecamatan, coverage, reason), at most BEHIND_ROWS
    behind_total: int
    kecamatan: pd.DataFrame  # kecamatan, coverage (None without data)
    notes: list[str] = field(default_factory=list)
    scope: Scope = None  # whose OPDs (set by weekly_brief)
    areas: pd.DataFrame | None = None  # without the map: name, coverage of the lowest regencies or kecamatan


@dataclass(frozen=True)
class Scope:
    """Whose OPDs a brief covers: one regency (`regency`), or every regency of the registry
    (`regency` None: a province's registry). `opd_ids` None: every OPD of the registry."""
    label: str  # "Kabupaten Bangkalan", "38 kabupaten/kota"
    regency: str | None
    opd_ids: tuple[int, ...] | None

    @property
    def has_map(self) -> bool:
        """The shipped kecamatan outlines are Bangkalan's: its brief has the map, others a table."""
        return self.regency == HOME_REGENCY

    @property
    def is_province(self) -> bool:
        return self.regency is None


def brief_scope(engine: Engine, kabupaten: str | None = None) -> Scope:
    """The scope of a brief: the regency named (any case; "Kabupaten Gresik" or "Gresik"), else the
    registry's one regency, else all of them. Raises ValueError in Bahasa Indonesia for a regency
    the registry does not hold."""
    reg = queries.opd_registry(engine=engine)
    regencies = sorted(reg["kabupaten"].unique()) or [HOME_REGENCY]
    if kabupaten is None or not str(kabupaten).strip():
        if len(regencies) == 1:
            return Scope(regency_full(regencies[0]), regencies[0], None)
        return Scope(f"{fmt_int(len(regencies))} kabupaten/kota", None, None)
    wanted = str(kabupaten).strip().casefold()
    found = [r for r in regencies if wanted in (r.casefold(), regency_full(r).casefold())]
    if not found:
        raise ValueError(f"kabupaten/kota {str(kabupaten)[:80]!r} tidak ada di registri OPD; yang ada: "
                         + ", ".join(regencies[:5]) + (" ..." if len(regencies) > 5 else ""))
    ids = reg.loc[reg["kabupaten"] == found[0], "id"].astype(int).tolist()
    return Scope(regency_full(found[0]), found[0], None if len(regencies) == 1 else tuple(ids))


def _clip(start: date, end: date, rng: tuple[date, date] | None) -> tuple[date, date] | None:
    if rng is None:
        return None
    s, e = max(start, rng[0]), min(end, rng[1])
    return (s, e) if s <= e else None


def _figures(engine: Engine, span: tuple[date, date] | None, as_of: date,
             opd_ids=None) -> tuple[Figures, pd.DataFrame]:
    """The figures over `span` (None: no data; the QR count as of `as_of`) and the overview, of
    the OPDs `opd_ids` (None: all)."""
    if span is not None:
        tot = queries.totals(engine=engine, start=span[0], end=span[1], opd_ids=opd_ids)
        if tot["checkins"] == 0:  # days inside the data's range, but nothing was imported for them
            span = None
    if span is None:
        ov = queries.opd_overview(engine=engine, start=as_of, end=as_of, opd_ids=opd_ids)
        ov["coverage"] = np.nan
        ov["active"] = False
        return Figures(None, None, int(domain.qr_printed(ov).sum())), ov
    ov = queries.opd_overview(engine=engine, start=span[0], end=span[1], opd_ids=opd_ids)
    return Figures(span[0], span[1], int(domain.qr_printed(ov).sum()), int(domain.active(ov).sum()),
                   tot["checkins"], tot["refusal_rate"], queries.weighted_coverage(ov)), ov


def weekly_brief(*, engine: Engine, week: Week, kabupaten: str | None = None) -> WeeklyBrief:
    """Everything the page of the brief shows, computed from the rollups for the OPDs of a
    regency (`kabupaten`; by default the registry's own) or of every regency in the registry."""
    scope = brief_scope(engine, kabupaten)
    ids = scope.opd_ids
    rng = queries.data_range(engine=engine)
    notes = []
    span = _clip(week.monday, week.sunday, rng)
    this, ov = _figures(engine, span, week.sunday, ids)
    if this.has_data:
        prev_span = _clip(this.start - timedelta(days=7), this.end - timedelta(days=7), rng)
        if (this.start, this.end) != (week.monday, week.sunday):
            notes.append(f"Data pekan ini hanya mencakup {fmt_range(this.start, this.end)}; pembandingnya hari "
                         "yang sama pada pekan sebelumnya.")
    else:
        prev_span = _clip(week.monday - timedelta(days=7), week.sunday - timedelta(days=7), rng)
        where = (f"Data check-in yang ada: {fmt_range(*rng)}." if rng else "Basis data belum berisi check-in.")
        notes.append(f"Tidak ada data check-in untuk pekan ini. {where} Angka check-in, OPD aktif, tingkat "
                     "penolakan dan cakupan ASN tidak dapat dihitung; jumlah QR dicetak berasal dari registri OPD.")
    prev, ov_prev = _figures(engine, prev_span, week.monday - timedelta(days=1), ids)
    if not prev.has_data and this.has_data:
        notes.append("Pekan sebelumnya tanpa data check-in: perubahan tidak dihitung.")

    end = this.end or week.sunday
    days = pd.to_datetime(pd.Series(ov["qr_printed_on"], dtype=object))
    printed = ov[(days >= pd.Timestamp(week.monday)) & (days <= pd.Timestamp(end))]
    printed = printed.sort_values(["qr_printed_on", "short_name"])
    printed = printed[["short_name", "qr_printed_on", "qr_printed_estimate"]]
    became = None
    if this.has_data and prev.has_data:
        was = dict(zip(ov_prev["id"], domain.active(ov_prev)))
        now = ov[domain.active(ov).to_numpy() & ~ov["id"].map(was).fillna(False).astype(bool).to_numpy()]
        became = now.sort_values("short_name")[["short_name"]]
    behind_all = domain.furthest_behind(ov)
    behind = behind_all.head(BEHIND_ROWS).copy()
    behind["reason"] = domain.behind_reasons(behind)
    # the map holds Bangkalan's kecamatan (its boundaries): not another regency's of the same name
    # the areas from this week's overview in hand (`_figures`), not each from a new one
    if this.has_data:
        kec_all = queries.kecamatan_summary_of(ov)
        kec = kec_all.loc[kec_all["kabupaten"] == HOME_REGENCY, ["kecamatan", "coverage"]]
    else:
        kec = pd.DataFrame({"kecamatan": sorted(ov.loc[ov["kabupaten"] == HOME_REGENCY, "kecamatan"].unique()),
                            "coverage": np.nan})
    areas = None
    if not scope.has_map and this.has_data:  # the lowest areas in a table, where no map can be drawn
        if scope.is_province:
            got = queries.regency_summary_of(ov)
            got["name"] = got["kabupaten"].map(regency_full)
        else:
            got = kec_all.assign(name=kec_all["kecamatan"])
        areas = got.sort_values(["coverage", "name"], na_position="first").head(AREA_ROWS)
        areas = areas[["name", "opds", "coverage"]].reset_index(drop=True)
    # in a province's brief a kecamatan is named with its regency ("Galis (Kab. Pamekasan)")
    behind = behind.assign(kecamatan=behind["kecamatan_label"] if scope.is_province else behind["kecamatan"])
    return WeeklyBrief(week, rng, len(ov), this, prev, printed.reset_index(drop=True), became,
                       behind[["short_name", "kecamatan", "coverage", "reason"]].reset_index(drop=True),
                       len(behind_all), kec.reset_index(drop=True), notes, scope, areas)


def log_brief(*, engine: Engine, actor: Actor, week: Week, via: str, scope: Scope | None = None) -> None:
    """Every brief made (page download or command): who, which week, whose OPDs, from where."""
    after = {"format": "pdf", "via": via}
    if scope is not None:
        after["cakupan"] = scope.label
    with engine.begin() as conn:
        audit(conn, username=actor.username, action=AUDIT_ACTION, target=week.iso, after=after)


# ---------------------------------------------------------------- changes in words
def change_count(now: int | None, before: int | None) -> str:
    if now is None or before is None:
        return "-"
    d = now - before
    return "tetap" if d == 0 else f"{d:+d}"


def change_int(now: int | None, before: int | None) -> str:
    if now is None or before is None:
        return "-"
    d = now - before
    if d == 0:
        return "tetap"
    text = ("+" if d > 0 else "-") + fmt_int(abs(d))
    if before:
        text += f" ({'+' if d > 0 else '-'}{fmt_dec(abs(d) / before * 100, 1)}%)"
    return text


def change_points(now: float | None, before: float | None) -> str:
    """A change of a rate in percentage points: '+2,1 poin'."""
    if now is None or before is None or (isinstance(now, float) and math.isnan(now)) or (
            isinstance(before, float) and math.isnan(before)):
        return "-"
    d = round(round(now * 100, 1) - round(before * 100, 1), 1)  # as the two printed figures differ
    return "tetap" if d == 0 else f"{'+' if d > 0 else '-'}{fmt_dec(abs(d), 1)} poin"


def headline_rows(brief: WeeklyBrief) -> list[tuple[str, str, str, str]]:
    """(measure, this week, the week before, change), as printed."""
    t, p = brief.this, brief.prev
    no = "tanpa data"

    def v(fig: Figures, value: str) -> str:
        return value if fig.has_data else no

    return [
        ("OPD dengan QR dicetak", f"{fmt_int(t.qr_printed)} dari {fmt_int(brief.n_opds)}",
         f"{fmt_int(p.qr_printed)} dari {fmt_int(brief.n_opds)}", change_count(t.qr_printed, p.qr_printed)),
        (f"OPD aktif ({ACTIVE_WINDOW_DAYS} hari terakhir)", v(t, fmt_int(t.active)), v(p, fmt_int(p.active)),
         change_count(t.active, p.active)),
        ("Check-in", v(t, fmt_int(t.checkins)), v(p, fmt_int(p.checkins)), change_int(t.checkins, p.checkins)),
        ("Tingkat penolakan", v(t, fmt_pct(t.refusal_rate)), v(p, fmt_pct(p.refusal_rate)),
         change_points(t.refusal_rate, p.refusal_rate)),
        (f"Cakupan ASN (target {fmt_pct(COVERAGE_TARGET, 0)})", v(t, fmt_pct(t.coverage)), v(p, fmt_pct(p.coverage)),
         change_points(t.coverage, p.coverage)),
    ]


# ---------------------------------------------------------------- the page
INK = (38, 50, 56)
OUTLINE = (17, 17, 17)  # the regency outline: darker than any text on the page
GREY = (96, 110, 120)
BLUE = (21, 101, 192)
MARGIN = 12.0
PAGE_W = 210.0
CONTENT_W = PAGE_W - 2 * MARGIN


def _day_name(d: date) -> str:
    return DAYS[d.weekday()]


class _Page(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.set_title(TITLE)
        self.set_author("Pantau PeduliLindungi Bangkalan")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 10.5)
    pdf.set_text_color(*BLUE)
    pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _name_list(pdf: FPDF, x: float, w: float, title: str, names: list[str], *, empty: str, max_lines: int) -> None:
    pdf.set_x(x)
    pdf.set_font("Helvetica", "B", 8.5)
    pdf.multi_cell(w, 4.4, _latin1(title), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    text = ", ".join(names) if names else empty
    # keep to the lines given: names past them are counted, not printed
    shown = list(names)
    while shown and len(pdf.multi_cell(w, 4, _latin1(text), dry_run=True, output="LINES")) > max_lines:
        shown.pop()
        text = ", ".join(shown) + f", dan {len(names) - len(shown)} lainnya"
    pdf.set_x(x)
    pdf.multi_cell(w, 4, _latin1(text), new_x="LEFT", new_y="NEXT")
    pdf.ln(1.5)


def draw_map(pdf: FPDF, bounds: Boundaries, kec: pd.DataFrame, *, x: float, y: float, w: float, h: float) -> None:
    """The kecamatan of the regency coloured by Cakupan ASN, names and percentages written on
    them, the regency outline on top; a colour legend under it. Units: mm."""
    box = padded(bounds.bbox(), 0.01)
    frame = Frame(*box, w, h)
    cov = dict(zip(kec["kecamatan"], kec["coverage"]))

    def pts(ring):
        xs, ys = frame.to_xy([p[0] for p in ring], [p[1] for p in ring])
        return [(x + float(a), y + float(b)) for a, b in zip(xs, ys)]

    pdf.set_line_width(0.15)
    pdf.set_draw_color(255, 255, 255)
    if bounds.outline:  # the ground, under slivers a coarse file leaves between kecamatan
        pdf.set_fill_color(232, 236, 239)
        for ring in bounds.outline:
            pdf.polygon(pts(ring), style="F")
    for name, rings in bounds.kecamatan.items():
        value = cov.get(name)
        pdf.set_fill_color(*coverage_rgb(None if value is None or pd.isna(value) else float(value)))
        for ring in rings:
            pdf.polygon(pts(ring), style="DF")
    pdf.set_draw_color(*OUTLINE)
    pdf.set_line_width(0.5)
    for ring in bounds.outline:
        pdf.polygon(pts(ring), style="D")
    # names: 5.5 pt is 1.94 mm; Helvetica averages about half an em per character
    font = 6.2
    em = font * 0.3528
    names = list(bounds.kecamatan)
    texts = [f"{n}\n{fmt_pct(cov.get(n))}" if n in cov and not pd.isna(cov.get(n)) else n for n in names]
    anchors = np.array([frame.to_xy(*bounds.label_points[n]) for n in names], dtype=float)
    sizes = np.array([text_box(t, em, char=0.55, line=1.15) for t in texts])
    regions = [[np.column_stack(frame.to_xy([p[0] for p in r], [p[1] for p in r])) for r in bounds.kecamatan[n]]
               for n in names]
    centres, moved = place_labels(anchors, sizes, width=w, height=h, centred=True, gap=0.6, regions=regions,
                                  obstacle_radius=0.5)
    pdf.set_line_width(0.15)
    pdf.set_draw_color(*GREY)
    for i in np.flatnonzero(moved):
        pdf.line(x + anchors[i][0], y + anchors[i][1], x + centres[i][0], y + centres[i][1])
    pdf.set_text_color(*INK)
    pdf.set_fill_color(255, 255, 255)
    with pdf.local_context(fill_opacity=0.72):  # a light ground under each name, as the app's halo
        for (cx, cy), (tw, th) in zip(centres, sizes):
            pdf.rect(x + cx - tw / 2 - 0.4, y + cy - th / 2 - 0.2, tw + 0.8, th + 0.4, style="F", round_corners=True,
                     corner_radius=0.6)
    for t, (cx, cy), (tw, th) in zip(texts, centres, sizes):
        lines = t.split("\n")
        for k, line in enumerate(lines):
            pdf.set_font("Helvetica", "B" if k == 0 else "", font)
            pdf.set_xy(x + cx - tw / 2 - 1, y + cy - th / 2 + k * em * 1.15)
            pdf.cell(tw + 2, em * 1.15, _latin1(line), align="C")
    # the legend: the colour scale, the target, grey for no data
    ly = y + h + 2
    steps = 40
    lw = w * 0.62
    for k in range(steps):
        pdf.set_fill_color(*coverage_rgb(k / (steps - 1)))
        pdf.rect(x + lw * k / steps, ly, lw / steps + 0.05, 2.6, style="F")
    pdf.set_font("Helvetica", "", 6)
    pdf.set_text_color(*GREY)
    for value in (0, 0.4, COVERAGE_TARGET, 1):
        label = fmt_pct(value, 0) + (" target" if value == COVERAGE_TARGET else "")
        pdf.set_xy(x + lw * value - 6, ly + 2.8)
        pdf.cell(12, 2.6, _latin1(label), align="C")
    pdf.set_fill_color(*coverage_rgb(None))
    pdf.rect(x + lw + 5, ly, 4, 2.6, style="F")
    pdf.set_xy(x + lw + 10, ly)
    pdf.cell(w - lw - 10, 2.6, "tanpa data")
    pdf.set_xy(x, ly + 6)
    pdf.multi_cell(w, 2.8, _latin1(f"Cakupan ASN per kecamatan pada hari-hari pekan ini. {SOURCE_NOTE}."),
                   align="L")
    pdf.set_text_color(*INK)


def brief_pdf(brief: WeeklyBrief, bounds: Boundaries, *, generated_by: str, generated_at: datetime) -> bytes:
    """The one-page A4 PDF of a WeeklyBrief."""
    pdf = _Page()
    pdf.add_page()
    wk = brief.week
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(0, 8, _latin1(TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 6.5, _latin1(wk.label()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*GREY)
    lines = [
        _scope_line(brief),
        f"Pekan: {_day_name(wk.monday)} {fmt_date(wk.monday)} - {_day_name(wk.sunday)} {fmt_date(wk.sunday)} (WIB). "
        + (f"Pembanding: {fmt_range(brief.prev.start, brief.prev.end)}." if brief.prev.has_data
           else "Pembanding: pekan sebelumnya (tanpa data)."),
        f"Dibuat oleh {generated_by} pada {fmt_datetime_wib(generated_at)}.",
    ]
    for line in lines:
        pdf.multi_cell(0, 4.3, _latin1(line), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(*INK)
    if brief.notes:
        pdf.ln(1.5)
        pdf.set_fill_color(255, 243, 224)
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.multi_cell(0, 4.4, _latin1(" ".join(brief.notes)), fill=True, new_x="LMARGIN", new_y="NEXT", padding=1.2,
                       align="L")
    pdf.ln(2)

    _heading(pdf, "Angka utama pekan ini")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_fill_color(255, 255, 255)  # the rows between the stripes
    pdf.set_draw_color(200, 205, 210)
    pdf.set_line_width(0.2)
    with pdf.table(col_widths=(70, 38, 38, 40), line_height=5.4, text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=_head_style(), first_row_as_headings=True, **_ROWS) as table:
        table.row(["Ukuran", "Pekan ini", "Pekan sebelumnya", "Perubahan"])
        for row in headline_rows(brief):
            table.row([_latin1(c) for c in row])
    pdf.ln(3)

    top = pdf.get_y()
    left_w, gap = 68.0, 5.0
    map_x, map_w = MARGIN + left_w + gap, CONTENT_W - left_w - gap
    map_h = map_w * 0.72
    _heading(pdf, "Kemajuan pekan ini")
    printed = [f"{r.short_name} ({r.qr_printed_on.day} {MONTHS_SHORT[r.qr_printed_on.month - 1]}"
               + (", perkiraan" if r.qr_printed_estimate else "") + ")" for r in brief.printed.itertuples()]
    _name_list(pdf, MARGIN, left_w, f"QR dicetak pekan ini ({fmt_int(len(printed))} OPD)", printed,
               empty="Tidak ada OPD yang mencetak QR pekan ini.", max_lines=6)
    if brief.became_active is None:
        _name_list(pdf, MARGIN, left_w, "Mulai aktif pekan ini", [],
                   empty="Tidak dapat dihitung: " + ("pekan ini tanpa data check-in." if not brief.this.has_data
                                                     else "pekan sebelumnya tanpa data check-in."), max_lines=3)
    else:
        names = list(brief.became_active["short_name"])
        _name_list(pdf, MARGIN, left_w, f"Mulai aktif pekan ini ({fmt_int(len(names))} OPD)", names,
                   empty="Tidak ada OPD yang baru aktif pekan ini.", max_lines=6)
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(left_w, 3.6, _latin1(
        f"Aktif: ada check-in dalam {ACTIVE_WINDOW_DAYS} hari terakhir pekan. Cakupan ASN: rata-rata harian ASN yang "
        "check-in dibagi jumlah ASN, pada hari kerja, tertimbang jumlah ASN. Tingkat penolakan: check-in ditolak "
        "dibagi semua check-in."), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(*INK)
    left_end = pdf.get_y()
    pdf.set_xy(map_x, top)
    pdf.set_font("Helvetica", "B", 10.5)
    pdf.set_text_color(*BLUE)
    if brief.scope is None or brief.scope.has_map:
        pdf.cell(map_w, 6, "Peta cakupan ASN per kecamatan")
        pdf.set_text_color(*INK)
        draw_map(pdf, bounds, brief.kecamatan, x=map_x, y=top + 7, w=map_w, h=map_h)
        right_end = top + 7 + map_h + 15
    else:
        right_end = _area_table(pdf, brief, x=map_x, y=top, w=map_w)
    pdf.set_xy(MARGIN, max(left_end, right_end) + 3)

    which = "di bawah target atau belum mencetak QR" if brief.this.has_data else "belum mencetak QR"
    _heading(pdf, f"{min(BEHIND_ROWS, brief.behind_total)} OPD paling tertinggal"
             + (f" (dari {fmt_int(brief.behind_total)} OPD {which})" if brief.behind_total else ""))
    if brief.behind.empty:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, _latin1("Semua OPD sudah mencetak QR dan mencapai target cakupan ASN."),
                 new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", "", 8)
        pdf.set_fill_color(255, 255, 255)
        # a province's kecamatan carry their regency: a wider column
        widths = (7, 42, 38, 17, 82) if brief.scope is not None and brief.scope.is_province else (7, 46, 24, 19, 90)
        with pdf.table(col_widths=widths, line_height=4.4,
                       text_align=("RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT"), headings_style=_head_style(),
                       first_row_as_headings=True, **_ROWS) as table:
            table.row(["No.", "OPD", "Kecamatan", "Cakupan ASN", "Mengapa"])
            for i, r in enumerate(brief.behind.itertuples(), 1):
                table.row([str(i), _latin1(r.short_name), _latin1(r.kecamatan),
                           "-" if r.coverage is None or pd.isna(r.coverage) else _latin1(fmt_pct(r.coverage)),
                           _latin1(r.reason)])
    pdf.set_y(-14)
    pdf.set_font("Helvetica", "I", 7)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 3.4, _latin1(
        "Sumber: Pantau PeduliLindungi (rekap check-in per OPD dan hari, registri OPD). "
        f"Target cakupan ASN {fmt_pct(COVERAGE_TARGET, 0)}. Hari dalam WIB."), new_x="LMARGIN", new_y="NEXT")
    if pdf.page_no() != 1:  # pragma: no cover - the layout above is sized for one page
        raise RuntimeError("laporan mingguan melebihi satu halaman")
    return bytes(pdf.output())


def _scope_line(brief: WeeklyBrief) -> str:
    """Whose OPDs the brief covers, in words; the Surat Edaran is named for Bangkalan's own brief."""
    scope = brief.scope or Scope(regency_full(HOME_REGENCY), HOME_REGENCY, None)
    if scope.is_province:
        return f"Penerapan check-in PeduliLindungi di OPD {scope.label}; seluruh {fmt_int(brief.n_opds)} OPD."
    rule = f" (Surat Edaran Bupati Nomor {SURAT_EDARAN_NO})" if scope.regency == HOME_REGENCY else ""
    return f"Penerapan check-in PeduliLindungi di OPD Pemerintah {scope.label}{rule}; seluruh {fmt_int(brief.n_opds)} OPD."


def _area_table(pdf: FPDF, brief: WeeklyBrief, *, x: float, y: float, w: float) -> float:
    """Where no kecamatan outline exists (another regency; a province): the regencies or kecamatan
    with the lowest ASN coverage of the week, as a table in the map's place. Returns its bottom."""
    per = "kabupaten/kota" if brief.scope.is_province else "kecamatan"
    pdf.cell(w, 6, _latin1(f"Cakupan ASN terendah per {per}"))
    pdf.set_text_color(*INK)
    pdf.set_xy(x, y + 7)
    if brief.areas is None or brief.areas.empty:
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(w, 4.4, _latin1("Tidak dapat dihitung: pekan ini tanpa data check-in."), align="L")
        return pdf.get_y()
    old_margin = pdf.l_margin
    pdf.set_left_margin(x)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(width=w, col_widths=(w - 36, 14, 22), line_height=4.4, align="LEFT",
                   text_align=("LEFT", "RIGHT", "RIGHT"), headings_style=_head_style(), first_row_as_headings=True,
                   **_ROWS) as table:
        table.row([per.capitalize(), "OPD", "Cakupan ASN"])
        for r in brief.areas.itertuples():
            table.row([_latin1(r.name), fmt_int(r.opds),
                       "-" if r.coverage is None or pd.isna(r.coverage) else _latin1(fmt_pct(r.coverage))])
    pdf.set_left_margin(old_margin)
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.set_x(x)
    pdf.multi_cell(w, 3.6, _latin1(f"{AREA_ROWS} {per} dengan cakupan ASN terendah pada hari-hari pekan ini, "
                                   "tertimbang jumlah ASN."), align="L")
    pdf.set_text_color(*INK)
    return pdf.get_y()


_ROWS = dict(cell_fill_color=(243, 246, 248), cell_fill_mode="ROWS")  # light stripes, whatever fill came before


def _head_style():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(21, 101, 192), color=(255, 255, 255))


def make_brief(*, engine: Engine, week: Week, bounds: Boundaries, actor: Actor, via: str,
               generated_at: datetime, kabupaten: str | None = None) -> bytes:
    """The brief's PDF for a week, written to the audit log."""
    brief = weekly_brief(engine=engine, week=week, kabupaten=kabupaten)
    pdf = brief_pdf(brief, bounds, generated_by=actor.username,
                    generated_at=generated_at)
    log_brief(engine=engine, actor=actor, week=week, via=via, scope=brief.scope)
    return pdf


def file_name(week: Week) -> str:
    return f"laporan-mingguan-{week.iso}.pdf"


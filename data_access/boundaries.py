"""The kecamatan boundaries of the regency, drawn without internet by the map page and the weekly
brief: the shipped outlines (data_access/geo/, cahyadsn/wilayah_boundaries, MIT) or a user's own
file named by PANTAU_BOUNDARY_GEOJSON; the coverage colours; and a label placer, so names
written on a map do not cover each other.

No Streamlit and no plotly here: the app's figures (ui/charts.py) and the PDF (data_access/brief.py)
both read this module."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .registry import KECAMATAN_CENTROIDS

GEO_DIR = Path(__file__).resolve().parent / "geo"
DEFAULT_FILE = GEO_DIR / "bangkalan_kecamatan.geojson"
SOURCE_NOTE = "Batas wilayah: cahyadsn/wilayah_boundaries (MIT, (c) 2024 Cahya DSN), disederhanakan"

# The one colour scale of Cakupan ASN (map, choropleth, PDF): red, amber, light green at the
# target, dark green.
COVERAGE_SCALE: tuple[tuple[float, str], ...] = ((0.0, "#c62828"), (0.5, "#f9a825"), (0.8, "#7cb342"),
                                                 (1.0, "#1b5e20"))
NO_DATA_COLOR = "#e0e0e0"

Ring = list[tuple[float, float]]  # (lon, lat), closed or not


class BoundaryError(ValueError):
    """A boundary file that cannot be used; the message is for the user, in Bahasa Indonesia."""


@dataclass(frozen=True)
class Boundaries:
    """Kecamatan polygons keyed by the registry's kecamatan names, and the regency outline."""
    kecamatan: dict[str, list[Ring]]  # exterior rings of each kecamatan (one per part), largest first
    outline: list[Ring]  # exterior rings of the regency; empty when the file has none
    label_points: dict[str, tuple[float, float]]  # (lon, lat) where a kecamatan's name is written
    source: str  # "bawaan" or the user's file

    @property
    def shipped(self) -> bool:
        return self.source == "bawaan"

    def geojson(self) -> dict:
        """The kecamatan as a FeatureCollection with properties.nama (for a choropleth)."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": name, "properties": {"nama": name},
             "geometry": {"type": "MultiPolygon", "coordinates": [[[list(p) for p in ring]] for ring in rings]}}
            for name, rings in self.kecamatan.items()
        ]}

    def bbox(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of everything drawn."""
        pts = [p for rings in [*self.kecamatan.values(), self.outline] for ring in rings for p in ring]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), min(ys), max(xs), max(ys)


def configured_file(override: Path | None) -> Path:
    """The user's boundary file when configured (PANTAU_BOUNDARY_GEOJSON), else the shipped one."""
    return override if override is not None else DEFAULT_FILE


def _exterior_rings(geometry: dict) -> list[Ring]:
    kind = geometry.get("type")
    if kind == "Polygon":
        polys = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        polys = geometry["coordinates"]
    else:
        return []
    return [[(float(p[0]), float(p[1])) for p in poly[0]] for poly in polys if poly and len(poly[0]) >= 3]


def _ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed-area-weighted centroid (shoelace) of one ring: (area, lon, lat)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-15:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def _canonical(name: str) -> str:
    s = " ".join(str(name).split()).casefold()
    for prefix in ("kecamatan ", "kec. ", "kec "):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return s


def load(path: Path | None = None) -> Boundaries:
    """Read a GeoJSON FeatureCollection whose features carry properties.nama (the kecamatan's
    name, matched to the registry without regard to case or a 'Kec.' prefix). A feature with
    properties.level == 'kab' is the regency outline. Raises BoundaryError."""
    path = Path(path) if path is not None else DEFAULT_FILE
    try:
        with open(path, encoding="utf-8") as fh:
            gj = json.load(fh)
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        raise BoundaryError(f"berkas batas wilayah tidak dapat dibaca ({why})") from None
    except ValueError:
        raise BoundaryError("berkas batas wilayah bukan GeoJSON yang sah") from None
    feats = gj.get("features") if isinstance(gj, dict) else None
    if not isinstance(feats, list):
        raise BoundaryError("berkas batas wilayah bukan FeatureCollection GeoJSON")
    known = {_canonical(k): k for k in KECAMATAN_CENTROIDS}
    kecamatan: dict[str, list[Ring]] = {}
    labels: dict[str, tuple[float, float]] = {}
    outline: list[Ring] = []
    for f in feats:
        props = (f or {}).get("properties") or {}
        rings = _exterior_rings((f or {}).get("geometry") or {})
        if not rings:
            continue
        if props.get("level") == "kab":
            outline.extend(rings)
            continue
        name = known.get(_canonical(props.get("nama", "")))
        if name is None:
            continue
        kecamatan.setdefault(name, []).extend(rings)
        if isinstance(props.get("lat"), (int, float)) and isinstance(props.get("lng"), (int, float)):
            labels[name] = (float(props["lng"]), float(props["lat"]))
    if not kecamatan:
        raise BoundaryError("berkas batas wilayah tidak memuat kecamatan Kabupaten Bangkalan (properti 'nama')")
    for name, rings in kecamatan.items():
        if name not in labels:  # the centroid of the largest part
            _, x, y = max((_ring_area_centroid(r) for r in rings), key=lambda t: t[0])
            labels[name] = (x, y)
    # largest first: a coarse file's overlapping outlines then leave the small kecamatan on top
    order = sorted(kecamatan, key=lambda k: -sum(_ring_area_centroid(r)[0] for r in kecamatan[k]))
    return Boundaries({k: kecamatan[k] for k in order}, outline, {k: labels[k] for k in order},
                      "bawaan" if path.resolve() == DEFAULT_FILE else str(path))


# ---------------------------------------------------------------- colours
def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def coverage_rgb(value: float | None) -> tuple[int, int, int]:
    """The colour of a coverage (0..1) on COVERAGE_SCALE; grey for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _hex(NO_DATA_COLOR)
    v = min(max(float(value), 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(COVERAGE_SCALE, COVERAGE_SCALE[1:]):
        if v <= p1:
            t = (v - p0) / (p1 - p0) if p1 > p0 else 0.0
            a, b = _hex(c0), _hex(c1)
            return tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return _hex(COVERAGE_SCALE[-1][1])


# ---------------------------------------------------------------- projection and labels
@dataclass(frozen=True)
class Frame:
    """A lon/lat box shown in a width × height area (any unit: pixels, mm), aspect kept
    (equirectangular with the cosine of the middle latitude; at 7° S the same as Mercator
    within 1%), centred."""
    lon_min: float
    lat_min: float
    lon_max: float
    lat_max: float
    width: float
    height: float

    @property
    def _k(self) -> float:
        return math.cos(math.radians((self.lat_min + self.lat_max) / 2))

    @property
    def scale(self) -> float:
        """Units per degree of longitude."""
        return min(self.width / (self.lon_max - self.lon_min), self.height / ((self.lat_max - self.lat_min) / self._k))

    def to_xy(self, lon, lat):
        s, k = self.scale, self._k
        ox = (self.width - (self.lon_max - self.lon_min) * s) / 2
        oy = (self.height - (self.lat_max - self.lat_min) / k * s) / 2
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return ox + (lon - self.lon_min) * s, oy + (self.lat_max - lat) / k * s

    def to_lonlat(self, x, y):
        s, k = self.scale, self._k
        ox = (self.width - (self.lon_max - self.lon_min) * s) / 2
        oy = (self.height - (self.lat_max - self.lat_min) / k * s) / 2
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return self.lon_min + (x - ox) / s, self.lat_max - (y - oy) * k / s


def padded(bbox: tuple[float, float, float, float], frac: float = 0.04) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) * frac, (y1 - y0) * frac
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def text_box(text: str, font: float, *, char: float = 0.56, line: float = 1.3) -> tuple[float, float]:
    """Approximate width and height of a label (lines split at '<br>' or newlines), in the
    font's unit."""
    lines = [ln for ln in str(text).replace("<br>", "\n").split("\n")]
    plain = [ln.replace("<b>", "").replace("</b>", "") for ln in lines]
    return max(len(ln) for ln in plain) * font * char, len(plain) * font * line


def _inside(x: float, y: float, rings: list[np.ndarray]) -> bool:
    """Even-odd test of a point against polygon rings (arrays of (x, y))."""
    hit = False
    for r in rings:
        xs, ys = r[:, 0], r[:, 1]
        xn, yn = np.roll(xs, -1), np.roll(ys, -1)
        cross = (ys > y) != (yn > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = xs + (y - ys) * (xn - xs) / (yn - ys)
        hit ^= bool(np.count_nonzero(cross & (x < xi)) % 2)
    return hit


def place_labels(anchors: np.ndarray, sizes: np.ndarray, *, obstacles: np.ndarray | None = None,
                 obstacle_radius: float | np.ndarray = 4.0, width: float, height: float, gap: float = 3.0,
                 centred: bool = False, regions: list[list[np.ndarray]] | None = None,
                 first: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy label placement: each label (w, h) goes to the first of a set of positions around
    its anchor, nearest first, that overlaps no placed label, no obstacle (markers, radius r)
    and stays inside the area; if none is free, the least-overlapping one. `centred`: try the
    anchor itself first (names written inside their kecamatan); `regions`: per label, the rings
    (in the same units) it should rather stay inside; `first`: a label placed before all others.

    Returns (centres (n, 2), moved (n,) bool: the label does not cover its anchor, draw a
    leader line). Deterministic; the crowded anchors are placed first."""
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=float).reshape(-1, 2)
    n = len(anchors)
    obstacles = np.zeros((0, 2)) if obstacles is None else np.asarray(obstacles, dtype=float).reshape(-1, 2)
    radii = np.broadcast_to(np.asarray(obstacle_radius, dtype=float), (len(obstacles),))
    centres = anchors.copy()
    moved = np.zeros(n, dtype=bool)
    if n == 0:
        return centres, moved
    d = np.hypot(*(anchors[:, None, :] - anchors[None, :, :]).transpose(2, 0, 1))
    reach = 1.5 * float(sizes[:, 0].mean())
    order = np.argsort(-(d < reach).sum(axis=1), kind="stable")
    if first is not None:
        order = np.concatenate([[first], order[order != first]])
    placed: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1

    def cost(i: int, cx: float, cy: float, w: float, h: float) -> float:
        x0, y0, x1, y1 = cx - w / 2 - gap / 2, cy - h / 2 - gap / 2, cx + w / 2 + gap / 2, cy + h / 2 + gap / 2
        c = 0.0
        # outside the area: heavily penalised
        c += 50 * (max(0.0, -x0) + max(0.0, x1 - width) + max(0.0, -y0) + max(0.0, y1 - height)) * h
        for (a0, b0, a1, b1) in placed:
            ox, oy = min(x1, a1) - max(x0, a0), min(y1, b1) - max(y0, b0)
            if ox > 0 and oy > 0:
                c += 3 * ox * oy
        if regions is not None and regions[i] and not _inside(cx, cy, regions[i]):
            c += 0.2 * w * h
        if len(obstacles):
            nx = np.clip(obstacles[:, 0], x0, x1) - obstacles[:, 0]
            ny = np.clip(obstacles[:, 1], y0, y1) - obstacles[:, 1]
            inside = np.hypot(nx, ny) < radii
            c += float((radii[inside] ** 2).sum()) * 0.5
        return c

    def candidates(i: int) -> list[tuple[float, float]]:
        ax, ay = anchors[i]
        w, h = sizes[i]
        r0 = float(radii.max()) if len(radii) else 4.0
        cands = [(ax, ay)] if centred else []
        if centred:  # small steps around the anchor before the rings
            cands += [(ax + dx * w / 3, ay + dy * h / 2) for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0))]
        for step in range(8):
            dist = (r0 + gap) * (1 + step * 0.9) + step * 4
            for ang in range(0, 360, 30 if step < 3 else 15):
                ux, uy = math.cos(math.radians(ang)), -math.sin(math.radians(ang))
                # offset so the box's edge, not its centre, sits `dist` from the anchor
                cx = ax + ux * (dist + w / 2 * abs(ux))
                cy = ay + uy * (dist + h / 2 * abs(uy))
                cands.append((cx, cy))
        return cands

    def best(i: int) -> tuple[float, float, float]:
        w, h = sizes[i]
        found, found_c = None, math.inf
        for cx, cy in candidates(i):
            c = cost(i, cx, cy, w, h)
            if c < found_c - 1e-9:
                found, found_c = (cx, cy), c
            if c == 0:
                break
        return found[0], found[1], found_c

    def box(i: int) -> tuple[float, float, float, float]:
        (cx, cy), (w, h) = centres[i], sizes[i]
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    for i in order:
        cx, cy, _ = best(i)
        centres[i] = (cx, cy)
        placed.append(box(i))
    # a few rounds of second thoughts: each label, with all the others in place, moves to its
    # best position (the crowded first ones were placed before knowing their neighbours)
    for _ in range(3):
        for k, i in enumerate(order):
            placed.pop(k)
            cx, cy, _c = best(i)
            centres[i] = (cx, cy)
            placed.insert(k, box(i))
    off = np.abs(centres - anchors)
    moved = (off[:, 0] > sizes[:, 0] / 2) | (off[:, 1] > sizes[:, 1] / 2)
    return centres, moved

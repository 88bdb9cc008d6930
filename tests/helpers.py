"""Small fixed data sets with hand-computed figures."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select, update

from data_access.calendar import WIB
from data_access.checkins import write_checkins
from data_access.models import Opd


def opd_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Opd.id).where(Opd.code == code)).scalar_one()


def set_headcount(engine, code: str, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(Opd).where(Opd.code == code).values(asn_headcount=n))


def scans(engine, rows: list[tuple], *, source: str = "demo") -> int:
    """rows: (code, 'YYYY-mm-dd HH:MM' WIB, visitor_type, status, outcome, person)."""
    ids = {}
    df = pd.DataFrame(
        [
            {
                "opd_id": ids.setdefault(code, opd_id(engine, code)),
                "ts": datetime.strptime(ts, "%Y-%m-%d %H:%M").replace(tzinfo=WIB),
                "visitor_type": vt,
                "status": st,
                "outcome": oc,
                "visitor_key": f"key-{who}",
            }
            for code, ts, vt, st, oc, who in rows
        ]
    )
    with engine.begin() as conn:
        return write_checkins(conn, df, source=source)


SMALL = [
    # OPD A = DISKOMINFO (headcount 4), OPD B = DINKES (headcount 2)
    ("DISKOMINFO", "2022-01-10 07:30", "asn", "hijau", "diterima", "a1"),
    ("DISKOMINFO", "2022-01-10 07:40", "asn", "hijau", "diterima", "a2"),
    ("DISKOMINFO", "2022-01-10 12:00", "asn", "hijau", "diterima", "a1"),
    ("DISKOMINFO", "2022-01-10 09:00", "pengunjung", "merah", "ditolak", "v1"),
    ("DISKOMINFO", "2022-01-11 07:15", "asn", "hijau", "diterima", "a1"),
    ("DISKOMINFO", "2022-01-15 08:00", "asn", "hijau", "diterima", "a3"),  # Saturday
    ("DINKES", "2022-01-10 07:00", "asn", "hijau", "diterima", "b1"),
    ("DINKES", "2022-01-10 07:05", "asn", "hitam", "ditolak", "b2"),
    ("DINKES", "2022-01-10 23:30", "asn", "hijau", "diterima", "b3"),  # late evening WIB: still 10 Jan
]


def load_small(engine) -> None:
    set_headcount(engine, "DISKOMINFO", 4)
    set_headcount(engine, "DINKES", 2)
    assert scans(engine, SMALL) == len(SMALL)


def _decode(obj):
    """Plotly's JSON keeps numeric arrays as base64 typed arrays ({'dtype', 'bdata'})."""
    import base64

    import numpy as np

    if isinstance(obj, dict):
        if set(obj) >= {"dtype", "bdata"}:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            if "shape" in obj:
                shape = obj["shape"]
                shape = [int(x) for x in shape.split(",")] if isinstance(shape, str) else shape
                arr = arr.reshape(shape)
            return arr.tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def figure(at, i: int = 0) -> dict:
    """The i-th plotly chart of an AppTest run, as plain JSON (arrays decoded)."""
    import json

    return _decode(json.loads(at.get("plotly_chart")[i].proto.spec))

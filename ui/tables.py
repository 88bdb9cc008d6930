"""Tables in Indonesian formats: numbers as 12.810 and 87,6%, dates as 5 Jan 2022, whatever the
browser's language. st.dataframe's own "localized" format follows the browser (an English one
shows 12,810), so the shown text comes from a pandas Styler while the cells keep their numbers and
dates: a click on a column header still sorts 987 before 1.234, and 31 Des 2021 before 5 Jan 2022.

    show_table(df, key="adopsi_table", formats={"Check-in": "int", "Cakupan ASN": "pct"})

Kinds: "int" (12.810), "dec" (4,5), "pct" (a fraction: 0,876 -> 87,6%), "pct_points" (87,6 -> 87,6%),
"date" (5 Jan 2022), "date_long" (5 Januari 2022), "datetime_wib" (a naive-UTC instant shown in WIB),
"coord" (a latitude or longitude: -7,0279)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from data_access.fmt import fmt_date, fmt_datetime_wib, fmt_dec, fmt_int, fmt_pct

MISSING = "–"


def _na(fn: Callable) -> Callable:
    def out(v):
        if v is None or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)):
            return MISSING
        return fn(v)
    return out


FORMATTERS: dict[str, Callable] = {
    "int": _na(fmt_int),
    "dec": _na(fmt_dec),
    "dec2": _na(lambda v: fmt_dec(v, 2)),
    "pct": _na(fmt_pct),
    "pct_points": _na(lambda v: fmt_dec(v) + "%"),
    "pct_points2": _na(lambda v: fmt_dec(v, 2) + "%"),
    "date": _na(lambda v: fmt_date(v, short=True)),
    "date_long": _na(fmt_date),
    "datetime_wib": _na(fmt_datetime_wib),
    "coord": _na(lambda v: fmt_dec(v, 4)),
}


def styled(df: pd.DataFrame, formats: Mapping[str, str | Callable]):
    """The frame with its display text in Indonesian formats (a pandas Styler)."""
    fns = {c: FORMATTERS[f] if isinstance(f, str) else _na(f) for c, f in formats.items() if c in df.columns}
    return df.style.format(fns, na_rep=MISSING)


def show_table(df: pd.DataFrame, *, key: str, formats: Mapping[str, str | Callable] | None = None,
               column_config: dict | None = None, **kwargs):
    """st.dataframe of `df` with Indonesian number and date formats; sorting keeps the values.
    Other keyword arguments go to st.dataframe (height, on_select, selection_mode, ...)."""
    data = styled(df, formats) if formats else df
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(data, key=key, placeholder=MISSING, column_config=column_config, **kwargs)

"""Spreadsheet-safe exports: every CSV and XLSX the app writes goes through here.

A spreadsheet runs text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (CSV injection), and openpyxl stores any text beginning with "=" as a formula. Following
OWASP's advice, such text gets a leading single quote, so it is shown as the text it is. Real
numbers (int and float values, negative ones included) are numbers, not text, and are left alone.

No Streamlit here: the data layer (rejected import rows, the command line) and the pages share it.
"""
from __future__ import annotations

import csv
import io
import re

import pandas as pd

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# characters an XLSX cell cannot hold (openpyxl raises IllegalCharacterError on them)
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_REPLACEMENT = "\ufffd"


def neutralise(value):
    """Text a spreadsheet would run as a formula, quoted; anything else (numbers, NaN, None,
    dates, already-quoted text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return QUOTE + value
    return value


def _xlsx_text(value):
    """Control characters an XLSX cannot hold, replaced; then neutralised (a control character
    in front of "=" must not uncover the formula)."""
    if isinstance(value, str):
        value = _XLSX_ILLEGAL.sub(_XLSX_REPLACEMENT, value)
    return neutralise(value)


def _is_plain(col: pd.Series) -> bool:
    """Columns holding no text: numbers, booleans, dates."""
    return (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
            or pd.api.types.is_datetime64_any_dtype(col))


def neutralise_frame(df: pd.DataFrame, *, xlsx: bool = False) -> pd.DataFrame:
    """A copy of the table with every text cell and column name neutralised (for XLSX also
    without the control characters it cannot hold); number, boolean and date columns as they are."""
    fix = _xlsx_text if xlsx else neutralise
    out = df.copy()
    out.columns = [fix(c) for c in out.columns]
    for i in range(out.shape[1]):  # by position: column names may repeat
        col = out.iloc[:, i]
        if _is_plain(col):
            continue
        if pd.api.types.is_timedelta64_dtype(col):  # written as text such as "-1 days"
            col = col.astype(str)
        out.isetitem(i, col.astype(object).map(fix))
    return out


def csv_text(df: pd.DataFrame, sep: str = ",", *, header: bool = True) -> str:
    """Lines end in CRLF (RFC 4180): then every field holding a carriage return is quoted, and a
    bare CR inside a text cannot start a new row whose first cell is a formula. Every text field
    is quoted, so a spreadsheet that splits on another separator (Excel with Indonesian regional
    settings splits on ';') cannot cut a text into a cell that starts with '='. Without `header`:
    the rows only (a file written in pieces)."""
    return neutralise_frame(df).to_csv(index=False, sep=sep, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC,
                                       header=header)


def csv_bytes(df: pd.DataFrame, sep: str = ",") -> bytes:
    """UTF-8 with BOM, so Excel reads it."""
    return csv_text(df, sep).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Data") -> bytes:
    sheet = sheet[:31]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        neutralise_frame(df, xlsx=True).to_excel(xw, index=False, sheet_name=sheet)
        ws = xw.sheets[sheet]
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type != "s":
                    cell.data_type = "s"  # text stays text: never a formula ('f') or an error value ('e')
        for col in ws.columns:  # readable column widths
            width = max(len(str(c.value or "")) for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    return buf.getvalue()

"""Download buttons for tables: CSV (UTF-8 with BOM, so Excel reads it) and Excel, both written by
data_access.safe_export, so no cell of them runs as a formula."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data_access.safe_export import csv_bytes, xlsx_bytes


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    return csv_bytes(df)


def to_excel_bytes(df: pd.DataFrame, sheet: str = "Data") -> bytes:
    return xlsx_bytes(df, sheet)


def download_buttons(df: pd.DataFrame, basename: str, *, key: str, sheet: str = "Data") -> None:
    """CSV and Excel buttons whose files are written when clicked, not on every run of the page:
    an Excel file of a province's 2.000 OPDs took a second to write, for each session and run."""
    a, b, _ = st.columns([1, 1, 4])
    a.download_button("Unduh CSV", lambda: to_csv_bytes(df), file_name=f"{basename}.csv", mime="text/csv",
                      key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    b.download_button("Unduh Excel", lambda: to_excel_bytes(df, sheet), file_name=f"{basename}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")

"""Download buttons for tables: CSV (UTF-8 with BOM, so Excel reads it) and Excel."""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame, sheet: str = "Data") -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, index=False, sheet_name=sheet[:31])
        ws = xw.sheets[sheet[:31]]
        for col in ws.columns:  # readable column widths
            width = max(len(str(c.value or "")) for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    return buf.getvalue()


def download_buttons(df: pd.DataFrame, basename: str, *, key: str, sheet: str = "Data") -> None:
    a, b, _ = st.columns([1, 1, 4])
    a.download_button("Unduh CSV", to_csv_bytes(df), file_name=f"{basename}.csv", mime="text/csv",
                      key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    b.download_button("Unduh Excel", to_excel_bytes(df, sheet), file_name=f"{basename}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")

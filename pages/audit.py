"""Log audit (kominfo only): every data-changing action, login and failed login."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from data_access import auth
from data_access.calendar import now_utc
from data_access.fmt import fmt_datetime_wib
from ui.export import download_buttons
from ui.page import setup_page

actor, engine, _ = setup_page("audit", "Log audit", filters=False,
                              caption="Siapa mengubah apa dan kapan (WIB). Termasuk login dan login gagal.")
today = (now_utc() + timedelta(hours=7)).date()
c1, c2 = st.columns([2, 3])
period = c1.date_input("Periode", value=(today - timedelta(days=30), today), key="audit_period", format="DD/MM/YYYY")
start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (today - timedelta(days=30), today))
log = auth.audit_log(engine=engine, actor=actor, start=start, end=end)
actions = sorted(log["action"].unique())
chosen = c2.multiselect("Jenis tindakan", actions, key="audit_actions", placeholder="Semua tindakan")
if chosen:
    log = log[log["action"].isin(chosen)]
table = pd.DataFrame({
    "Waktu (WIB)": [fmt_datetime_wib(t) for t in log["at"]],
    "Pengguna": log["username"],
    "Tindakan": log["action"],
    "Sasaran": log["target"],
    "Sebelum": log["before"],
    "Sesudah": log["after"],
})
st.caption(f"{len(table)} entri")
st.dataframe(table, hide_index=True, width="stretch", placeholder="–", key="audit_table")
download_buttons(table, f"log-audit-{start:%Y%m%d}-{end:%Y%m%d}", key="audit_export", sheet="Log audit")

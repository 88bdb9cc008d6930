"""Log audit (kominfo only): every data-changing action, login and failed login, as sentences
("kominfo mengunduh poster QR Dinas Kesehatan") with what changed as a readable list. The downloads
keep the raw values (action code, target, JSON before/after) as extra columns."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from data_access import auth
from data_access.calendar import SURAT_EDARAN_DATE
from data_access.fmt import fmt_datetime_wib, fmt_int, fmt_range
from data_access.labels import ACTION_LABELS, audit_changes, audit_export, audit_sentence
from data_access.onboarding import today_wib
from ui.data import opd_registry
from ui.export import download_buttons
from ui.filters import Bounds, period_picker
from ui.page import setup_page
from ui.safe import md
from ui.tables import show_table

actor, engine, _ = setup_page("audit", "Log audit", filters=False,
                              caption="Siapa mengubah apa dan kapan (WIB). Termasuk login dan login gagal.")
today = today_wib()
bounds = Bounds(lo=min(SURAT_EDARAN_DATE, today - timedelta(days=3650)), hi=today,
                default=(today - timedelta(days=29), today), data=None, today=today)
left, right = st.columns([3, 2])
with left:
    start, end = period_picker(st.container(), key="audit_periode", b=bounds)
log = auth.audit_log(engine=engine, actor=actor, start=start, end=end)
actions = sorted(log["action"].unique(), key=lambda a: ACTION_LABELS.get(a, a))
chosen = right.multiselect("Jenis tindakan", actions, format_func=lambda a: ACTION_LABELS.get(a, a),
                           key="audit_actions", placeholder="Semua tindakan")
users = sorted(log["username"].unique())
who = right.multiselect("Pengguna", users, key="audit_users", placeholder="Semua pengguna")
if chosen:
    log = log[log["action"].isin(chosen)]
if who:
    log = log[log["username"].isin(who)]
log = log.reset_index(drop=True)

reg = opd_registry()
names = dict(zip(reg["code"], reg["short_name"]))
sentences = [audit_sentence(username=r.username, action=r.action, target=r.target, before=r.before, after=r.after,
                            opd_names=names) for r in log.itertuples()]
changes = [audit_changes(r.before, r.after, opd_names=names) for r in log.itertuples()]
table = pd.DataFrame({  # the sentence first: on a phone it is what fits
    "Kejadian": sentences,
    "Waktu (WIB)": pd.to_datetime(log["at"]),
    "Perubahan": ["; ".join(c) for c in changes],
    "Pengguna": log["username"],
    "Jenis": [ACTION_LABELS.get(a, a) for a in log["action"]],
})
st.caption(f"{fmt_int(len(table))} entri · {fmt_range(start, end)} · pilih satu baris untuk rinciannya.")
picked = show_table(table, key="audit_table", formats={"Waktu (WIB)": "datetime_wib"},
                    column_config={"Kejadian": st.column_config.TextColumn(width="large"),
                                   "Perubahan": st.column_config.TextColumn(width="large")},
                    on_select="rerun", selection_mode="single-row")
rows = picked.selection.rows if picked is not None else []
if rows:
    i = rows[0]
    with st.container(border=True):
        st.markdown(f"**{md(sentences[i])}** · {fmt_datetime_wib(log.loc[i, 'at'])}")
        if changes[i]:
            st.markdown("\n".join(f"- {md(line)}" for line in changes[i]))
        else:
            st.caption("Tanpa nilai sebelum/sesudah.")

download_buttons(audit_export(log, opd_names=names), f"log-audit-{start:%Y%m%d}-{end:%Y%m%d}",
                 key="audit_export", sheet="Log audit")

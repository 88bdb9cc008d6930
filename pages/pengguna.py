"""Pengguna (kominfo only): local accounts and their roles."""
import pandas as pd
import streamlit as st

from data_access import auth
from data_access.fmt import fmt_datetime_wib
from ui.page import run_action, setup_page

actor, engine, _ = setup_page("pengguna", "Pengguna", filters=False,
                              caption="Akun lokal dasbor. Hanya Diskominfo yang dapat mengelola pengguna.")


users = auth.list_users(engine=engine)
now_locked = users["locked_until"].notna() & (pd.to_datetime(users["locked_until"]) > pd.Timestamp.now("UTC").tz_localize(None))
st.dataframe(
    pd.DataFrame({
        "Nama pengguna": users["username"],
        "Peran": users["role"].map(auth.ROLE_LABELS),
        "Status": ["nonaktif" if not a else ("terkunci" if lk else "aktif") for a, lk in zip(users["active"], now_locked)],
        "Terakhir masuk": [fmt_datetime_wib(t) if pd.notna(t) else "–" for t in users["last_login_at"]],
        "Dibuat": [fmt_datetime_wib(t) for t in users["created_at"]],
    }),
    hide_index=True, width="stretch", placeholder="–", key="pengguna_table",
)

add, manage = st.columns(2)
with add:
    st.subheader("Tambah pengguna")
    with st.form("pengguna_add", clear_on_submit=True):
        name = st.text_input("Nama pengguna", key="pengguna_add_name", max_chars=auth.MAX_USERNAME)
        role = st.selectbox("Peran", auth.ROLES, format_func=auth.ROLE_LABELS.get, key="pengguna_add_role")
        pw = st.text_input("Kata sandi awal", type="password", key="pengguna_add_pw", max_chars=auth.MAX_PASSWORD,
                           help=f"Minimal {auth.MIN_PASSWORD} karakter. Sampaikan kepada pengguna lewat jalur aman.")
        if st.form_submit_button("Tambah", type="primary"):
            run_action(lambda: auth.add_user(engine=engine, actor=actor, username=name, password=pw, role=role),
                f"Pengguna {name} dibuat.")
with manage:
    st.subheader("Ubah pengguna")
    target = st.selectbox("Pengguna", list(users["username"]), key="pengguna_target")
    if target:
        with st.form("pengguna_reset", clear_on_submit=True):
            pw2 = st.text_input("Kata sandi baru", type="password", key="pengguna_reset_pw",
                                max_chars=auth.MAX_PASSWORD)
            if st.form_submit_button("Atur ulang kata sandi (membuka kunci)"):
                run_action(lambda: auth.set_password(engine=engine, actor=actor, username=target, password=pw2),
                    f"Kata sandi {target} diganti dan akunnya dibuka.")
        cur = users.set_index("username").loc[target]
        new_role = st.selectbox("Peran baru", auth.ROLES, index=auth.ROLES.index(cur["role"]),
                                format_func=auth.ROLE_LABELS.get, key="pengguna_role")
        c1, c2 = st.columns(2)
        if c1.button("Simpan peran", key="pengguna_role_save"):
            run_action(lambda: auth.set_role(engine=engine, actor=actor, username=target, role=new_role),
                f"Peran {target} menjadi {auth.ROLE_LABELS[new_role]}.")
        if bool(cur["active"]):
            if c2.button("Nonaktifkan", key="pengguna_disable"):
                run_action(lambda: auth.set_active(engine=engine, actor=actor, username=target, active=False),
                    f"{target} dinonaktifkan.")
        elif c2.button("Aktifkan kembali", key="pengguna_enable"):
            run_action(lambda: auth.set_active(engine=engine, actor=actor, username=target, active=True),
                f"{target} diaktifkan kembali.")

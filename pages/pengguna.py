"""Pengguna (kominfo only): local accounts, their roles and display names."""
import pandas as pd
import streamlit as st

from data_access import auth
from data_access.fmt import fmt_datetime_wib
from ui.page import run_action, setup_page
from ui.session import renew

actor, engine, _ = setup_page("pengguna", "Pengguna", filters=False,
                              caption="Akun lokal dasbor. Hanya Diskominfo yang dapat mengelola pengguna.")


users = auth.list_users(engine=engine)
now_locked = users["locked_until"].notna() & (pd.to_datetime(users["locked_until"]) > pd.Timestamp.now("UTC").tz_localize(None))
st.dataframe(
    pd.DataFrame({
        "Nama pengguna": users["username"],
        "Nama tampilan": users["display_name"].fillna("–"),
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
        display = st.text_input("Nama tampilan", key="pengguna_add_display", max_chars=auth.MAX_DISPLAY_NAME,
                                placeholder="mis. Abd. Halim (Satpol PP)",
                                help="Nama yang tampil sebagai petugas kunjungan; boleh dikosongkan.")
        pw = st.text_input("Kata sandi awal", type="password", key="pengguna_add_pw", max_chars=auth.MAX_PASSWORD,
                           help=f"Minimal {auth.MIN_PASSWORD} karakter. Sampaikan kepada pengguna lewat jalur aman.")
        if st.form_submit_button("Tambah", type="primary"):
            run_action(lambda: auth.add_user(engine=engine, actor=actor, username=name, password=pw, role=role,
                                             display_name=display),
                f"Pengguna {name} dibuat.")
with manage:
    st.subheader("Ubah pengguna")
    target = st.selectbox("Pengguna", list(users["username"]), key="pengguna_target")
    if target:
        with st.form("pengguna_reset", clear_on_submit=True):
            pw2 = st.text_input("Kata sandi baru", type="password", key="pengguna_reset_pw",
                                max_chars=auth.MAX_PASSWORD)
            if st.form_submit_button("Atur ulang kata sandi (membuka kunci)"):
                def reset() -> None:
                    auth.set_password(engine=engine, actor=actor, username=target, password=pw2)
                    if target == actor.username:  # one's own sessions ended too: this browser gets a new one
                        renew(engine)

                run_action(reset,
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
        with st.form("pengguna_name", enter_to_submit=False):
            shown = cur["display_name"] if isinstance(cur["display_name"], str) else ""
            new_name = st.text_input("Nama tampilan", value=shown, key=f"pengguna_name_{target}",
                                     max_chars=auth.MAX_DISPLAY_NAME, help="Kosong: nama pengguna yang tampil.")
            if st.form_submit_button("Simpan nama tampilan"):
                run_action(lambda: auth.set_display_name(engine=engine, actor=actor, username=target,
                                                         display_name=new_name),
                           f"Nama tampilan {target} disimpan.")

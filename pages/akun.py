"""Akun saya: who is signed in, change one's own password."""
import streamlit as st

from data_access import auth
from ui.page import setup_page
from ui.safe import md

actor, engine, _ = setup_page("akun", "Akun saya", filters=False)
st.write(f"Nama pengguna: **{md(actor.username)}** · Peran: **{auth.ROLE_LABELS[actor.role]}**")
if st.session_state.get("auth", {}).get("sso"):
    st.info("Anda masuk melalui SSO instansi; kata sandi dikelola oleh penyedia SSO.")
else:
    st.subheader("Ganti kata sandi")
    with st.form("akun_password", clear_on_submit=True):
        old = st.text_input("Kata sandi lama", type="password", key="akun_old", max_chars=auth.MAX_PASSWORD)
        new = st.text_input("Kata sandi baru", type="password", key="akun_new", max_chars=auth.MAX_PASSWORD,
                            help=f"Minimal {auth.MIN_PASSWORD} karakter.")
        again = st.text_input("Ulangi kata sandi baru", type="password", key="akun_again",
                              max_chars=auth.MAX_PASSWORD)
        if st.form_submit_button("Simpan kata sandi", type="primary"):
            if new != again:
                st.error("Kata sandi baru dan ulangannya tidak sama.")
            else:
                try:
                    auth.change_own_password(engine=engine, actor=actor, old=old, new=new)
                except auth.AuthError as exc:
                    st.error(str(exc))
                else:
                    st.success("Kata sandi berhasil diganti.")
st.caption("Sesi berakhir otomatis setelah 30 menit tanpa aktivitas. Tombol **Keluar** ada di bilah samping.")

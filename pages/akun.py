"""Akun saya: who is signed in, one's own display name (the officer of a visit), change one's
own password."""
import streamlit as st

from data_access import auth
from ui.data import display_name_of
from ui.page import run_action, setup_page
from ui.safe import md
from ui.session import renew

actor, engine, _ = setup_page("akun", "Akun saya", filters=False)
sso = bool(st.session_state.get("auth", {}).get("sso"))
shown = display_name_of(username=actor.username)
st.write(f"Nama pengguna: **{md(actor.username)}** · Nama tampilan: **{md(shown)}** · "
         f"Peran: **{auth.ROLE_LABELS[actor.role]}**")
if sso:
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
                    renew(engine)  # every session of the account ended: this browser gets a new one
                    st.success("Kata sandi berhasil diganti. Sesi di perangkat lain diakhiri.")
    st.subheader("Nama tampilan")
    with st.form("akun_name", enter_to_submit=False):
        name = st.text_input("Nama tampilan", value="" if shown == actor.username else shown, key="akun_display_name",
                             max_chars=auth.MAX_DISPLAY_NAME, placeholder="mis. Abd. Halim (Satpol PP)",
                             help="Nama yang tampil sebagai petugas saat mencatat kunjungan. Kosong: nama pengguna.")
        if st.form_submit_button("Simpan nama"):
            run_action(lambda: auth.set_display_name(engine=engine, actor=actor, username=actor.username,
                                                     display_name=name), "Nama tampilan disimpan.")
st.caption("Anda tetap masuk saat memuat ulang halaman atau membuka tab baru, sampai menekan **Keluar** (di bilah "
           "samping), 30 menit tanpa aktivitas, atau 12 jam sejak masuk.")

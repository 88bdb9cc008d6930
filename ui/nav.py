"""Which pages exist, where they sit in the navigation, and which roles may open them.
dashboard.py builds the navigation from this; every page checks it again itself."""
from __future__ import annotations

from dataclasses import dataclass

ALL = frozenset({"pimpinan", "kominfo", "satpolpp"})
KOMINFO = frozenset({"kominfo"})


@dataclass(frozen=True)
class PageDef:
    key: str
    file: str
    title: str
    icon: str
    section: str
    roles: frozenset


PAGES: list[PageDef] = [
    PageDef("ringkasan", "pages/ringkasan.py", "Ringkasan", ":material/dashboard:", "Pimpinan", ALL),
    PageDef("adopsi", "pages/adopsi.py", "Adopsi per OPD", ":material/leaderboard:", "Pimpinan", ALL),
    PageDef("peta", "pages/peta.py", "Peta adopsi", ":material/map:", "Pimpinan", ALL),
    PageDef("onboarding", "pages/onboarding.py", "Onboarding OPD", ":material/checklist:", "Kominfo", ALL),
    PageDef("qr", "pages/qr.py", "Unduh QR Code", ":material/qr_code_2:", "Kominfo", ALL),
    PageDef("penolakan", "pages/penolakan.py", "Tren penolakan", ":material/block:", "Satpol PP", ALL),
    PageDef("monev", "pages/monev.py", "Monev dan kunjungan", ":material/fact_check:", "Satpol PP", ALL),
    PageDef("impor", "pages/impor.py", "Impor data check-in", ":material/upload_file:", "Kominfo", KOMINFO),
    PageDef("pengguna", "pages/pengguna.py", "Pengguna", ":material/group:", "Kominfo", KOMINFO),
    PageDef("audit", "pages/audit.py", "Log audit", ":material/history:", "Kominfo", KOMINFO),
    PageDef("akun", "pages/akun.py", "Akun saya", ":material/account_circle:", "Akun", ALL),
]
PAGE_ROLES = {p.key: p.roles for p in PAGES}


def pages_for(role: str) -> list[PageDef]:
    return [p for p in PAGES if role in p.roles]


def show_page_list() -> None:
    """Let st.navigation show the signed-in user's pages in the sidebar.

    .streamlit/config.toml sets client.showSidebarNavigation = false: the first run after a server
    start goes through Streamlit's pages-folder mode, which would otherwise list the raw files of
    pages/ (dashboard, adopsi, akun, audit, ...) while the database starts (about 10 s on a first
    start, while the demo data is written). The same option also hides st.navigation's sidebar, so
    the router turns it on once someone is signed in (a client option scripts may set; that
    first-run mode never comes back in the server's life)."""
    import streamlit as st

    if st.get_option("client.showSidebarNavigation") is not True:
        st.set_option("client.showSidebarNavigation", True)

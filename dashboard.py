"""Entry point and router: page config, the login gate, and the navigation for the
signed-in role. No queries or figures here."""
import streamlit as st

from data_access import auth, registry
from data_access.demo import is_demo
from ui.chrome import FAVICON, hide_input_hints
from ui.engine import engine_or_stop, open_engine
from ui.nav import PAGES, pages_for, show_page_list
from ui.safe import md, show_unexpected
from ui.session import current_actor, logout, sign_in, sso_configured, sync_cookie

st.set_page_config(page_title="Pantau PeduliLindungi Bangkalan", page_icon=FAVICON, layout="wide")
hide_input_hints()  # Streamlit's "Press Enter to submit form" speaks English only


def login_page() -> None:
    engine = engine_or_stop()
    with engine.connect() as conn:
        demo = is_demo(conn)
        regencies = registry.regencies(conn)
    st.title("Pantau PeduliLindungi Bangkalan")
    st.caption(registry.scope_sentence(regencies))
    msg = st.session_state.pop("auth_message", None)
    if msg:
        st.warning(msg)
    if demo:
        st.info(
            "**Basis data demo.** Akun contoh: `pimpinan` / `demo-pimpinan`, `kominfo` / `demo-kominfo`, "
            "`satpolpp` / `demo-satpolpp`.",
            icon=":material/science:",
        )
    if not auth.has_users(engine=engine) and not sso_configured():
        st.warning(
            "Belum ada akun pengguna. Administrator membuat akun pertama di server dengan perintah: "
            "`python -m data_access users add NAMA --role kominfo`"
        )
    with st.form("login_form", clear_on_submit=True):
        username = st.text_input("Nama pengguna", key="login_username", max_chars=auth.MAX_USERNAME)
        password = st.text_input("Kata sandi", type="password", key="login_password", max_chars=auth.MAX_PASSWORD)
        submitted = st.form_submit_button("Masuk", type="primary")
    if submitted:
        try:
            actor = auth.authenticate(engine=engine, username=username, password=password,
                                      address=st.context.ip_address)  # None for a local connection
        except auth.AuthError as exc:
            st.error(str(exc))
        else:
            sign_in(actor, engine)  # a session token for this browser's cookie: a reload stays signed in
            st.rerun()
    if sso_configured():
        st.divider()
        if st.button("Masuk dengan akun instansi (SSO)", key="login_sso"):
            st.login()


def _home_at(home):
    def go_home() -> None:  # /ringkasan: the overview is the app's address itself
        st.switch_page(home, query_params={k: st.query_params.get_all(k) for k in st.query_params})

    return go_home


def _not_for_role(page, role: str, home):
    def refused() -> None:
        st.title(page.title)
        st.warning(f"Halaman **{page.title}** hanya untuk "
                   f"{' dan '.join(auth.ROLE_LABELS[r] for r in sorted(page.roles))}. Anda masuk sebagai "
                   f"{auth.ROLE_LABELS[role]}.", icon=":material/lock:")
        st.page_link(home, label="Buka Ringkasan", icon=":material/dashboard:")

    refused.__name__ = f"refused_{page.key}"
    return refused



def _logout_clicked() -> None:
    st.session_state["sso_logout"] = bool(st.session_state.get("auth", {}).get("sso"))
    logout("Anda telah keluar.")


engine, problem = open_engine()
if problem:  # the message alone: no menu of pages that cannot open either
    st.navigation([st.Page(lambda: st.error(problem), title="Galat", url_path="galat")], position="hidden").run()
    st.stop()
if st.session_state.pop("sso_logout", False):
    st.logout()  # also drop the identity cookie of the single sign-on
actor = current_actor(engine)
sync_cookie()  # the session cookie set after signing in, cleared after signing out
if actor is None:
    # Every page address shows the login form, so a bookmarked or shared link (with its filters)
    # opens the requested page right after signing in.
    def _login_at(key: str):
        def show() -> None:
            login_page()

        show.__name__ = f"login_{key}"
        return show

    login_pages = [st.Page(login_page, title="Masuk", icon=":material/login:", url_path="masuk", default=True)]
    login_pages += [st.Page(_login_at(p.key), title="Masuk", url_path=p.key) for p in PAGES]
    nav = st.navigation(login_pages, position="hidden")
else:
    sections: dict[str, list] = {}
    for p in pages_for(actor.role):
        sections.setdefault(p.section, []).append(
            # the overview is served at the app's address; its own name (/ringkasan) is an alias below
            st.Page(p.file, title=p.title, icon=p.icon, url_path="beranda" if p.key == "ringkasan" else p.key,
                    default=p.key == "ringkasan")
        )
    home = sections["Pimpinan"][0]
    # Addresses that are not in the menu still answer in Bahasa Indonesia instead of Streamlit's
    # English "Page not found": the overview's own name (it is served at /), and the pages of
    # other roles, which say whose they are.
    hidden = [st.Page(_home_at(home), title="Ringkasan", url_path="ringkasan", visibility="hidden")]
    hidden += [st.Page(_not_for_role(p, actor.role, home), title=p.title, url_path=p.key, visibility="hidden")
               for p in PAGES if actor.role not in p.roles]
    sections.setdefault("Akun", []).extend(hidden)
    with st.sidebar:
        st.caption(f"Masuk sebagai **{md(actor.username)}** · {auth.ROLE_LABELS[actor.role]}")
        st.button("Keluar", key="logout_button", icon=":material/logout:", on_click=_logout_clicked)
    show_page_list()  # signed in: the role's pages in the sidebar (hidden before, see ui.nav)
    nav = st.navigation(sections)
try:
    nav.run()
except Exception as exc:  # st.stop and st.rerun are not Exceptions: they pass through
    show_unexpected(exc)

"""Login state: who is signed in (a local account or the single sign-on), the session's expiry
after inactivity, and the guard every page passes before it shows anything."""
from __future__ import annotations

import time

import streamlit as st

from data_access import auth
from ui.nav import PAGE_ROLES

SESSION_TIMEOUT_S = 30 * 60


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_actor(engine) -> auth.Actor | None:
    """A user signed in through st.login, mapped to a role by the allow-list in secrets
    ([pantau.sso_roles] email = "role")."""
    if not sso_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email", "")).lower()
        roles = {k.lower(): v for k, v in dict(st.secrets.get("pantau", {}).get("sso_roles", {})).items()}
    except Exception:
        return None
    role = roles.get(email)
    if role not in auth.ROLES:
        return None
    return auth.Actor(email, role)


def current_actor(engine) -> auth.Actor | None:
    state = st.session_state.get("auth")
    now = time.time()
    if state:
        if now - state["seen"] > SESSION_TIMEOUT_S:
            logout("Sesi Anda berakhir setelah 30 menit tanpa aktivitas. Silakan masuk lagi.")
            return None
        if state.get("sso"):
            actor = _sso_actor(engine)
        else:
            role = auth.role_of(engine=engine, username=state["username"])
            actor = auth.Actor(state["username"], role) if role else None
        if actor is None:
            logout("Akun Anda dinonaktifkan atau tidak lagi berwenang.")
            return None
        state["seen"] = now
        state["role"] = actor.role
        return actor
    actor = _sso_actor(engine)
    if actor is not None:
        st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": now, "sso": True}
    return actor


def sign_in(actor: auth.Actor) -> None:
    st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": time.time(), "sso": False}


def logout(message: str | None = None) -> None:
    st.session_state.pop("auth", None)
    if message:
        st.session_state["auth_message"] = message


def guard(engine, page_key: str) -> auth.Actor:
    """Stop the page unless someone is signed in with a role that may open it."""
    actor = current_actor(engine)
    if actor is None:
        msg = st.session_state.pop("auth_message", None)
        st.warning(msg or "Silakan masuk terlebih dahulu.")
        st.stop()
    if actor.role not in PAGE_ROLES[page_key]:
        st.error("Anda tidak berwenang membuka halaman ini.")
        st.stop()
    return actor

"""Login state: who is signed in (a local account or the single sign-on), the session's expiry
after inactivity, and the guard every page passes before it shows anything.

A password sign-in also starts a server-side session (data_access.sessions) whose signed token
the browser keeps in a cookie, so a reload or a second tab stays signed in. Every run checks the
token again: a session ended by logging out, by disabling the account, by a new password, or by
30 minutes without use is over on the next run of any tab. The cookie is written and cleared by
a small script (Streamlit cannot set a response header); it holds the token only, never the
password, and is `Secure` whenever the page itself came over https."""
from __future__ import annotations

import json
import time

import streamlit as st

from data_access import auth, sessions
from ui.nav import PAGE_ROLES

SESSION_TIMEOUT_S = sessions.IDLE_S
ENDED_MESSAGE = ("Sesi Anda sudah berakhir: 30 menit tanpa aktivitas, keluar di tab lain, akun dinonaktifkan, "
                 "atau kata sandi diganti. Silakan masuk lagi.")
_COOKIE_SET = "_session_cookie_set"  # this browser session wrote a session cookie
_ENDED = "_session_ended"  # tokens of this browser session that ended: never resumed again


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


def _sent_cookie() -> str | None:
    """The cookie the browser sent when this Streamlit session connected (a reload, a new tab)."""
    try:
        token = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # no request context (a bare run)
        return None
    return token if isinstance(token, str) and token else None


def _cookie_token() -> str | None:
    """The sent token, unless it already ended in this browser session."""
    token = _sent_cookie()
    return None if token is None or token in st.session_state.get(_ENDED, ()) else token


def _resume_from_cookie(engine, now: float) -> auth.Actor | None:
    token = _cookie_token()
    if token is None:
        return None
    username = sessions.resume(engine=engine, token=token)
    role = auth.role_of(engine=engine, username=username) if username else None
    if role is None:
        _forget(token)
        return None
    st.session_state["auth"] = {"username": username, "role": role, "seen": now, "sso": False, "token": token}
    return auth.Actor(username, role)


def _forget(token: str | None) -> None:
    """This token is over: not resumed again in this browser session (sync_cookie clears it)."""
    if token:
        st.session_state[_ENDED] = (*st.session_state.get(_ENDED, ())[-4:], token)


def current_actor(engine) -> auth.Actor | None:
    state = st.session_state.get("auth")
    now = time.time()
    if state:
        token = state.get("token")
        # with a token the server keeps the idle time, shared by every tab of the session
        if not token and now - state["seen"] > SESSION_TIMEOUT_S:
            logout("Sesi Anda berakhir setelah 30 menit tanpa aktivitas. Silakan masuk lagi.", engine=engine)
            return None
        if state.get("sso"):
            actor = _sso_actor(engine)
        else:
            if token and sessions.resume(engine=engine, token=token) != state["username"]:
                logout(ENDED_MESSAGE, engine=engine)
                return None
            role = auth.role_of(engine=engine, username=state["username"])
            actor = auth.Actor(state["username"], role) if role else None
        if actor is None:
            logout("Akun Anda dinonaktifkan atau tidak lagi berwenang.", engine=engine)
            return None
        state["seen"] = now
        state["role"] = actor.role
        return actor
    actor = _sso_actor(engine)
    if actor is not None:
        st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": now, "sso": True}
        return actor
    return _resume_from_cookie(engine, now)


def sign_in(actor: auth.Actor, engine=None) -> None:
    """After a password sign-in: the session, and (with an engine) its token for the browser's cookie."""
    token = sessions.create(engine=engine, username=actor.username) if engine is not None else None
    st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": time.time(), "sso": False,
                                "token": token}


def renew(engine) -> None:
    """A new token for this browser after its own password change (which ended every session)."""
    state = st.session_state.get("auth")
    if state and not state.get("sso") and state.get("token"):
        _forget(state["token"])
        sign_in(auth.Actor(state["username"], state["role"]), engine)


def logout(message: str | None = None, *, engine=None) -> None:
    """Sign out here: the server-side session ends (with an engine) and the cookie is cleared."""
    state = st.session_state.pop("auth", None) or {}
    token = state.get("token")
    if token:
        if engine is None:
            from ui.engine import get_engine

            engine = get_engine()
        sessions.end(engine=engine, token=token)
    _forget(token or _cookie_token())
    if message:
        st.session_state["auth_message"] = message


def sync_cookie() -> None:
    """Bring the browser's cookie in line with this session, on every run until a reload shows
    it is (a run cut short by a page switch cannot lose the change): signed in with a token the
    browser did not send, write it; signed out while the browser holds one (or this session
    wrote one), clear it. Path=/ so every page address sees it; SameSite=Strict; Secure whenever
    the page came over https (a plain http:// intranet address keeps working); Max-Age = the
    session's longest life."""
    token = (st.session_state.get("auth") or {}).get("token")
    sent = _sent_cookie()
    if token:
        if token == sent:
            return
        st.session_state[_COOKIE_SET] = True
        value, age = json.dumps(token), sessions.MAX_AGE_S
    elif sent or st.session_state.get(_COOKIE_SET):
        value, age = json.dumps(""), 0
    else:
        return
    name = json.dumps(sessions.COOKIE)
    st.html(
        "<script>(function(){"
        f"var c={name}+'='+{value}+'; Path=/; Max-Age={int(age)}; SameSite=Strict';"
        "if(location.protocol==='https:'){c+='; Secure';}"
        "document.cookie=c;})();</script>",
        unsafe_allow_javascript=True,
    )


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

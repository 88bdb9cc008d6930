"""Showing text safely: user-supplied text escaped before Markdown renders it, and unexpected
errors turned into a short message with an error id that is also written to the server log."""
from __future__ import annotations

import logging
import re
import secrets
import sys
import traceback

import streamlit as st

from data_access.config import mask_credentials

# Every ASCII punctuation character may be backslash-escaped in CommonMark; Streamlit's own
# directives (:red[...], :material/icon:, emoji shortcodes, $math$) are built from them too.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'=^@%/])")


# Escapes do not stop GitHub-flavoured Markdown's bare links (http://…, www.…, a@b.c): an
# invisible word joiner after ':' and before '@' and in 'www.' breaks each pattern.
WORD_JOINER = "\u2060"
_WWW = re.compile(r"(?i)(www)(?=\\\.)")


def md(text: object) -> str:
    """`text` as literal characters inside Markdown: no links, images, emphasis, HTML,
    colours or icons from whatever a link, a file name or a form brought in. Line breaks
    become spaces (a value is one line of a message)."""
    s = " ".join(str(text).split())
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = s.replace("\\:", "\\:" + WORD_JOINER).replace("\\@", WORD_JOINER + "\\@")
    return _WWW.sub(r"\1" + WORD_JOINER, s)


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_credentials(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (the server's log)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _logger() -> logging.Logger:
    log = logging.getLogger("pantau")
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def new_error_id() -> str:
    return secrets.token_hex(4).upper()


def log_unexpected(exc: BaseException) -> str:
    """Write the error with its traceback (credentials masked) to the server log; return its id."""
    error_id = new_error_id()
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    _logger().error("galat %s: %s", error_id, detail)
    return error_id


def show_unexpected(exc: BaseException) -> str:
    """The short message a user sees instead of a traceback."""
    error_id = log_unexpected(exc)
    st.error(
        f"Terjadi kesalahan yang tidak terduga, dan tindakan ini tidak diselesaikan. Kode galat: **{error_id}**. "
        "Muat ulang halaman; bila terulang, sampaikan kode ini kepada Diskominfo (rinciannya ada di log server).",
        icon=":material/error:",
    )
    return error_id

"""Streamlit's own words in English, replaced where its API leaves no other way.

st.file_uploader has no option for its button ("Upload"), its size note ("200MB per file • CSV") or
the text shown while a file is dragged over it ("Drag and drop files here"). `indonesian_uploader`
puts Indonesian text in their place with a style sheet scoped to one uploader (its key's
`st-key-…` class), so nothing else on the page changes:

    uploads = st.file_uploader("Berkas", type=["csv"], key="impor_files")
    indonesian_uploader("impor_files", note="Maks. 512 MB per berkas · CSV")

What stays in English (messages of the browser's file dialog, the uploader's own error for a file too
large or of the wrong type, the table toolbar's tooltips) is listed in the README."""
from __future__ import annotations

import json
import re
from pathlib import Path

import streamlit as st

# The browser tab's icon: a file of the app, served by this server (a ":material/…:" page icon is
# fetched from an outside font host, and missing on a closed network).
FAVICON = str(Path(__file__).with_name("assets") / "favicon.png")
BUTTON = "Pilih berkas"


def _css_text(text: str) -> str:
    """Text for a CSS `content:` string: no quotes, backslashes or line breaks."""
    return re.sub(r"[\"\\\n\r<>]", " ", text)


def _key_class(key: str) -> str:
    # Streamlit's class for a keyed element: st-key-<key>, with characters outside [A-Za-z0-9_-] dropped
    return "st-key-" + re.sub(r"[^A-Za-z0-9_-]", "", key)


def hide_input_hints() -> None:
    """Text fields show "Press Enter to submit form" / "Press Enter to apply" (and a 3/40 counter)
    while typed in, with no option to change the words: hidden on every page (the forms have their
    own button in Bahasa Indonesia)."""
    st.html("<style>[data-testid='InputInstructions'] { display: none; }</style>")


def indonesian_uploader(key: str, *, note: str, button: str = BUTTON) -> None:
    """Indonesian button text and size note for the st.file_uploader with this key."""
    k = _key_class(key)
    zone = f".{k} [data-testid='stFileUploaderDropzone']"
    st.html(f"""<style>
{zone} button [data-testid='stMarkdownContainer'] p {{ font-size: 0; }}
{zone} button [data-testid='stMarkdownContainer'] p::after {{ content: "{_css_text(button)}"; font-size: 0.875rem; }}
{zone} [data-testid='stFileUploaderDropzoneInstructions'] span {{ font-size: 0; }}
{zone} [data-testid='stFileUploaderDropzoneInstructions'] span::after {{
  content: "{_css_text(note)}"; font-size: 0.875rem; }}
</style>""")


_IN_VIEW_SCRIPT = """<script>
(() => {
  // Bring the element into view while the page settles after a rerun (a form replaced above it,
  // its pictures loading), unless the user has scrolled meanwhile.
  const sel = %s;
  let moved = false;
  const stop = () => { moved = true; };
  ["wheel", "touchmove", "keydown"].forEach(e => window.addEventListener(e, stop, {once: true, passive: true}));
  const bring = () => {
    const el = document.querySelector(sel);
    if (moved || !el) return;
    const top = el.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) {
      el.style.scrollMarginTop = "4rem";  // below Streamlit's header
      el.scrollIntoView({block: "start"});
    }
  };
  [0, 150, 400, 800, 1500, 2500].forEach(ms => setTimeout(bring, ms));
})();
</script>"""


def keep_in_view(key: str) -> None:
    """Scroll the container with this key into view (e.g. a saved record's card under a long form,
    which a phone would otherwise leave below the screen)."""
    st.html(_IN_VIEW_SCRIPT % json.dumps("." + _key_class(key)), unsafe_allow_javascript=True)

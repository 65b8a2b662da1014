"""`/k`: where a card's QR link lands when a phone's own camera app opens it.

It shows the neutral sign-in page and nothing else: nothing about the client, nothing fetched
with the token. The token is in the URL fragment (`/k#DH1-…`), which browsers never send to
the server. On this page the fragment is moved into the tab's sessionStorage and removed from
the address bar; after sign-in, a role that may scan is taken to `/scan`, which reads it once,
deletes it and submits it as a scan (`scan.TAKE_PENDING_JS`). It expires after ten minutes,
and sign-out / session expiry wipe it (`dhWipeDevice` in assets/device/src/main.js).
"""

from __future__ import annotations

import reflex as rx

from app.pages.scan import PENDING_KEY
from app.pages.signin import signin_page

# Homes of roles that may scan but do not land on /scan (volunteer, supervisor): after sign-in
# they are sent on to /scan while a card is pending. Any other page drops the pending card.
_FORWARD_FROM = ("/today", "/caseload")
_KEEP_ON = ("", "/k", "/scan", "/account")

STASH_JS = (
    "(() => {"
    " let tag = '';"
    " try { tag = decodeURIComponent(window.location.hash.slice(1)).slice(0, 300); } catch (e) {}"
    " if (tag) { try { sessionStorage.setItem("
    f"'{PENDING_KEY}', JSON.stringify({{v: tag, t: Date.now()}})); }} catch (e) {{}} }}"
    " if (window.location.hash) history.replaceState(history.state, '', window.location.pathname);"
    " if (window.dhCardWatch) return;"
    " window.dhCardWatch = setInterval(() => {"
    f" let pending = null; try {{ pending = sessionStorage.getItem('{PENDING_KEY}'); }}"
    " catch (e) {}"
    " if (!pending) { clearInterval(window.dhCardWatch); window.dhCardWatch = null; return; }"
    " const path = window.location.pathname.replace(/\\/+$/, '');"
    f" if ({list(_FORWARD_FROM)!r}.includes(path)) {{ window.location.replace('/scan'); }}"
    f" else if (!{list(_KEEP_ON)!r}.includes(path)) {{"
    f" sessionStorage.removeItem('{PENDING_KEY}'); }}"
    " }, 300);"
    " })()"
)


def card_link_page() -> rx.Component:
    """The sign-in page, plus the few lines that keep the card link for after sign-in."""
    return rx.box(signin_page(), on_mount=rx.call_script(STASH_JS), id="card-link")

"""The in-app QR viewfinder: a local React component (assets/scanner/qr_scanner.jsx) using jsQR.

jsQR comes from the npm registry at build time (`lib_dependencies`, pinned; recorded in
reflex.lock) and is bundled into the app: pure JavaScript, no WebAssembly, no CDN, so the
scanner loads and reads cards with the network cut off. The camera runs only while `active`
is true; the first code read turns it off and is sent to `on_decode`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.event import passthrough_event_spec

JSQR = "jsqr@1.4.0"


class QrScanner(rx.Component):
    """`<DhQrScanner active on_decode on_camera_error>`; children show while it is inactive."""

    # Shipped in assets/ (copied to the frontend's public/ folder) and bundled from there.
    library = "$/public/scanner/qr_scanner.jsx"
    tag = "DhQrScanner"
    lib_dependencies: list[str] = [JSQR]

    active: rx.Var[bool]

    # The decoded text (the card link). Sent once per activation.
    on_decode: rx.EventHandler[passthrough_event_spec(str)]
    # "unavailable" (no camera, or a page that is not https/localhost) or "denied".
    on_camera_error: rx.EventHandler[passthrough_event_spec(str)]


def qr_scanner(*children: rx.Component, **props: Any) -> rx.Component:
    """A square viewfinder, full width up to 420 px, black while the camera starts."""
    props.setdefault("style", {})
    style = {
        "position": "relative",
        "width": "100%",
        "maxWidth": "420px",
        "aspectRatio": "1 / 1",
        "borderRadius": "16px",
        "overflow": "hidden",
        "background": "var(--gray-3)",
        "display": "flex",
        "alignItems": "center",
        "justifyContent": "center",
    }
    style.update(props.pop("style"))
    return QrScanner.create(*children, style=style, **props)

"""Where the device code shows its status strip: connection, records waiting, last sync, "Gửi ngay".

An empty mount point that `assets/device/` fills with plain DOM once React has hydrated it, so
it keeps working when the websocket is down. Its texts are built into the device bundle
(app/device_build.py): a page opened from the cache without a connection has no server to ask.
"""

from __future__ import annotations

import reflex as rx


def offline_panel() -> rx.Component:
    """The mount point of the status strip; hidden until the device code has something to show."""
    return rx.el.section(id="dh-offline", hidden=True)

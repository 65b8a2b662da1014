"""Reflex configuration: SQLite by default; every setting can be overridden by REFLEX_* env vars."""

import os

import reflex as rx

from app.device_build import DeviceBundlePlugin
from app.frontend_build import LeanFrontendPlugin, LeanRadixThemesPlugin
from app.runtime import (
    no_cors_layer,
    reconnect_to_own_state,
    redact_logs,
    respawn_crashed_workers,
)
from app.services.settings import DATA_DIR, load_settings

# No internet on field servers: never phone home or look for updates.
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

# One crashed backend worker must not stop the server, nor cost its tabs their state
# (see app/runtime.py).
respawn_crashed_workers()
reconnect_to_own_state()
# No tab or session token in any log line (see app/runtime.py).
redact_logs()
# Same origin only: no CORS layer around the app (see app/runtime.py).
no_cors_layer()

DATA_DIR.mkdir(exist_ok=True)
_settings = load_settings()

config = rx.Config(
    app_name="app",
    db_url=_settings.db_url,
    redis_url=_settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="light",
    plugins=[
        LeanRadixThemesPlugin(
            theme=rx.theme(accent_color="teal", radius="large", high_contrast=True)
        ),
        LeanFrontendPlugin(),
        DeviceBundlePlugin(),
    ],
    # No page builds components at run time, so nothing needs every Radix component on
    # `window.__reflex`: without this, the root of every page imports all of them.
    frontend_lazy_bundled_libraries=True,
    disable_plugins=[rx.plugins.SitemapPlugin],
)

"""Reflex configuration: SQLite by default; every setting can be overridden by REFLEX_* env vars."""

import os

import reflex as rx

from app.services.settings import DATA_DIR, load_settings

# No internet on field servers: never phone home or look for updates.
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

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
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="teal", radius="large", high_contrast=True)
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)

"""The Reflex app: pages, head tags for the installable web app, and nothing clever."""

import reflex as rx

from app.pages.home import admin_home, clinic_home, supervisor_home, volunteer_home
from app.pages.signin import signin_page
from app.state.session import AppState

app = rx.App(
    html_lang="vi",
    head_components=[
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="theme-color", content="#0f766e"),
        rx.el.link(rel="icon", href="/icons/icon-192.png", type="image/png"),
        rx.el.link(rel="apple-touch-icon", href="/icons/icon-192.png"),
        rx.el.script(src="/dh.js", defer=True),
    ],
)

app.add_page(signin_page, route="/", title="Đồng Hành", on_load=AppState.redirect_if_signed_in)
for route, page in (
    ("/today", volunteer_home),
    ("/caseload", supervisor_home),
    ("/scan", clinic_home),
    ("/admin/users", admin_home),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=AppState.check_session)

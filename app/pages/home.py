"""Each role's landing screen (the first thing seen after sign-in)."""

from __future__ import annotations

import reflex as rx

from app.components.frame import app_frame
from app.state.lang import tr
from app.state.session import AppState


def _welcome(role_key: str) -> rx.Component:
    return rx.flex(
        rx.heading(
            tr("home.hello"),
            " ",
            AppState.display_name,
            size="6",
            as_="h2",
            id="welcome",
        ),
        rx.badge(tr(role_key), size="3", id="role-badge", width="fit-content"),
        rx.button(
            rx.icon("refresh-cw", size=18, aria_hidden="true"),
            tr("common.refresh"),
            on_click=AppState.check_session,
            variant="outline",
            size="3",
            id="refresh",
            width="fit-content",
        ),
        direction="column",
        gap="3",
    )


def volunteer_home() -> rx.Component:
    return app_frame("nav.today", _welcome("role.volunteer"))


def supervisor_home() -> rx.Component:
    return app_frame("nav.caseload", _welcome("role.supervisor"))


def clinic_home() -> rx.Component:
    return app_frame("nav.scan", _welcome("role.clinic"))


def admin_home() -> rx.Component:
    return app_frame("nav.users", _welcome("role.admin"))

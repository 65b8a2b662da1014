"""The neutral sign-in page (also where a card link opened outside the app lands)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.frame import BRAND, language_switch
from app.services import accounts
from app.services.accounts import Throttled
from app.services.db import in_transaction
from app.services.errors import DomainError
from app.state.guard import guarded
from app.state.lang import LangState, tr
from app.state.session import ACCOUNT_ROUTE, HOME_ROUTES, AppState


class SignInState(AppState):
    error: str = ""
    working: bool = False

    @guarded(public=True)
    async def submit(self, form_data: dict[str, Any]) -> Any:
        """Sign in by username or phone. The password is never kept in state."""
        login = str(form_data.get("login", ""))[:200].strip()
        password = str(form_data.get("password", ""))[:1000]
        self.error = ""
        self.notice_key = ""
        if not login or not password:
            self.error = await self._text("signin.required")
            return None
        try:
            client_addr = self.router.session.client_ip
            result = in_transaction(
                lambda db: accounts.authenticate(
                    session=db, login=login, password=password, client_addr=client_addr
                )
            )
        except Throttled as err:
            self.error = await self._text(err.key, **err.params)
            return None
        except DomainError as err:
            self.error = await self._text(err.key, **err.params)
            return None
        self.session_token = result.token
        self.display_name = result.full_name
        self.nav_role = result.role.value
        lang_state = await self.get_state(LangState)
        lang_state.lang = result.language
        if result.must_change_password:
            return rx.redirect(ACCOUNT_ROUTE, replace=True)
        return rx.redirect(HOME_ROUTES[result.role.value], replace=True)


def _field(label_key: str, name: str, *, kind: str, autocomplete: str) -> rx.Component:
    return rx.flex(
        rx.el.label(tr(label_key), html_for=name, font_weight="500"),
        rx.input(
            id=name,
            name=name,
            type=kind,
            auto_complete=autocomplete,
            required=True,
            size="3",
            max_length=128 if kind == "password" else 64,
            width="100%",
        ),
        direction="column",
        spacing="1",
    )


def signin_page() -> rx.Component:
    return rx.el.main(_signin_card(), id="main")


def _signin_card() -> rx.Component:
    return rx.center(
        rx.card(
            rx.flex(
                rx.flex(
                    rx.heading(tr("app.name"), size="7", color=BRAND, as_="h1"),
                    rx.spacer(),
                    language_switch(),
                    align="center",
                ),
                rx.text(tr("app.tagline"), color="var(--gray-11)"),
                rx.heading(tr("signin.title"), size="5", as_="h2", margin_top="8px"),
                rx.cond(
                    SignInState.notice_key == "signin.expired",
                    rx.callout(
                        tr("signin.expired"), icon="clock", color_scheme="amber", role="status"
                    ),
                ),
                rx.cond(
                    SignInState.notice_key == "signin.signed_out",
                    rx.callout(tr("signin.signed_out"), icon="info", role="status"),
                ),
                rx.form(
                    rx.flex(
                        _field("signin.login", "login", kind="text", autocomplete="username"),
                        _field(
                            "signin.password",
                            "password",
                            kind="password",
                            autocomplete="current-password",
                        ),
                        rx.cond(
                            SignInState.error != "",
                            rx.callout(
                                SignInState.error,
                                icon="triangle-alert",
                                color_scheme="red",
                                role="alert",
                                id="signin-error",
                            ),
                        ),
                        rx.button(
                            tr("signin.submit"),
                            type="submit",
                            size="3",
                            width="100%",
                            id="signin-submit",
                        ),
                        direction="column",
                        spacing="4",
                    ),
                    on_submit=SignInState.submit,
                    reset_on_submit=False,
                ),
                direction="column",
                spacing="3",
            ),
            width="100%",
            max_width="420px",
            size="3",
        ),
        min_height="100vh",
        padding="16px",
        background="var(--gray-2)",
    )

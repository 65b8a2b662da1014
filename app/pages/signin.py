"""The neutral sign-in page (also where a card link opened outside the app lands), and the
second step's code page (`/second-factor`) for accounts with a second factor."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.components.component import field
from reflex_base.vars.base import Var
from reflex_components_core.el.elements.base import BaseHTML

from app.api.auth import (
    CODE_ERROR_KEYS,
    ERROR_KEYS,
    NOTICE_KEYS,
    SECOND_FACTOR_PAGE,
    SECOND_FACTOR_PATH,
    SIGN_IN_PATH,
)
from app.components.frame import BRAND, language_switch
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState

_NOTICES = {"expired": "signin.expired", "signed_out": "signin.signed_out"}


class NativeForm(BaseHTML):
    """A plain HTML `<form>` the browser submits itself. Reflex's own form always adds a
    submit handler that cancels the browser's submission (the event goes over the websocket
    instead); this one has none, so the same post happens before, after and without the
    page's script."""

    tag = "form"

    action: Var[str] = field(doc="where the form is posted")
    method: Var[str] = field(doc="always post: a password never travels in a URL")


class SignInState(AppState):
    """What the sign-in page says after the form came back (the form itself is a plain HTML
    post to `/api/auth/sign-in`: it works before and without the page's script, and the
    password never travels in a URL or through the websocket)."""

    error: str = ""

    @guarded(public=True)
    async def load(self) -> Any:
        """Show the message named in the query (`e`: an error key, `m`: minutes; `n`: a
        notice), then take the query out of the address bar. Only known keys are shown;
        nothing typed by anyone comes back."""
        params = self.router.url.query_parameters
        key = str(params.get("e", ""))
        minutes = str(params.get("m", "1"))
        self.error = ""
        if key in ERROR_KEYS:
            wait = int(minutes) if minutes.isdigit() and len(minutes) < 5 else 1
            self.error = await self._text(key, minutes=wait)
        notice = _NOTICES.get(str(params.get("n", "")), "")
        if notice in NOTICE_KEYS:
            self.notice_key = notice
        if params:
            return rx.call_script("window.history.replaceState(null, '', '/')")
        return None


class SecondFactorPageState(AppState):
    """What the code page says after its form came back (the form is a plain HTML post to
    `/api/auth/second-factor`, like the sign-in form)."""

    error: str = ""

    @guarded(public=True)
    async def load(self) -> Any:
        """Show the message named in the query (`e`, `m`), then take the query out of the
        address bar. Only known keys are shown."""
        params = self.router.url.query_parameters
        key = str(params.get("e", ""))
        minutes = str(params.get("m", "1"))
        self.error = ""
        if key in CODE_ERROR_KEYS:
            wait = int(minutes) if minutes.isdigit() and len(minutes) < 5 else 1
            self.error = await self._text(key, minutes=wait)
        if params:
            return rx.call_script(
                f"window.history.replaceState(null, '', '{SECOND_FACTOR_PAGE}')"
            )
        return None


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
                NativeForm.create(
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
                    method="post",
                    action=SIGN_IN_PATH,
                    id="signin-form",
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


def second_factor_page() -> rx.Component:
    """The second step of signing in: a code of the authenticator app or a recovery code."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.flex(
                    rx.flex(
                        rx.heading(tr("app.name"), size="7", color=BRAND, as_="h1"),
                        rx.spacer(),
                        language_switch(),
                        align="center",
                    ),
                    rx.heading(tr("signin.code_title"), size="5", as_="h2", margin_top="8px"),
                    rx.text(tr("signin.code_hint")),
                    NativeForm.create(
                        rx.flex(
                            rx.flex(
                                rx.el.label(tr("signin.code_label"), html_for="otp",
                                            font_weight="500"),
                                rx.input(
                                    id="otp",
                                    name="otp",
                                    type="text",
                                    auto_complete="one-time-code",
                                    input_mode="text",
                                    auto_capitalize="none",
                                    spell_check=False,
                                    required=True,
                                    size="3",
                                    max_length=24,
                                    width="100%",
                                    auto_focus=True,
                                ),
                                direction="column",
                                spacing="1",
                            ),
                            rx.text(tr("signin.code_recovery"), size="2",
                                    color="var(--gray-11)"),
                            rx.cond(
                                SecondFactorPageState.error != "",
                                rx.callout(
                                    SecondFactorPageState.error,
                                    icon="triangle-alert",
                                    color_scheme="red",
                                    role="alert",
                                    id="code-error",
                                ),
                            ),
                            rx.button(tr("signin.code_submit"), type="submit", size="3",
                                      width="100%", id="code-submit"),
                            direction="column",
                            spacing="4",
                        ),
                        method="post",
                        action=SECOND_FACTOR_PATH,
                        id="code-form",
                    ),
                    rx.link(tr("signin.code_back"), href="/", id="code-back", size="2"),
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
        ),
        id="main",
    )

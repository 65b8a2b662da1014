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
    REQUIRED_FIELDS,
    SECOND_FACTOR_PAGE,
    SECOND_FACTOR_PATH,
    SIGN_IN_PATH,
)
from app.components.forms import field_error, focus_first_problem, without_unused_refs
from app.components.frame import BRAND, language_switch
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState

_NOTICES = {"expired": "signin.expired", "signed_out": "signin.signed_out"}
# What is said under an empty field (the endpoint names it in `missing`).
_MISSING_KEYS = {"login": "signin.login_required", "password": "signin.password_required"}
# What the code page says under its field (anything else there is a callout).
_CODE_FIELD_KEYS = frozenset({"signin.code_required", "auth.code_wrong"})


def _minutes(params: Any) -> int:
    """The wait named in the query (`m`, whole minutes), or 1 when it is missing or odd."""
    minutes = str(params.get("m", "1"))
    return int(minutes) if minutes.isdigit() and len(minutes) < 5 else 1


class NativeForm(BaseHTML):
    """A plain HTML `<form>` the browser submits itself. Reflex's own form always adds a
    submit handler that cancels the browser's submission (the event goes over the websocket
    instead); this one has none, so the same post happens before, after and without the
    page's script."""

    tag = "form"

    action: Var[str] = field(doc="where the form is posted")
    method: Var[str] = field(doc="always post: a password never travels in a URL")
    no_validate: Var[bool] = field(
        doc="no browser bubbles: an empty field is answered by the server, under the field")


class SignInState(AppState):
    """What the sign-in page says after the form came back (the form itself is a plain HTML
    post to `/api/auth/sign-in`: it works before and without the page's script, and the
    password never travels in a URL or through the websocket)."""

    error: str = ""
    # Under the fields: the form came back because they were empty.
    login_error: str = ""
    password_error: str = ""

    @guarded(public=True)
    async def load(self) -> Any:
        """Show the message named in the query (`e`: an error key, `m`: minutes; `missing`:
        the empty fields; `n`: a notice), then take the query out of the address bar. Only
        known keys are shown; nothing typed by anyone comes back. Empty fields are answered
        under each field, with the focus on the first."""
        params = self.router.url.query_parameters
        key = str(params.get("e", ""))
        self.error = self.login_error = self.password_error = ""
        missing = [name for name in str(params.get("missing", "")).split(",")[:2]
                   if name in REQUIRED_FIELDS]
        if key == "signin.required" and not missing:
            missing = list(REQUIRED_FIELDS)  # an older link: say it under both
        if key == "signin.required":
            for name in missing:
                setattr(self, f"{name}_error", await self._text(_MISSING_KEYS[name]))
        elif key in ERROR_KEYS:
            self.error = await self._text(key, minutes=_minutes(params))
        notice = _NOTICES.get(str(params.get("n", "")), "")
        if notice in NOTICE_KEYS:
            self.notice_key = notice
        events: list[Any] = []
        if params:
            events.append(rx.call_script("window.history.replaceState(null, '', '/')"))
        if self.login_error or self.password_error:
            events.append(focus_first_problem("signin-form"))
        return events or None


class SecondFactorPageState(AppState):
    """What the code page says after its form came back (the form is a plain HTML post to
    `/api/auth/second-factor`, like the sign-in form)."""

    error: str = ""
    code_error: str = ""  # under the field: empty or wrong

    @guarded(public=True)
    async def load(self) -> Any:
        """Show the message named in the query (`e`, `m`), then take the query out of the
        address bar. Only known keys are shown; a code that was empty or wrong is answered
        under the field, with the focus on it."""
        params = self.router.url.query_parameters
        key = str(params.get("e", ""))
        self.error = self.code_error = ""
        if key in _CODE_FIELD_KEYS:
            self.code_error = await self._text(key)
        elif key in CODE_ERROR_KEYS:
            self.error = await self._text(key, minutes=_minutes(params))
        events: list[Any] = []
        if params:
            events.append(rx.call_script(
                f"window.history.replaceState(null, '', '{SECOND_FACTOR_PAGE}')"
            ))
        if self.code_error:
            events.append(focus_first_problem("code-form"))
        return events or None


def _field(label_key: str, name: str, *, error: Var | str, **props: Any) -> rx.Component:
    """A labelled input of a plain HTML form, its message (from the server) under it."""
    return rx.flex(
        rx.el.label(tr(label_key), html_for=name, font_weight="500"),
        rx.input(
            id=name,
            name=name,
            required=True,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{name}-error",
            **props,
        ),
        field_error(error, field_id=name),
        direction="column",
        spacing="1",
    )


def _card_page(*children: rx.Component) -> rx.Component:
    """A page of its own, before anyone is signed in: one card in the middle of the screen,
    the app's name and the language switch on its first line. Its ids without React refs
    where nothing reads one (`forms.without_unused_refs`)."""
    return without_unused_refs(rx.el.main(
        rx.center(
            rx.card(
                rx.flex(
                    rx.flex(
                        rx.heading(tr("app.name"), size="7", color=BRAND, as_="h1"),
                        rx.spacer(),
                        language_switch(),
                        align="center",
                    ),
                    *children,
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
    ))


def _post_form(prefix: str, action: str, *fields: rx.Component, error: Var | str,
               submit_key: str) -> rx.Component:
    """A plain HTML form posted to `action`, its refusal above its button (ids `<prefix>-form`,
    `<prefix>-error`, `<prefix>-submit`)."""
    return NativeForm.create(
        rx.flex(
            *fields,
            rx.cond(
                error != "",
                rx.callout(
                    error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    id=f"{prefix}-error",
                ),
            ),
            rx.button(tr(submit_key), type="submit", size="3", width="100%",
                      id=f"{prefix}-submit"),
            direction="column",
            spacing="4",
        ),
        method="post",
        action=action,
        no_validate=True,
        id=f"{prefix}-form",
    )


def signin_page() -> rx.Component:
    return _card_page(
        rx.text(tr("app.tagline"), color="var(--gray-11)"),
        rx.heading(tr("signin.title"), size="5", as_="h2", margin_top="8px"),
        rx.cond(
            SignInState.notice_key == "signin.expired",
            rx.callout(tr("signin.expired"), icon="clock", color_scheme="amber", role="status"),
        ),
        rx.cond(
            SignInState.notice_key == "signin.signed_out",
            rx.callout(tr("signin.signed_out"), icon="info", role="status"),
        ),
        _post_form(
            "signin",
            SIGN_IN_PATH,
            _field("signin.login", "login", error=SignInState.login_error,
                   type="text", auto_complete="username", max_length=64),
            _field("signin.password", "password", error=SignInState.password_error,
                   type="password", auto_complete="current-password", max_length=128),
            error=SignInState.error,
            submit_key="signin.submit",
        ),
    )


def second_factor_page() -> rx.Component:
    """The second step of signing in: a code of the authenticator app or a recovery code."""
    return _card_page(
        rx.heading(tr("signin.code_title"), size="5", as_="h2", margin_top="8px"),
        rx.text(tr("signin.code_hint")),
        _post_form(
            "code",
            SECOND_FACTOR_PATH,
            _field("signin.code_label", "otp", error=SecondFactorPageState.code_error,
                   type="text", auto_complete="one-time-code", input_mode="text",
                   auto_capitalize="none", spell_check=False, max_length=24, auto_focus=True),
            rx.text(tr("signin.code_recovery"), size="2", color="var(--gray-11)"),
            error=SecondFactorPageState.error,
            submit_key="signin.code_submit",
        ),
        rx.link(tr("signin.code_back"), href="/", id="code-back", size="2"),
    )

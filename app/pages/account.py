"""One's own account: change the password, the second factor (TOTP: enrol with a QR code,
recovery codes, turn off), choose the language, see and end open sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from app.components.forms import (
    focus_first_problem,
    form_message,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.panels import form_column
from app.services import accounts, second_factor
from app.services.account_dto import SecondFactorStatus, SessionRead
from app.services.calendar import LOCAL_TZ
from app.state.guard import guarded
from app.state.lang import LangState, tr
from app.state.session import HOME_ROUTES, AppState
from models import Role

_MAX_PASSWORD = 1000  # the service refuses anything over its own limit with a message
_MAX_CODE = 64


def format_moment(moment: datetime) -> str:
    """A stored UTC timestamp as the local time people read: dd/mm/yyyy HH:MM."""
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def session_rows(rows: list[SessionRead]) -> list[dict[str, str]]:
    """What a sessions list shows, as plain strings (no token, no device key)."""
    return [
        {
            "id": str(r.id),
            "role": r.role.value,
            "created": format_moment(r.created_at),
            "last_seen": format_moment(r.last_seen_at),
            "addr": r.client_addr,
            "current": "1" if r.current else "",
        }
        for r in rows
    ]


def role_label(role: rx.Var) -> rx.Component:
    """A role value ("volunteer", …) as its translated name."""
    return rx.match(
        role,
        ("volunteer", tr("role.volunteer")),
        ("supervisor", tr("role.supervisor")),
        ("clinic", tr("role.clinic")),
        ("admin", tr("role.admin")),
        role,
    )


class AccountState(AppState):
    must_change: bool = False
    current_error: str = ""
    new_error: str = ""
    repeat_error: str = ""
    password_error: str = ""
    password_working: bool = False
    language_message: str = ""
    sessions: list[dict[str, str]] = []
    sessions_error: str = ""
    # The second factor. The secret and its QR code are here only while an enrolment waits
    # for its first code; the recovery codes only until "I have saved the codes".
    must_enrol: bool = False
    tf_enrolled: bool = False
    tf_required: bool = False
    tf_since: str = ""
    tf_codes_left: str = ""
    tf_qr: str = ""
    tf_secret: str = ""
    tf_codes: list[str] = []
    tf_error: str = ""
    tf_done: str = ""
    tf_code_error: str = ""
    tf_password_error: str = ""
    tf_working: bool = False
    # The enrolment just confirmed lifted the restriction: "I have saved the codes" goes home.
    _home_after_codes: bool = False

    # ---- helpers ---------------------------------------------------------------------------

    async def _load_sessions(self) -> None:
        actor = self._require_actor()
        outcome = await self._run(
            lambda db, a: accounts.list_sessions(session=db, actor=a, user_id=actor.user_id)
        )
        self.sessions_error = outcome.error
        self.sessions = session_rows(outcome.value or [])

    def _show_second_factor(self, status: SecondFactorStatus | None) -> None:
        self.tf_enrolled = bool(status and status.enrolled)
        self.tf_required = bool(status and status.required)
        confirmed = status.confirmed_at if status is not None else None
        self.tf_since = format_moment(confirmed) if confirmed is not None else ""
        self.tf_codes_left = str(status.recovery_codes_left) if status is not None else ""

    async def _load_second_factor(self) -> None:
        outcome = await self._run(
            lambda db, a: accounts.second_factor_status(session=db, actor=a)
        )
        self._show_second_factor(outcome.value)
        self.must_enrol = self.tf_required and not self.tf_enrolled

    def _clear_second_factor_messages(self) -> None:
        self.tf_error = self.tf_done = self.tf_code_error = self.tf_password_error = ""

    def _clear_password_messages(self) -> None:
        self.current_error = self.new_error = self.repeat_error = ""
        self.password_error = ""

    # ---- handlers --------------------------------------------------------------------------

    @guarded(*Role)
    async def load(self) -> None:
        self._clear_password_messages()
        self.language_message = ""
        self.must_change = self._require_actor().must_change_password
        self._clear_second_factor_messages()
        self.tf_qr = self.tf_secret = ""
        self.tf_codes = []
        await self._load_second_factor()
        await self._load_sessions()

    @guarded(*Role)
    async def start_second_factor(self) -> None:
        """A new secret: its QR code and the key in text, until a first code confirms it."""
        self._clear_second_factor_messages()
        outcome = await self._run(
            lambda db, a: accounts.start_second_factor(session=db, actor=a)
        )
        if not outcome.ok or outcome.value is None:
            self.tf_error = outcome.error
            return
        self.tf_secret = second_factor.grouped(outcome.value.secret)
        self.tf_qr = second_factor.qr_data_uri(outcome.value.uri)

    @guarded(*Role)
    async def confirm_second_factor(self, form_data: dict[str, Any]) -> Any:
        """The first code turns it on; the recovery codes are shown once."""
        self._clear_second_factor_messages()
        code = str(form_data.get("tf_code", ""))[:_MAX_CODE]
        if not code.strip():
            self.tf_code_error = await self._text("second_factor_ui.code_required")
            return focus_first_problem("tf-confirm-form")
        client_addr = self.router.session.client_ip
        outcome = await self._run(
            lambda db, a: accounts.confirm_second_factor(
                session=db, actor=a, code=code, client_addr=client_addr
            )
        )
        if not outcome.ok or outcome.value is None:
            self.tf_code_error = outcome.fields.get("code", "")
            self.tf_error = outcome.error
            return focus_first_problem("tf-confirm-form") if self.tf_code_error else None
        self.tf_qr = self.tf_secret = ""
        self.tf_codes = outcome.value
        # Said next to the recovery codes, which are the thing to act on (not a plain save).
        self.tf_done = await self._text("second_factor_ui.enabled")
        self._home_after_codes = self.must_enrol
        await self._load_second_factor()
        return rx.call_script("document.getElementById('tf-confirm-form')?.reset()")

    @guarded(*Role)
    async def codes_saved(self) -> Any:
        """The recovery codes leave the screen; a session that had to enrol goes home."""
        self.tf_codes = []
        self.tf_done = ""
        go_home, self._home_after_codes = self._home_after_codes, False
        await self._load_second_factor()
        actor = self._require_actor()
        if go_home and not self.must_enrol and not self.must_change:
            return rx.redirect(HOME_ROUTES[actor.role.value], replace=True)
        return None

    async def _manage(self, form_data: dict[str, Any], *, off: bool) -> Any:
        self._clear_second_factor_messages()
        prefix = "tf_off" if off else "tf_regen"
        password = str(form_data.get(f"{prefix}_password", ""))[:_MAX_PASSWORD]
        code = str(form_data.get(f"{prefix}_code", ""))[:_MAX_CODE]
        if not password:
            self.tf_password_error = await self._text("second_factor_ui.password_required")
        if not code.strip():
            self.tf_code_error = await self._text("second_factor_ui.code_required")
        if self.tf_password_error or self.tf_code_error:
            self.tf_error = await self._text("error.validation")
            yield focus_first_problem(f"{prefix}-form")
            return
        client_addr = self.router.session.client_ip
        call = accounts.disable_second_factor if off else accounts.regenerate_recovery_codes
        self.tf_working = True
        yield
        outcome = await self._run(
            lambda db, a: call(
                session=db, actor=a, password=password, code=code, client_addr=client_addr
            )
        )
        self.tf_working = False
        if not outcome.ok:
            self.tf_password_error = outcome.fields.get("password", "")
            self.tf_code_error = outcome.fields.get("code", "")
            self.tf_error = outcome.error
            if self.tf_password_error or self.tf_code_error:
                yield focus_first_problem(f"{prefix}-form")
            return
        if isinstance(outcome.value, list) and not off:
            self.tf_codes = outcome.value  # the new codes are the answer, shown in place
        await self._load_second_factor()
        yield rx.call_script(f"document.getElementById('{prefix}-form')?.reset()")
        if off:
            yield await self._confirm_saved("second_factor_ui.disabled")

    @guarded(*Role)
    async def regenerate_codes(self, form_data: dict[str, Any]) -> Any:
        """New recovery codes (password and a code); the old ones stop working."""
        async for item in self._manage(form_data, off=False):
            yield item

    @guarded(*Role)
    async def disable_second_factor(self, form_data: dict[str, Any]) -> Any:
        """Turn it off (password and a code)."""
        async for item in self._manage(form_data, off=True):
            yield item

    @guarded(*Role)
    async def change_password(self, form_data: dict[str, Any]) -> Any:
        """Current, new and repeated password; the other sessions end on success."""
        self._clear_password_messages()
        current = str(form_data.get("current", ""))[:_MAX_PASSWORD]
        new = str(form_data.get("new", ""))[:_MAX_PASSWORD]
        repeat = str(form_data.get("repeat", ""))[:_MAX_PASSWORD]
        if not current:
            self.current_error = await self._text("account_ui.current_required")
        if not new:
            self.new_error = await self._text("account_ui.new_required")
        if new != repeat:
            self.repeat_error = await self._text("account_ui.password_mismatch")
        if self.current_error or self.new_error or self.repeat_error:
            self.password_error = await self._text("error.validation")
            yield focus_first_problem("password-form")
            return
        client_addr = self.router.session.client_ip
        self.password_working = True
        yield
        outcome = await self._run(
            lambda db, a: accounts.change_password(
                session=db, actor=a, current=current, new=new, client_addr=client_addr
            )
        )
        self.password_working = False
        if not outcome.ok:
            self.current_error = outcome.fields.get("current", "")
            self.new_error = outcome.fields.get("new", "")
            self.password_error = outcome.error
            if self.current_error or self.new_error:
                yield focus_first_problem("password-form")
            return
        was_forced = self.must_change
        self.must_change = False
        await self._load_sessions()
        yield rx.call_script("document.getElementById('password-form')?.reset()")
        if was_forced:
            # Home at once, where the confirmation is said; a session that still has to set
            # up its second factor is sent back here by the guard.
            home = HOME_ROUTES[self._require_actor().role.value]
            yield rx.redirect(home, replace=True)
            yield await self._confirm_saved("account_ui.password_changed", route=home)
        else:
            yield await self._confirm_saved("account_ui.password_changed")

    @guarded(*Role)
    async def choose_language(self, language: str) -> Any:
        """Save the language on the account (it follows the user to any device) and switch."""
        lang = str(language)
        if lang not in accounts.LANGUAGES:
            return None
        outcome = await self._run(
            lambda db, a: accounts.set_language(session=db, actor=a, language=lang)
        )
        if not outcome.ok:
            self.language_message = outcome.error
            return None
        (await self.get_state(LangState)).lang = lang
        self.language_message = ""
        return await self._confirm_saved("account_ui.language_saved")

    @guarded(*Role)
    async def end_session(self, session_id: str | int) -> None:
        """End one of one's own sessions (a lost or shared phone)."""
        raw = str(session_id)
        if not raw.isdigit() or len(raw) > 12:
            return
        outcome = await self._run(
            lambda db, a: accounts.end_session(session=db, actor=a, session_id=int(raw))
        )
        await self._load_sessions()
        self.sessions_error = self.sessions_error or outcome.error

    @guarded(*Role)
    async def refresh_sessions(self) -> None:
        await self._load_sessions()


# ---- layout ---------------------------------------------------------------------------------


def _section(title_key: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.heading(tr(title_key), size="4", as_="h2"),
            *children,
            direction="column",
            spacing="3",
        ),
        width="100%",
        size="2",
        **props,
    )


def _password_section() -> rx.Component:
    return _section(
        "account_ui.password_title",
        form_column(
            text_field(
                "account_ui.current_password",
                "current",
                type="password",
                auto_complete="current-password",
                error=AccountState.current_error,
                max_length=128,
            ),
            text_field(
                "account_ui.new_password",
                "new",
                type="password",
                auto_complete="new-password",
                error=AccountState.new_error,
                hint_key="account_ui.password_hint",
                max_length=128,
            ),
            text_field(
                "account_ui.repeat_password",
                "repeat",
                type="password",
                auto_complete="new-password",
                error=AccountState.repeat_error,
                max_length=128,
            ),
            form_message(AccountState.password_error, rx.Var.create("")),
            submit_button(
                "account_ui.change_password",
                busy=AccountState.password_working,
                id="change-password",
            ),
            form_id="password-form",
            on_submit=AccountState.change_password,
        ),
        id="password-section",
    )


def _tf_outcome() -> rx.Component:
    return rx.fragment(
        rx.cond(
            AccountState.tf_error != "",
            rx.callout(AccountState.tf_error, icon="triangle-alert", color_scheme="red",
                       role="alert", id="tf-error"),
        ),
        rx.cond(
            AccountState.tf_done != "",
            rx.callout(AccountState.tf_done, icon="circle-check", color_scheme="green",
                       role="status", id="tf-done"),
        ),
    )


def _tf_code_field(name: str) -> rx.Component:
    return text_field(
        "second_factor_ui.code",
        name,
        error=AccountState.tf_code_error,
        auto_complete="one-time-code",
        input_mode="numeric",
        max_length=24,
    )


def _tf_enrol() -> rx.Component:
    """Not on yet: the start button, then the QR code, the key and the first code."""
    return rx.cond(
        AccountState.tf_qr != "",
        rx.flex(
            rx.text(tr("second_factor_ui.scan"), size="2"),
            rx.image(
                src=AccountState.tf_qr,
                alt=tr("second_factor_ui.qr_alt"),
                width="220px",
                height="220px",
                id="tf-qr",
                style={"background": "white", "alignSelf": "center"},
            ),
            rx.text(tr("second_factor_ui.secret"), size="2"),
            rx.code(
                AccountState.tf_secret,
                id="tf-secret",
                size="3",
                style={"userSelect": "all", "lineHeight": "1.8"},
            ),
            rx.text(tr("second_factor_ui.confirm_hint"), size="2"),
            form_column(
                _tf_code_field("tf_code"),
                submit_button("second_factor_ui.confirm", id="tf-confirm"),
                form_id="tf-confirm-form",
                on_submit=AccountState.confirm_second_factor,
            ),
            direction="column",
            spacing="3",
        ),
        rx.button(
            rx.icon("shield-check", size=18, aria_hidden="true"),
            tr("second_factor_ui.start"),
            on_click=AccountState.start_second_factor,
            size="3",
            id="tf-start",
            width="100%",
        ),
    )


def _tf_manage_form(prefix: str, label_key: str, handler: Any, **button: Any) -> rx.Component:
    return form_column(
        text_field(
            "second_factor_ui.password",
            f"{prefix}_password",
            type="password",
            auto_complete="current-password",
            error=AccountState.tf_password_error,
            max_length=128,
        ),
        _tf_code_field(f"{prefix}_code"),
        submit_button(label_key, busy=AccountState.tf_working, id=f"{prefix}-submit",
                      **button),
        form_id=f"{prefix}-form",
        on_submit=handler,
    )


def _tf_on() -> rx.Component:
    """On: since when, how many recovery codes are left, new codes or off."""
    return rx.flex(
        rx.flex(
            rx.badge(tr("second_factor_ui.enabled"), color_scheme="green", size="2",
                     id="tf-on"),
            rx.text(tr("second_factor_ui.on_since"), " ", AccountState.tf_since, size="2"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(tr("second_factor_ui.codes_left"), " ", AccountState.tf_codes_left, size="2",
                id="tf-codes-left"),
        rx.text(tr("second_factor_ui.manage_hint"), size="2", color="var(--gray-11)"),
        _tf_manage_form("tf_regen", "second_factor_ui.regenerate",
                        AccountState.regenerate_codes, variant="outline"),
        _tf_manage_form("tf_off", "second_factor_ui.disable", AccountState.disable_second_factor,
                        color_scheme="red", variant="soft"),
        direction="column",
        spacing="3",
    )


def _tf_codes() -> rx.Component:
    """The recovery codes, shown once."""
    return rx.flex(
        rx.heading(tr("second_factor_ui.codes_title"), size="3", as_="h3"),
        rx.text(tr("second_factor_ui.codes_hint"), size="2"),
        rx.el.ol(
            rx.foreach(
                AccountState.tf_codes,
                lambda code: rx.el.li(rx.code(code, size="4"), class_name="tf-recovery-code"),
            ),
            style={"paddingLeft": "2em", "margin": "0", "whiteSpace": "nowrap",
                   "lineHeight": "1.9"},
            id="tf-codes",
        ),
        rx.button(tr("second_factor_ui.codes_done"), on_click=AccountState.codes_saved,
                  size="3", id="tf-codes-done", width="100%"),
        direction="column",
        spacing="3",
    )


def _second_factor_section() -> rx.Component:
    return _section(
        "second_factor_ui.title",
        rx.text(tr("second_factor_ui.intro"), size="2", color="var(--gray-11)"),
        rx.cond(
            AccountState.tf_required & ~AccountState.must_enrol,
            rx.text(tr("second_factor_ui.required"), size="2"),
        ),
        _tf_outcome(),
        rx.cond(
            AccountState.tf_codes.length() > 0,
            _tf_codes(),
            rx.cond(AccountState.tf_enrolled, _tf_on(), _tf_enrol()),
        ),
        id="second-factor-section",
    )


def _language_button(lang: str, label_key: str) -> rx.Component:
    chosen = LangState.lang == lang
    return rx.button(
        rx.cond(chosen, rx.icon("check", size=18, aria_hidden="true"), rx.fragment()),
        tr(label_key),
        on_click=AccountState.choose_language(lang),
        variant=rx.cond(chosen, "solid", "outline"),
        aria_pressed=rx.cond(chosen, "true", "false"),
        size="3",
        flex="1",
        id=f"language-{lang}",
    )


def _language_section() -> rx.Component:
    return _section(
        "account_ui.language_title",
        rx.flex(
            _language_button("vi", "account_ui.language_vi"),
            _language_button("en", "account_ui.language_en"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            AccountState.language_message != "",
            rx.text(AccountState.language_message, size="2", role="alert", color="var(--red-11)",
                    id="language-error"),
        ),
    )


def _session_item(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.flex(
                rx.text(role_label(row["role"]), weight="medium"),
                rx.cond(
                    row["current"] == "1",
                    rx.badge(tr("account_ui.this_device"), color_scheme="green"),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(tr("account_ui.signed_in_at"), " ", row["created"], size="2"),
            rx.text(
                tr("account_ui.last_seen"), " ", row["last_seen"], size="2", color="var(--gray-11)"
            ),
            rx.cond(
                row["addr"] != "",
                rx.text(
                    tr("account_ui.address"), " ", row["addr"], size="1", color="var(--gray-11)"
                ),
            ),
            direction="column",
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            row["current"] == "1",
            rx.fragment(),
            rx.button(
                tr("account_ui.end_session"),
                on_click=AccountState.end_session(row["id"]),
                variant="soft",
                color_scheme="red",
                size="3",
                class_name="end-session",
            ),
        ),
        align="center",
        spacing="3",
        padding_y="8px",
        border_bottom="1px solid var(--gray-4)",
        class_name="session-row",
    )


def _sessions_section() -> rx.Component:
    return _section(
        "account_ui.sessions_title",
        rx.text(tr("account_ui.sessions_hint"), size="2", color="var(--gray-11)"),
        rx.cond(
            AccountState.sessions_error != "",
            rx.callout(AccountState.sessions_error, color_scheme="red", role="alert"),
        ),
        rx.flex(rx.foreach(AccountState.sessions, _session_item), direction="column"),
        rx.button(
            rx.icon("refresh-cw", size=18, aria_hidden="true"),
            tr("common.refresh"),
            on_click=AccountState.refresh_sessions,
            variant="outline",
            size="3",
            id="refresh",
            width="fit-content",
        ),
        id="sessions-section",
    )


def account_page() -> rx.Component:
    return app_frame(
        "nav.account",
        rx.flex(
            rx.cond(
                AccountState.must_change,
                rx.callout(
                    tr("account_ui.must_change"),
                    icon="key-round",
                    color_scheme="amber",
                    role="alert",
                    id="must-change-banner",
                ),
            ),
            rx.cond(
                AccountState.must_enrol & ~AccountState.must_change,
                rx.callout(
                    tr("second_factor_ui.must_enrol"),
                    icon="shield-alert",
                    color_scheme="amber",
                    role="alert",
                    id="must-enrol-banner",
                ),
            ),
            rx.text(AppState.display_name, weight="medium", size="4", id="account-name"),
            rx.cond(
                AccountState.must_enrol & ~AccountState.must_change,
                _second_factor_section(),
            ),
            _password_section(),
            rx.cond(
                AccountState.must_enrol & ~AccountState.must_change,
                rx.fragment(),
                _second_factor_section(),
            ),
            _language_section(),
            _sessions_section(),
            direction="column",
            spacing="4",
            max_width="640px",
        ),
    )

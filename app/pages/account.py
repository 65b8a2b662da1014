"""One's own account: change the password, choose the language, see and end open sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from app.components.forms import form_message, submit_button, text_field
from app.components.frame import app_frame
from app.services import accounts
from app.services.account_dto import SessionRead
from app.services.calendar import LOCAL_TZ
from app.state.guard import guarded
from app.state.lang import LangState, tr
from app.state.session import HOME_ROUTES, AppState
from models import Role

_MAX_PASSWORD = 1000  # the service refuses anything over its own limit with a message


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
    password_done: str = ""
    password_working: bool = False
    language_message: str = ""
    sessions: list[dict[str, str]] = []
    sessions_error: str = ""

    # ---- helpers ---------------------------------------------------------------------------

    async def _load_sessions(self) -> None:
        actor = self._require_actor()
        outcome = await self._run(
            lambda db, a: accounts.list_sessions(session=db, actor=a, user_id=actor.user_id)
        )
        self.sessions_error = outcome.error
        self.sessions = session_rows(outcome.value or [])

    def _clear_password_messages(self) -> None:
        self.current_error = self.new_error = self.repeat_error = ""
        self.password_error = self.password_done = ""

    # ---- handlers --------------------------------------------------------------------------

    @guarded(*Role)
    async def load(self) -> None:
        self._clear_password_messages()
        self.language_message = ""
        self.must_change = self._require_actor().must_change_password
        await self._load_sessions()

    @guarded(*Role)
    async def change_password(self, form_data: dict[str, Any]) -> Any:
        """Current, new and repeated password; the other sessions end on success."""
        self._clear_password_messages()
        current = str(form_data.get("current", ""))[:_MAX_PASSWORD]
        new = str(form_data.get("new", ""))[:_MAX_PASSWORD]
        repeat = str(form_data.get("repeat", ""))[:_MAX_PASSWORD]
        if not current:
            self.current_error = await self._text("account_ui.current_required")
        if new != repeat:
            self.repeat_error = await self._text("account_ui.password_mismatch")
        if self.current_error or self.repeat_error:
            self.password_error = await self._text("error.validation")
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
            return
        was_forced = self.must_change
        self.must_change = False
        self.password_done = await self._text("account_ui.password_changed")
        await self._load_sessions()
        yield rx.call_script("document.getElementById('password-form')?.reset()")
        if was_forced:
            actor = self._require_actor()
            yield rx.toast.success(self.password_done)
            yield rx.redirect(HOME_ROUTES[actor.role.value], replace=True)

    @guarded(*Role)
    async def choose_language(self, language: str) -> None:
        """Save the language on the account (it follows the user to any device) and switch."""
        lang = str(language)
        if lang not in accounts.LANGUAGES:
            return
        outcome = await self._run(
            lambda db, a: accounts.set_language(session=db, actor=a, language=lang)
        )
        if not outcome.ok:
            self.language_message = outcome.error
            return
        (await self.get_state(LangState)).lang = lang
        self.language_message = await self._text("account_ui.language_saved")

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
        rx.form(
            rx.flex(
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
                form_message(AccountState.password_error, AccountState.password_done),
                submit_button(
                    "account_ui.change_password",
                    busy=AccountState.password_working,
                    id="change-password",
                ),
                direction="column",
                spacing="3",
            ),
            id="password-form",
            on_submit=AccountState.change_password,
            reset_on_submit=False,
        ),
        id="password-section",
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
            rx.text(AccountState.language_message, size="2", role="status", id="language-saved"),
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
            rx.text(AppState.display_name, weight="medium", size="4", id="account-name"),
            _password_section(),
            _language_section(),
            _sessions_section(),
            direction="column",
            spacing="4",
            max_width="640px",
        ),
    )

"""What every record form shares: the submission key, errors next to their fields, the client
named in the route, and the "not found" screen.

A form's submission key is made on the server and written into the form as a hidden field, so
a double tap (or a retry after a timeout) sends the *same* key twice. Each page passes it to its
service as `submission_key`; the service remembers it in the database with the record it made
and, seeing it again, returns that record and writes nothing — the one place duplicates are
stopped, whichever server process or browser tab the second submission reaches.

The key is renewed after a save the page saw succeed, and when the form is opened for another
client than the one the key was made for. It is kept when the same client's form is opened
again: a retry after a save whose answer was lost is then answered with the record it made.
A key the service refuses as another client's (or place's) is renewed, so the next tap saves.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx

from app.components.forms import form_message
from app.components.frame import BRAND
from app.services import clients
from app.services.calendar import today_vn
from app.services.dto import parse
from app.services.submissions import KEY_REUSED, OTHER_TARGET
from app.state.lang import tr
from app.state.session import Outcome

T = TypeVar("T")

_KEY = re.compile(r"[0-9a-f]{32}")
_CLIENT_ROUTE = re.compile(r"^/clients/([0-9]{1,12})(?:/|$)")
MAX_TEXT = 2000
# After a save on a form that stays open (outreach, group): back to its defaults for the next.
CLEAR_FORM = "document.getElementById('{form_id}')?.reset()"
# A client form's reading of the submitted fields: the raw service input, and the catalogue keys
# of the fields it could not read at all (refused before the service is called).
ReadForm = Callable[[int, dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]


def client_id_in(path: str) -> int | None:
    """The client id of a `/clients/<id>/...` path, or None."""
    match = _CLIENT_ROUTE.match(path)
    return int(match.group(1)) if match else None


def field_text(form_data: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str:
    """A submitted text value, as a string and cut to a sane length (the service checks more)."""
    value = form_data.get(name, "")
    return str(value)[: limit + 1] if value is not None else ""


def iso_date(value: date) -> str:
    return value.isoformat()


class RecordForm(rx.State, mixin=True):
    """Vars and helpers of a record form. Each form's State is `class X(RecordForm, AppState)`:
    the helpers use `AppState`'s session helpers (`_run`, `_text`)."""

    form_key: str = ""
    error: str = ""
    success: str = ""
    field_errors: dict[str, str] = {}
    saving: bool = False
    not_found: bool = False
    client_name: str = ""
    profile_href: str = ""
    today: str = ""
    max_appointment: str = ""
    # The client (from the route) `form_key` was made for; None for a form of no one client.
    _key_for: int | None = None

    if TYPE_CHECKING:  # provided by AppState, the other base of every form's State

        async def _text(self, key: str, **params: Any) -> str: ...

        async def _run(self, call: Callable[[Any, Any], T]) -> Outcome[T]: ...

    # ---- helpers (underscore: not callable from the browser) -------------------------------

    def _begin(self) -> None:
        """Fresh messages and dates; a new key unless the form already has an unused one for
        the same client."""
        self.error = ""
        self.success = ""
        self.field_errors = {}
        self.saving = False
        self.not_found = False
        today = today_vn()
        self.today = iso_date(today)
        self.max_appointment = iso_date(today + timedelta(days=365))
        if not self.form_key or self._key_for != self._route_client_id():
            self._new_key()

    def _new_key(self) -> None:
        self.form_key = secrets.token_hex(16)
        self._key_for = self._route_client_id()

    def _route_client_id(self) -> int | None:
        return client_id_in(self.router.url.path)

    def _submitted_key(self, form_data: dict[str, Any]) -> str:
        """The key the browser sent with this submission (a double tap sends the old one)."""
        sent = str(form_data.get("submission_key", ""))
        return sent if _KEY.fullmatch(sent) else self.form_key or secrets.token_hex(16)

    def _saved(self) -> None:
        """After a save (or its replay): the next submission of this form is a new one."""
        self._new_key()
        self.error = ""
        self.field_errors = {}

    async def _failed(self, outcome: Outcome[Any]) -> None:
        """Show what went wrong next to the fields; keep everything typed (nothing is reset).
        A key the service refused as used for another record is renewed: the next tap saves."""
        self.error = outcome.error
        self.field_errors = dict(outcome.fields)
        self.success = ""
        if outcome.error in (await self._text(OTHER_TARGET), await self._text(KEY_REUSED)):
            self._new_key()
        not_found = outcome.error == await self._text("error.not_found")
        if not_found and self._route_client_id() is not None:
            self.not_found = True  # the route's client (a form of no one client stays open)

    async def _save_record(
        self,
        form_data: dict[str, Any],
        raw: dict[str, Any],
        create: Callable[..., Any],
        model: type[Any],
        then: Callable[[Any], Awaitable[Any]],
    ) -> AsyncIterator[Any]:
        """Save one record: the spinner, then `create(session=, actor=, data=, submission_key=)`
        with `raw` parsed as `model`. A failure shows its messages; a success renews the key and
        yields what `then(record)` answers (a redirect, a script). A handler that calls this
        yields each of its updates: `async for update in self._save_record(...): yield update`.
        """
        key = self._submitted_key(form_data)
        self.saving = True
        yield
        outcome = await self._run(
            lambda db, actor: create(
                session=db, actor=actor, data=parse(model, raw), submission_key=key
            )
        )
        self.saving = False
        if not outcome.ok or outcome.value is None:
            await self._failed(outcome)
            return
        self._saved()
        yield await then(outcome.value)

    async def _save_for_client(
        self,
        form_data: dict[str, Any],
        read: ReadForm,
        create: Callable[..., Any],
        model: type[Any],
    ) -> AsyncIterator[Any]:
        """The save of a client's record form: the client named in the route (else not found),
        the fields `read` could not read refused next to them, else `_save_record` and back to
        the client's profile."""
        client_id = self._route_client_id()
        if client_id is None:
            self.not_found = True
            return
        raw, problems = read(client_id, form_data)
        if problems:
            self.field_errors = {name: await self._text(key) for name, key in problems.items()}
            self.error = await self._text("error.validation")
            return

        async def to_profile(_record: Any) -> Any:
            return rx.redirect(f"/clients/{client_id}")

        async for update in self._save_record(form_data, raw, create, model, to_profile):
            yield update

    async def _stay(self, form_id: str, message_key: str, **params: Any) -> Any:
        """After a save on a form that stays open: the message, and the form back to its
        defaults for the next record."""
        self.success = await self._text(message_key, **params)
        return rx.call_script(CLEAR_FORM.format(form_id=form_id))

    async def _load_client(self) -> int | None:
        """The route's client, if the actor may record for them (audited read); else not found."""
        client_id = self._route_client_id()
        if client_id is None:
            self.not_found = True
            return None
        outcome = await self._run(
            lambda db, actor: clients.get_client(session=db, actor=actor, client_id=client_id)
        )
        if not outcome.ok or outcome.value is None:
            self.client_name = ""
            self.not_found = True
            return None
        self.client_name = outcome.value.full_name
        self.profile_href = f"/clients/{client_id}"
        return client_id


def not_found_screen() -> rx.Component:
    return rx.callout(
        rx.flex(
            rx.heading(tr("rec.not_found_title"), size="4", as_="h2"),
            rx.text(tr("rec.not_found_body")),
            rx.link(tr("rec.go_home"), href="/today", id="go-home"),
            direction="column",
            spacing="2",
        ),
        icon="search-x",
        color_scheme="gray",
        role="alert",
        id="not-found",
    )


def client_header(state: type[RecordForm]) -> rx.Component:
    """Whose record this is, with the way back to the profile."""
    return rx.flex(
        rx.text(tr("rec.for_client"), " ", rx.text.strong(state.client_name, id="client-name")),
        rx.link(
            rx.icon("arrow-left", size=16, aria_hidden="true"),
            tr("rec.back_to_profile"),
            href=state.profile_href,
            display="inline-flex",
            align_items="center",
            gap="4px",
            min_height="44px",
            id="back-to-profile",
        ),
        justify="between",
        align="center",
        spacing="2",
        wrap="wrap",
    )


def record_form(
    state: type[RecordForm],
    on_submit: Any,
    *fields: rx.Component,
    form_id: str,
    submit_key: str = "common.save",
    outbox: str = "",
) -> rx.Component:
    """The form: fields, the outcome message and a big save button, keyed for idempotency.

    `outbox` names the record kind of a volunteer form: the device code (assets/device/)
    then takes the submission, saves it into the encrypted outbox and sends it through the
    sync API (one write path, online or not); `on_submit` is only reached by users without
    an outbox (supervisors), who stay on the websocket."""
    return rx.form(
        rx.flex(
            rx.el.input(type="hidden", name="submission_key", value=state.form_key),
            *fields,
            form_message(state.error, state.success),
            # Kept in reach of the thumb above the bottom navigation: kind, then save.
            rx.box(
                rx.button(
                    rx.cond(state.saving, rx.spinner(size="2"), rx.icon("check", size=20)),
                    tr(submit_key),
                    type="submit",
                    size="4",
                    width="100%",
                    min_height="52px",
                    # Teal 700 behind white text: 5.4:1 contrast (the theme's teal 9 is only ~3:1).
                    background_color=rx.cond(state.saving, "var(--gray-8)", BRAND),
                    color="white",
                    disabled=state.saving,
                    id="save",
                ),
                position="sticky",
                bottom=["72px", "72px", "16px"],
                padding_y="8px",
                background="white",
                z_index="5",
            ),
            direction="column",
            spacing="4",
        ),
        on_submit=on_submit,
        reset_on_submit=False,
        # Checked in the page, not by the browser's bubbles (app/components/forms.py).
        no_validate=True,
        id=form_id,
        custom_attrs={"data-outbox": outbox} if outbox else {},
        width="100%",
        max_width="560px",
    )

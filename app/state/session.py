"""The signed-in session: the parent of every page state that shows personal data.

Identity is never taken from the browser's events. The session token lives in the HttpOnly
`dh_session` cookie, set and removed only over HTTP (`app/api/auth.py`); the websocket
handshake carries it, and every guarded handler reads it from the handshake's headers on the
server (`router.headers`, which Reflex fills from the connection, not from the event) and
re-validates it against the database (idle and absolute timeouts, disabled users, changed
roles). The resulting actor is kept in a backend-only var for this event only.

A tab's page states remember which session their data belongs to (`_session_id`). Whenever a
tab that holds data is reached without that session being live — a replayed tab token with
no cookie, an old cookie, another user's cookie, a session ended by sign-out, expiry, another
device or a password change — every page state of the tab is reset on the server before
anything is sent: by the guard for handlers, by `SessionGate` for everything else (hydrate
above all).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import reflex as rx
from reflex.middleware import Middleware

from app.api.auth import ACCOUNT_ROUTE, HOME_ROUTES, SIGNED_OUT_PATH, cookie_token
from app.i18n import t
from app.services import accounts, audit
from app.services.actor import Actor
from app.services.db import in_transaction
from app.services.errors import DomainError, ValidationFailed
from app.state import tabs
from app.state.guard import HANDLER_ROLES, guarded
from app.state.lang import LangState
from models import Role

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """What a page gets back from a service call: a value, or translated messages."""

    value: T | None = None
    error: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


SIGN_IN_ROUTE = "/"
# What a restricted session — a password to change, or a second factor its role requires and
# the user has not enrolled — may still call (everything else redirects to the account screen).
_ALLOWED_WHEN_RESTRICTED = ("AccountState.", "AppState.sign_out", "AppState.check_session")


def _route_key(path: str) -> str:
    return "/" + str(path).split("?")[0].split("#")[0].strip("/")


# Once the confirmation is drawn on its screen (after a redirect, on the new page) with this
# save's text (MESSAGE): scroll it into view below the sticky top bar and move the focus to it
# (announced, and the next Tab starts from there). The page may still change under it as its
# data arrives (a form closes, the frame is drawn again): for up to ten seconds (a slow phone
# and network) the focus is given back while it is on nothing else, and for the first two the
# notice is brought back into view if it left it while focused.
SHOW_SAVED_JS = (
    "(() => { let n = 0, shown = -1; const go = () => {"
    " const el = document.getElementById('saved-notice');"
    " const here = ('/' + location.pathname.replace(/^[/]+|[/]+$/g, '')) === ROUTE;"
    " const ready = here && el && el.textContent.includes(MESSAGE);"
    " const idle = !document.activeElement || document.activeElement === document.body;"
    " if (ready && (shown < 0 || (idle && el !== document.activeElement))) {"
    " if (shown < 0) { el.scrollIntoView({block: 'start'}); shown = n; }"
    " el.focus({preventScroll: true}); }"
    " if (ready && shown >= 0 && n - shown < 40 && document.activeElement === el) {"
    " const box = el.getBoundingClientRect();"
    " if (box.bottom < 0 || box.top > window.innerHeight) el.scrollIntoView({block: 'start'}); }"
    " if (n++ < 200) setTimeout(go, 50); }; go(); })()"
)


class AppState(rx.State):
    """Session root. Page states that touch personal data subclass it."""

    # Cosmetic only (which menu to draw, whose name to greet): never used to authorise.
    display_name: str = ""
    nav_role: str = ""
    notice_key: str = ""
    # The confirmation of the last save, in the user's language, and the screen it is shown on
    # (`saved_notice()` in app/components/forms.py): kept until the user moves to another one.
    saved_message: str = ""
    saved_for: str = ""

    _actor: Actor | None = None
    # The auth session whose personal data this tab's page states hold (0: none).
    _session_id: int = 0
    # "session id/tab token" this tab is recorded under (app/state/tabs.py), so that the
    # session's end drops its page state at once.
    _recorded_as: str = ""

    # ---- helpers (underscore: not callable from the browser) -------------------------------

    async def _lang(self) -> str:
        return (await self.get_state(LangState)).lang

    async def _text(self, key: str, **params: Any) -> str:
        return t(key, await self._lang(), **params)

    def _session_token(self) -> str:
        """The session token from the cookie the websocket handshake carried ('' if none)."""
        return cookie_token(self.router.headers.cookie or "")

    async def _authorise(self, allowed: frozenset[Role], handler: str) -> Any:
        """Re-validate the session; None lets the handler run, anything else is the refusal."""
        token = self._session_token()
        held = self._session_id
        lang_state = await self.get_state(LangState)
        taken_for = lang_state.lang_for
        language: list[str] = []

        def check(db: Any) -> tuple[Actor | None, bool]:
            found = accounts.validate_session(session=db, token=token) if token else None
            if found is not None and (found.session_id != held
                                      or taken_for != str(found.session_id)):
                # This tab's first event in this session, or a page loaded before the device
                # had stored the language (its storage came back older): the user's own.
                language[:] = [accounts.preferred_language(session=db, user_id=found.user_id)]
            if found is not None and found.role not in allowed:
                audit.record(
                    db,
                    actor=found,
                    action="handler.call",
                    target_type="handler",
                    target_id=None,
                    outcome="denied",
                    detail=handler[:200],
                )
                return found, False
            return found, True

        actor, permitted = in_transaction(check)
        if actor is None:
            return await self._end_locally("signin.expired")
        if held and actor.session_id != held:
            await self._wipe()  # what the tab holds belongs to another session
        self._session_id = actor.session_id or 0
        await self._record_tab()
        if language:
            lang_state.lang = language[0]
            lang_state.lang_for = str(actor.session_id or "")
        if not permitted:
            self._actor = None
            return rx.toast.error(await self._text("error.permission_denied"))
        if actor.restricted and not handler.startswith(_ALLOWED_WHEN_RESTRICTED):
            self._actor = None
            return rx.redirect(ACCOUNT_ROUTE, replace=True)
        self._actor = actor
        return None

    async def _record_tab(self) -> None:
        """Record this tab under its session, once per session and tab token (a duplicated
        tab gets a new token with a copy of the state)."""
        tab = self.router.session.client_token
        marker = f"{self._session_id}/{tab}"
        if self._session_id and tab and marker != self._recorded_as:
            try:
                await tabs.record(self._session_id, tab)
            except Exception:  # Redis trouble: the next contact still resets the tab (SessionGate)
                log.exception("could not record a tab under its session")
                return
            self._recorded_as = marker

    def _require_actor(self) -> Actor:
        if self._actor is None:  # only reachable if a helper is called outside a guarded handler
            raise RuntimeError("no authorised actor in this event")
        return self._actor

    async def _run(self, call: Callable[[Any, Actor], T]) -> Outcome[T]:
        """Run one service call in one transaction as the current actor.

        Errors a user can cause come back translated (form-level and per field) and change
        nothing; errors we cause are logged with context and shown as a generic message.
        """
        actor = self._require_actor()
        lang = await self._lang()
        try:
            return Outcome(value=in_transaction(lambda db: call(db, actor)))
        except ValidationFailed as err:
            fields = {name: t(key, lang, **err.params) for name, key in err.fields.items()}
            return Outcome(error=t(err.key, lang, **err.params), fields=fields)
        except DomainError as err:
            return Outcome(error=t(err.key, lang, **err.params))
        except Exception:  # the one place that turns our bugs into a generic message
            log.exception(
                "service call failed in %s for user %s", type(self).__name__, actor.user_id
            )
            return Outcome(error=t("error.generic", lang))

    async def _confirm_saved(self, key: str, *, route: str = "", **params: Any) -> Any:
        """After a save: say what was saved at the top of the screen the user lands on (`route`,
        else this one), announce it and bring it into view. Return (or yield) the answer."""
        self.saved_message = await self._text(key, **params)
        self.saved_for = _route_key(route or self.router.url.path)
        return rx.call_script(SHOW_SAVED_JS.replace("ROUTE", json.dumps(self.saved_for))
                              .replace("MESSAGE", json.dumps(self.saved_message)))

    def _forget_saved(self, path: str) -> None:
        """A confirmation is for its own screen: gone once the user opens another."""
        if self.saved_for and _route_key(path) != self.saved_for:
            self.saved_message = self.saved_for = ""

    async def _wipe(self) -> None:
        """Forget everything personal this browser session holds on the server."""
        pending: list[type[rx.State]] = list(AppState.get_substates())
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            (await self.get_state(cls)).reset()
        self.reset()
        self._actor = None
        self._session_id = 0

    async def _end_locally(self, notice_key: str) -> list[Any]:
        """Forget the tab's data, drop anything cached on the device, and leave through
        the endpoint that removes the (HttpOnly) cookie, to the neutral sign-in page."""
        await self._wipe()
        notice = "signed_out" if notice_key == "signin.signed_out" else "expired"
        return [rx.call_script(_leave_script(f"{SIGNED_OUT_PATH}?n={notice}"))]

    # ---- public handlers ----------------------------------------------------------------

    @guarded(*Role)
    async def check_session(self) -> Any:
        """on_load of every signed-in page: bounce to sign-in if the session is gone."""
        actor = self._require_actor()
        self._forget_saved(self.router.url.path)
        self.nav_role = actor.role.value
        self.display_name = actor.display_name
        if actor.restricted and self.router.url.path.rstrip("/") != ACCOUNT_ROUTE:
            return rx.redirect(ACCOUNT_ROUTE, replace=True)
        return None

    @guarded(public=True)
    async def redirect_if_signed_in(self) -> Any:
        """on_load of the sign-in page: a live session goes straight to its home; a dead
        cookie is removed."""
        token = self._session_token()
        if not token:
            return None
        actor = in_transaction(lambda db: accounts.validate_session(session=db, token=token))
        if actor is None:
            await self._wipe()
            return rx.call_script(_leave_script(SIGNED_OUT_PATH))
        return rx.redirect(HOME_ROUTES[actor.role.value], replace=True)

    @guarded(public=True)
    async def ping(self) -> None:
        """Does nothing: the floor for event latency in the benchmarks (bench/ws_load.py)."""
        return None

    @guarded(*Role)
    async def sign_out(self) -> Any:
        token = self._session_token()
        in_transaction(lambda db: accounts.sign_out(session=db, token=token))
        return await self._end_locally("signin.signed_out")


def _leave_script(path: str) -> str:
    """Wipe the device (it may take a moment: IndexedDB), then load `path` for real, so the
    next websocket carries whatever cookie the server sets or removes there."""
    return (
        "Promise.resolve(window.dhWipeDevice && window.dhWipeDevice())"
        f".catch(function(){{}}).then(function(){{window.location.replace({path!r});}})"
    )


_GUARDED_EVENTS: set[str] = set()


def _guarded_events() -> set[str]:
    """Full event names of every handler the guard checks (a role is required)."""
    if not _GUARDED_EVENTS:
        pending: list[type[rx.State]] = [AppState]
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            for name, handler in cls.event_handlers.items():
                if HANDLER_ROLES.get(getattr(handler.fn, "__qualname__", "")):
                    _GUARDED_EVENTS.add(f"{cls.get_full_name()}.{name}")
    return _GUARDED_EVENTS


class SessionGate(Middleware):
    """Before any event that the guard does not check — hydrate above all, then on_load
    plumbing, public handlers, the language switch — a tab holding personal data must still
    be in the live session that data came from; otherwise every page state is reset first,
    so the event (and a hydrate's full snapshot) carries nothing personal."""

    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        root = await state.get_state(AppState)
        held = root._session_id
        if not held or event.name in _guarded_events():
            return None
        token = root._session_token()
        actor = (
            in_transaction(lambda db: accounts.validate_session(session=db, token=token))
            if token
            else None
        )
        if actor is None or actor.session_id != held:
            await root._wipe()
        return None

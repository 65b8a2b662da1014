"""The signed-in session: the parent of every page state that shows personal data.

Identity is never taken from the browser. The cookie holds an opaque token issued by the
server; every guarded handler re-validates it against the database (idle and absolute
timeouts, disabled users, changed roles) and keeps the resulting actor in a backend-only var.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import reflex as rx

from app.i18n import t
from app.services import accounts, audit
from app.services.actor import Actor
from app.services.db import in_transaction
from app.services.errors import DomainError, ValidationFailed
from app.services.settings import load_settings
from app.state.guard import guarded
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
# Where a user with a one-time password is kept until they have chosen their own.
ACCOUNT_ROUTE = "/account"
# What a user who must change their password may still call (everything else redirects).
_ALLOWED_BEFORE_NEW_PASSWORD = ("AccountState.", "AppState.sign_out", "AppState.check_session")
HOME_ROUTES: dict[str, str] = {
    Role.VOLUNTEER.value: "/today",
    Role.SUPERVISOR.value: "/caseload",
    Role.CLINIC.value: "/scan",
    Role.ADMIN.value: "/admin/users",
}


class AppState(rx.State):
    """Session root. Page states that touch personal data subclass it."""

    session_token: str = rx.Cookie(
        "",
        name="dh_session",
        path="/",
        same_site="strict",
        max_age=load_settings().session_max_hours * 3600,
    )
    # Cosmetic only (which menu to draw, whose name to greet): never used to authorise.
    display_name: str = ""
    nav_role: str = ""
    notice_key: str = ""

    _actor: Actor | None = None

    # ---- helpers (underscore: not callable from the browser) -------------------------------

    async def _lang(self) -> str:
        return (await self.get_state(LangState)).lang

    async def _text(self, key: str, **params: Any) -> str:
        return t(key, await self._lang(), **params)

    async def _authorise(self, allowed: frozenset[Role], handler: str) -> Any:
        """Re-validate the session; None lets the handler run, anything else is the refusal."""
        token = self.session_token

        def check(db: Any) -> tuple[Actor | None, bool]:
            found = accounts.validate_session(session=db, token=token) if token else None
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
        if not permitted:
            self._actor = None
            return rx.toast.error(await self._text("error.permission_denied"))
        if actor is None:
            return await self._end_locally("signin.expired")
        if actor.must_change_password and not handler.startswith(_ALLOWED_BEFORE_NEW_PASSWORD):
            self._actor = None
            return rx.redirect(ACCOUNT_ROUTE, replace=True)
        self._actor = actor
        return None

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

    async def _wipe(self) -> None:
        """Forget everything personal this browser session holds on the server."""
        pending: list[type[rx.State]] = list(AppState.get_substates())
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            (await self.get_state(cls)).reset()
        self.reset()
        self._actor = None

    async def _end_locally(self, notice_key: str) -> list[Any]:
        await self._wipe()
        self.notice_key = notice_key
        return [
            rx.remove_cookie("dh_session"),
            # Drop anything cached on the device, then land on the neutral sign-in page.
            rx.call_script("window.dhWipeDevice && window.dhWipeDevice()"),
            rx.redirect(SIGN_IN_ROUTE, replace=True),
        ]

    # ---- public handlers ----------------------------------------------------------------

    @guarded(*Role)
    async def check_session(self) -> Any:
        """on_load of every signed-in page: bounce to sign-in if the session is gone."""
        actor = self._require_actor()
        self.nav_role = actor.role.value
        self.display_name = actor.display_name
        if actor.must_change_password and self.router.url.path.rstrip("/") != ACCOUNT_ROUTE:
            return rx.redirect(ACCOUNT_ROUTE, replace=True)
        return None

    @guarded(public=True)
    async def redirect_if_signed_in(self) -> Any:
        """on_load of the sign-in page: a live session goes straight to its home."""
        if not self.session_token:
            return None
        token = self.session_token
        actor = in_transaction(lambda db: accounts.validate_session(session=db, token=token))
        if actor is None:
            await self._wipe()
            return rx.remove_cookie("dh_session")
        return rx.redirect(HOME_ROUTES[actor.role.value], replace=True)

    @guarded(public=True)
    async def ping(self) -> None:
        """Does nothing: the floor for event latency in the benchmarks (bench/ws_load.py)."""
        return None

    @guarded(*Role)
    async def sign_out(self) -> Any:
        token = self.session_token
        in_transaction(lambda db: accounts.sign_out(session=db, token=token))
        return await self._end_locally("signin.signed_out")

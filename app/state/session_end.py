"""When a session ends, the page state of every one of its tabs is dropped on the server.

Without this, a tab's page states (names, phone numbers, records) would stay in Reflex's state
store, in memory or in Redis, until that tab next reached the server, where `SessionGate` and
the guard reset them. Now:
- Every way a session is ended by someone — sign-out, ended from the account screen or by an
  administrator, a password changed or reset, an account disabled or its roles changed, an
  expiry noticed by any request — goes through `accounts._end`, which announces the ended
  sessions once the transaction commits (`accounts.on_sessions_ended`). The announcement may
  come from any thread (an HTTP endpoint's thread pool, the websocket's event loop); the drop
  runs as a task on the app's event loop, where the state manager lives, and never inside the
  event that ended the session (that event holds its own tab's lock).
- Idle and absolute expiry happen with no event at all: every SWEEP_SECONDS, one worker asks
  the database which of the sessions with recorded tabs are no longer live (one indexed query
  on their ids) and drops those.

Dropping a tab is what its next contact would have done: under the tab's own lock,
`AppState._wipe` resets every page state, if the tab still holds that session's data (a tab
signed in again since keeps its new session's state). The tab's token is recorded under its
session by the guard (app/state/tabs.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from app.services import accounts
from app.services.db import in_transaction
from app.state import tabs
from app.state.session import AppState
from app.state.tabs import TabRegistry

log = logging.getLogger(__name__)

# How often idle and absolute expiry are looked for (the idle timeout is 30 minutes).
SWEEP_SECONDS = 60


@dataclass
class TabDropper:
    """Drops the page state of ended sessions' tabs from one app's state manager."""

    manager: Any
    registry: TabRegistry
    loop: asyncio.AbstractEventLoop
    # The context variables of the app's own start (Reflex's registration of its states), and
    # what sets Reflex's contexts for work outside an event (`App.set_contexts`).
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    contexts: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    _pending: set[concurrent.futures.Future[int]] = field(default_factory=set)
    _unlisten: Callable[[], None] = lambda: None

    def sessions_ended(self, session_ids: frozenset[int]) -> None:
        """`accounts.on_sessions_ended`'s listener: schedule the drop on the app's loop."""
        # In the app's context, not in that of the event that ended the session (its tab).
        future = self.context.copy().run(
            asyncio.run_coroutine_threadsafe, self.drop(session_ids), self.loop)
        self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[int]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("could not drop the page state of ended sessions",
                      exc_info=future.exception())

    async def settle(self) -> None:
        """Wait for the drops already scheduled (tests; shutting down)."""
        while self._pending:
            await asyncio.wait([asyncio.wrap_future(f) for f in list(self._pending)])

    async def drop(self, session_ids: Iterable[int]) -> int:
        """Drop the page state of every recorded tab of these sessions; how many were."""
        dropped = 0
        with self.contexts():
            for session_id in session_ids:
                for token in await self.registry.tabs(session_id):
                    dropped += await self._drop_tab(token, session_id)
                await self.registry.forget(session_id)
        return dropped

    async def _drop_tab(self, token: str, session_id: int) -> bool:
        key = rx.BaseStateToken(ident=token, cls=AppState)
        if not await self._has_state(key):
            return False  # already gone (Reflex expired it): nothing to drop, nothing to make
        async with self.manager.modify_state(key) as root:
            tab = await root.get_state(AppState)
            if tab._session_id != session_id:
                return False
            await tab._wipe()
        return True

    async def _has_state(self, key: Any) -> bool:
        states = getattr(self.manager, "states", None)
        if isinstance(states, dict):
            return key.cache_key in states
        redis = getattr(self.manager, "redis", None)
        if redis is not None:
            return bool(await redis.exists(str(key)))
        return True

    async def sweep(self) -> int:
        """Drop the tabs of recorded sessions that are no longer live (idle, past their
        absolute expiry, or ended where no announcement reached this app)."""
        recorded = await self.registry.sessions()
        if not recorded:
            return 0
        dead = await asyncio.to_thread(
            in_transaction, lambda db: accounts.not_live(session=db, session_ids=recorded)
        )
        return await self.drop(sorted(dead))

    async def sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                if await self.registry.claim_sweep(SWEEP_SECONDS - 1):
                    await self.sweep()
            except Exception:  # the database or Redis is away: try again next period
                log.exception("the sweep of expired sessions' tabs failed")


def start(
    manager: Any,
    contexts: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> TabDropper:
    """Record tabs and drop ended sessions' page state for `manager`; call it on the app's
    event loop, in the app's context."""
    dropper = TabDropper(manager=manager, registry=tabs.registry_for(manager),
                         loop=asyncio.get_running_loop(), contexts=contexts)
    tabs.use(dropper.registry)
    dropper._unlisten = accounts.on_sessions_ended(dropper.sessions_ended)
    return dropper


def stop(dropper: TabDropper) -> None:
    dropper._unlisten()
    tabs.use(None)


@contextlib.asynccontextmanager
async def dropping_ended_tabs(app: Any) -> AsyncIterator[None]:
    """The app's lifespan task (app/app.py): from start to shutdown of each worker."""
    with app.set_contexts():
        dropper = start(app.state_manager, app.set_contexts)
        sweeper = asyncio.create_task(dropper.sweep_forever(), name="dh-session-tabs-sweep")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        stop(dropper)

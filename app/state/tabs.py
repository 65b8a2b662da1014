"""Which tabs hold page state of which signed-in session (Reflex keeps no such index).

A tab's server-side state is keyed by its tab token. The guard records the token under the
auth session the tab's events are authorised against (`record`), so that when the session
ends every one of its tabs can be found and its page state dropped at once
(app/state/session_end.py), without waiting for the tab to come back.

With Reflex's in-memory state manager (one process) the record is a dict in that process.
With Redis (several workers: the sign-out may reach another worker than the tab's) it lives
in Redis: a set of tab tokens per session, kept as long as a session can live, and the set of
sessions that have one (what the expiry sweep reads).
"""

from __future__ import annotations

from typing import Any, Protocol

from app.services.settings import load_settings

_TABS_PREFIX = "dh_session_tabs:"
_SESSIONS_KEY = "dh_sessions_with_tabs"
_SWEEP_KEY = "dh_session_tabs_sweep"


class TabRegistry(Protocol):
    async def add(self, session_id: int, token: str) -> None: ...

    async def tabs(self, session_id: int) -> set[str]: ...

    async def sessions(self) -> set[int]: ...

    async def forget(self, session_id: int) -> None: ...

    async def claim_sweep(self, seconds: int) -> bool: ...


class MemoryTabs:
    """The record for the in-memory state manager: it lives and dies with the states."""

    def __init__(self) -> None:
        self._tabs: dict[int, set[str]] = {}

    async def add(self, session_id: int, token: str) -> None:
        self._tabs.setdefault(session_id, set()).add(token)

    async def tabs(self, session_id: int) -> set[str]:
        return set(self._tabs.get(session_id, ()))

    async def sessions(self) -> set[int]:
        return set(self._tabs)

    async def forget(self, session_id: int) -> None:
        self._tabs.pop(session_id, None)

    async def claim_sweep(self, seconds: int) -> bool:
        return True


class RedisTabs:
    """The record in Redis, shared by every worker."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def add(self, session_id: int, token: str) -> None:
        # A session lives at most session_max_hours from its start: the set outlives it.
        keep = (load_settings().session_max_hours + 1) * 3600
        key = f"{_TABS_PREFIX}{session_id}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, token)
            pipe.expire(key, keep)
            pipe.sadd(_SESSIONS_KEY, str(session_id))
            await pipe.execute()

    async def tabs(self, session_id: int) -> set[str]:
        members = await self._redis.smembers(f"{_TABS_PREFIX}{session_id}")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def sessions(self) -> set[int]:
        found: set[int] = set()
        for member in await self._redis.smembers(_SESSIONS_KEY):
            text = member.decode() if isinstance(member, bytes) else str(member)
            if text.isdigit():
                found.add(int(text))
        return found

    async def forget(self, session_id: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(f"{_TABS_PREFIX}{session_id}")
            pipe.srem(_SESSIONS_KEY, str(session_id))
            await pipe.execute()

    async def claim_sweep(self, seconds: int) -> bool:
        """Whether this worker sweeps now: one worker per period does, whichever asks first."""
        return bool(await self._redis.set(_SWEEP_KEY, "1", nx=True, ex=max(1, seconds)))


def registry_for(manager: Any) -> TabRegistry:
    """The record that fits Reflex's state manager: in Redis if the states are."""
    redis = getattr(manager, "redis", None)
    return RedisTabs(redis) if redis is not None else MemoryTabs()


# The record of this process's app, set while the app runs (session_end.dropping_ended_tabs).
_current: TabRegistry | None = None


def use(registry: TabRegistry | None) -> None:
    global _current
    _current = registry


async def record(session_id: int, token: str) -> None:
    """Remember that tab `token` holds page state of session `session_id` (nothing when no
    app is running, e.g. a handler called by a test without one)."""
    if _current is not None and session_id and token:
        await _current.add(session_id, token)

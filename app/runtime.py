"""How the production server behaves when a worker dies, and what its logs may hold.

Reflex starts Granian (`reflex run --env prod`) with Granian's defaults, and Granian's
default is *not* to respawn a worker that exits unexpectedly: its supervisor then stops the
whole server, so one worker killed by the kernel's OOM killer, a segfault in a C extension
or an operator's `kill -9` would take every other volunteer's session down with it.

`respawn_crashed_workers()` (called from rxconfig.py, which the supervisor imports before it
builds its Granian server) makes the supervisor start a fresh worker instead. Sessions
survive because their state lives in Redis whenever there is more than one worker, and the
browser's socket reconnects by itself. Granian gives up on a crash *loop*, the right thing for
a broken deployment, but its own test for one is a single death within 5.5 s of the worker's
last respawn: every worker killed at once (the OOM killer, an operator) whose replacement then
meets one passing fault while it starts (Redis or the database busy for a moment) stopped the
whole server. Here a worker is in a crash loop once it has been respawned `CRASH_LOOP_RESPAWNS`
times within `CRASH_LOOP_SECONDS` and dies again within Granian's 5.5 s (`_Respawns`).
On shutdown (and when it gives up), a worker still running after `WORKERS_KILL_SECONDS` is
killed, so the supervisor always exits and its service manager can start it again.

Set `GRANIAN_RESPAWN_FAILED_WORKERS=false` to get Granian's default back.

`reconnect_to_own_state()` fixes what the browser meets next. With several workers, Reflex
records in Redis which worker holds each tab's socket, to tell a duplicated tab (same token,
second socket) from a reconnect. A worker killed without warning never deletes its records,
so every tab it served, reconnecting to a surviving worker, looks like a duplicate: Reflex
hands it a new token and an empty state. The volunteer's open form would get a new
submission key (a save whose answer was lost could then be stored twice) and every page
would load again from nothing. The same happens, without any crash, when a browser
reconnects faster than the worker holding its old socket runs the disconnect (under load).
Each worker now beats a heartbeat in Redis; a record whose worker has stopped beating, or
whose socket is released while the new connection waits (up to 3 s), is a leftover, and the
tab keeps its token and its state. Only a record that stays on a live worker for the whole
wait is a duplicated tab.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import pickle
import re
import secrets
import time
from typing import Any

log = logging.getLogger(__name__)

_FLAG = "_dh_respawn_patched"


CRASH_LOOP_RESPAWNS = 3  # respawns of one worker within CRASH_LOOP_SECONDS ...
CRASH_LOOP_SECONDS = 60.0  # ... before a quick death again counts as a crash loop
WORKERS_KILL_SECONDS = 20  # on shutdown, a worker still running after this is killed


class _Respawns(dict[int, float]):
    """Granian's record of when each worker was last respawned, which its supervisor reads in
    one place: `cycle - respawned_wrks.get(idx, 0) <= 5.5` means a crash loop, and the whole
    server exits. The supervisor empties the record before every respawn; this one keeps each
    worker's respawn times for `CRASH_LOOP_SECONDS` and answers with the last of them only
    when there are `CRASH_LOOP_RESPAWNS` or more, so that one quick death (after every worker
    was killed at once, say) is respawned and a worker that keeps dying still ends the server.
    """

    def __init__(self) -> None:
        super().__init__()
        self._times: dict[int, list[float]] = {}

    def __setitem__(self, idx: int, when: float) -> None:
        self._times[idx] = [t for t in self._times.get(idx, []) if when - t <= CRASH_LOOP_SECONDS]
        self._times[idx].append(when)
        super().__setitem__(idx, when)

    def get(self, idx: int, default: Any = None) -> Any:
        now = time.monotonic()
        recent = [t for t in self._times.get(idx, []) if now - t <= CRASH_LOOP_SECONDS]
        return recent[-1] if len(recent) >= CRASH_LOOP_RESPAWNS else default


def respawn_crashed_workers() -> bool:
    """Default Granian servers built in this process to respawn failed workers.

    Returns whether the default is now on (False when Granian is not installed or the
    operator turned it off). Idempotent.
    """
    if os.environ.get("GRANIAN_RESPAWN_FAILED_WORKERS", "true").strip().lower() in (
        "0", "false", "no", "off",
    ):
        return False
    try:
        from granian.server.common import AbstractServer
    except ImportError:  # Granian not installed: Reflex falls back to uvicorn
        return False
    init = AbstractServer.__init__
    if getattr(init, _FLAG, False):
        return True

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("respawn_failed_workers", True)
        # A worker that does not stop within this on shutdown is killed: without it the
        # supervisor waits for ever on one that never got its signal (a worker caught while it
        # was starting), and a stopped server is never restarted by its service manager.
        kwargs.setdefault("workers_kill_timeout", WORKERS_KILL_SECONDS)
        init(self, *args, **kwargs)
        self.respawned_wrks = _Respawns()

    setattr(__init__, _FLAG, True)
    AbstractServer.__init__ = __init__  # type: ignore[method-assign]
    return True


HEARTBEAT_SECONDS = 0.5  # how often a worker says it is alive
# A worker whose heartbeat has not moved for this long is gone, and a socket record that has
# not been released by then belongs to a duplicated tab (which waits this long, once, for its
# new token). A busy worker still beats: the heartbeat is a task on the same event loop as
# the sockets it would have to answer.
SILENT_SECONDS = 3.0
_ALIVE_PREFIX = "dh_worker_alive_"


async def _beat(manager: Any) -> None:
    key = _ALIVE_PREFIX + manager.instance_id
    while True:
        await manager.redis.set(key, secrets.token_hex(4), ex=60)
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _leftover(manager: Any, token: str, record: Any) -> bool:
    """Whether `record` (the socket record Redis holds for `token`) is a leftover this
    connection may take over: its worker has stopped beating, or its socket is released
    (the record deleted or moved) while we watch. A record that stays put on a live worker for
    the whole wait belongs to a duplicated tab.

    The wait also covers the ordinary race of a reconnect: the browser's old socket is closed,
    but the worker that held it has not yet run its disconnect and deleted the record."""
    key = manager._get_redis_key(token)
    mine = record.instance_id == manager.instance_id
    beat_key = _ALIVE_PREFIX + record.instance_id
    first = None if mine else await manager.redis.get(beat_key)
    if not mine and first is None:
        return True  # the worker never beat, or stopped over a minute ago
    beating = mine
    waited = 0.0
    while waited < SILENT_SECONDS:
        if mine and manager.sid_to_token.get(record.sid) != token:
            return True  # this worker already let the old socket go
        now = await manager.redis.get(key)
        if now is None or pickle.loads(now).sid != record.sid:  # noqa: S301 (Reflex's record)
            return True
        if not mine and await manager.redis.get(beat_key) != first:
            beating = True
        await asyncio.sleep(HEARTBEAT_SECONDS / 2)
        waited += HEARTBEAT_SECONDS / 2
    return not beating


def reconnect_to_own_state() -> bool:
    """Teach Reflex's Redis token manager to tell a dead worker's leftovers from a duplicated
    tab. Returns whether the patch is in place. Idempotent."""
    try:
        from reflex.utils.tasks import ensure_task
        from reflex.utils.token_manager import RedisTokenManager
    except ImportError:
        return False
    link = RedisTokenManager.link_token_to_sid
    if getattr(link, _FLAG, False):
        return True

    @functools.wraps(link)
    async def link_token_to_sid(self: Any, token: str, sid: str) -> str | None:
        ensure_task(owner=self, task_attribute="_dh_heartbeat_task", coro_function=_beat,
                    manager=self, suppress_exceptions=[Exception])
        try:
            raw = await self.redis.get(self._get_redis_key(token))
            if raw:
                record = pickle.loads(raw)  # noqa: S301 (Reflex's own record, as it reads it)
                if await _leftover(self, token, record):
                    log.warning("tab %s reconnects after its old socket ended; it keeps its "
                                "state", token)
                    await self.redis.delete(self._get_redis_key(token))
                else:
                    log.warning("tab %s connects while its socket is live on worker %s: "
                                "a duplicated tab, it gets a new state", token,
                                record.instance_id[:4])
        except Exception:  # Redis trouble: Reflex's own handling decides, as before
            log.exception("could not check the owner of a reconnecting tab")
        return await link(self, token, sid)

    setattr(link_token_to_sid, _FLAG, True)
    RedisTokenManager.link_token_to_sid = link_token_to_sid  # type: ignore[method-assign]
    return True


# Reflex's tab token (a UUID) is the key to a browser tab's server-side state, which holds
# the session cookie's value; Reflex puts it in some warnings ("Lock for token … was held too
# long"). Our own session tokens are 43 URL-safe characters. Neither may reach a log file.
_SECRETS = re.compile(
    r"(?<![0-9a-f])([0-9a-f]{4})[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"(?![0-9a-f])"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with tab tokens cut to their first 4 characters and session tokens removed."""
    return _SECRETS.sub(lambda m: f"{m.group(1)}…" if m.group(1) else "[token]", text)


def redact_logs() -> bool:
    """Every log record made in this process, by any library, is redacted as it is made
    (a record factory, so it holds whatever handlers Reflex or Granian install). Idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _FLAG, False):
        return True

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a broken format: logging reports it
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    setattr(make, _FLAG, True)
    logging.setLogRecordFactory(make)
    return True


# --- no CORS layer -------------------------------------------------------------------------


def no_cors_layer() -> bool:
    """Build Reflex apps in this process without the CORS middleware it puts around them.

    Every page, file, upload and socket of the app is same-origin, so no answer needs CORS
    permission. Reflex's layer, outermost and configured "*" with credentials, reflected any
    site's Origin with `Access-Control-Allow-Credentials` past our own door
    (`app/api/security.py`, which refuses foreign preflights and strips CORS headers but sits
    inside it). And it adds `Vary: Origin` to every answer: a page's module scripts carry an
    Origin, the service worker's requests do not, so the worker never found the page's copy of
    a build file in the HTTP cache and downloaded every one again (issue 20). The Origin
    checks of the websocket and the HTTP doors stay `app/api/security.py`'s. Idempotent.
    """
    from reflex.app import App

    if getattr(App._add_cors, _FLAG, False):
        return True

    def _add_cors(api: Any) -> None:
        return None

    setattr(_add_cors, _FLAG, True)
    App._add_cors = staticmethod(_add_cors)  # type: ignore[method-assign,assignment]
    return True


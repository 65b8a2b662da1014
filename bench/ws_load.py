"""Simulated volunteers speaking Reflex's websocket protocol to a running production server.

    python -m bench.ws_load --url http://127.0.0.1:PORT --db-url URL --sessions 200 [--seconds 30]

What a browser tab does, minus the browser: one Socket.IO connection per tab to `/_event/`
with the tab's `token` in the query string, in the `/_event` namespace, events sent as
`42/_event,["event", {"name": "<state path>.<handler>", "payload": {...}, "router_data": {...}}]`
and state updates received as `42/_event,["event", {"delta": {...}, "events": [...]}]`.

The packets are encoded and decoded with python-socketio's own packet classes
(`socketio.packet.Packet`, `engineio.packet.Packet`); the websocket underneath is wsproto on
asyncio streams, because python-socketio's asyncio client needs aiohttp, which this project
does not install. Only 127.0.0.1 is ever contacted.

Reflex emits an update only when an event changes state, so every event carries a unique
fragment in its `router_data.asPath`: the router var then always changes and every handler,
the no-op `AppState.ping` included, answers with exactly one final update (handlers that
`yield` first answer earlier too; their completion is recognised by what they return).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from engineio import packet as eio_packet
from socketio import packet as sio_packet
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from app.services.calendar import today_vn
from app.services.text import fold
from bench.generate import PASSWORD
from models import Client, ClientStatus, Role, RoleAssignment, Submission, User, Visit

Update = dict[str, Any]
CALL_TIMEOUT = 60.0  # seconds: an event not answered by then counts as an error
CONNECT_TIMEOUT = 30.0
NAMESPACE = "/_event"  # Reflex's event namespace is the path of its event URL


# --- the wire ---------------------------------------------------------------------------


class SocketClosed(Exception):
    pass


class ReflexSocket:
    """One Socket.IO connection to Reflex's event namespace, as a browser tab opens it."""

    def __init__(self, url: str, token: str, cookie: str = "") -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("the load generator only talks to this machine")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.token = token
        # The session cookie the browser's handshake would carry (the server reads it there).
        self.cookie = cookie
        self.updates: asyncio.Queue[Update] = asyncio.Queue()
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._text: list[str] = []
        self.closed = False
        # Set when the server says this token is a duplicate tab and hands out another
        # (Reflex's "new_token" event): the tab's server-side state is then gone.
        self.new_token: str | None = None
        self.on_new_token: Callable[[], None] | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        target = f"/_event/?EIO=4&transport=websocket&token={self.token}"
        headers = [(b"origin", self.origin.encode())]
        if self.cookie:
            headers.append((b"cookie", f"dh_session={self.cookie}".encode()))
        self._send_raw(self._ws.send(Request(
            host=f"{self.host}:{self.port}", target=target, extra_headers=headers,
        )))
        self._reader_task = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(self._connected.wait(), CONNECT_TIMEOUT)

    def _send_raw(self, data: bytes) -> None:
        if self._writer is None or self.closed:
            raise SocketClosed()
        self._writer.write(data)

    def _send_text(self, text: str) -> None:
        self._send_raw(self._ws.send(Message(data=text)))

    async def emit(self, event: str, data: Any) -> None:
        pkt = sio_packet.Packet(sio_packet.EVENT, data=[event, data], namespace=NAMESPACE)
        self._send_text(eio_packet.Packet(eio_packet.MESSAGE, data=pkt.encode()).encode())
        assert self._writer is not None
        await self._writer.drain()

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    break
                self._ws.receive_data(data)
                for ev in self._ws.events():
                    if isinstance(ev, AcceptConnection):
                        continue
                    if isinstance(ev, RejectConnection):
                        raise SocketClosed(f"websocket refused: {ev.status_code}")
                    if isinstance(ev, Ping):
                        self._send_raw(self._ws.send(ev.response()))
                    elif isinstance(ev, CloseConnection):
                        return
                    elif isinstance(ev, TextMessage):
                        self._text.append(ev.data)
                        if ev.message_finished:
                            self._on_engineio("".join(self._text))
                            self._text = []
        except (ConnectionError, SocketClosed, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed = True

    def _on_engineio(self, text: str) -> None:
        pkt = eio_packet.Packet(encoded_packet=text)
        if pkt.packet_type == eio_packet.OPEN:
            # Engine.IO is open: join the default namespace (no auth, so no boot event).
            join = sio_packet.Packet(sio_packet.CONNECT, namespace=NAMESPACE).encode()
            self._send_text(eio_packet.Packet(eio_packet.MESSAGE, data=join).encode())
        elif pkt.packet_type == eio_packet.PING:
            self._send_text(eio_packet.Packet(eio_packet.PONG).encode())
        elif pkt.packet_type == eio_packet.MESSAGE:
            sio = sio_packet.Packet(encoded_packet=pkt.data)
            if (sio.namespace or "/") != NAMESPACE:
                return
            if sio.packet_type == sio_packet.CONNECT:
                self._connected.set()
            elif sio.packet_type == sio_packet.EVENT and sio.data and sio.data[0] == "event":
                self.updates.put_nowait(sio.data[1])
            elif sio.packet_type == sio_packet.EVENT and sio.data and sio.data[0] == "new_token":
                self.new_token = str(sio.data[1])
                if self.on_new_token is not None:
                    self.on_new_token()
            elif sio.packet_type == sio_packet.CONNECT_ERROR:
                self.closed = True

    async def close(self) -> None:
        if self._writer is not None and not self.closed:
            try:
                self._send_raw(self._ws.send(CloseConnection(code=1000)))
                await self._writer.drain()
            except (ConnectionError, SocketClosed, RuntimeError):
                pass
        self.closed = True
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()


# --- signing in -------------------------------------------------------------------------

SIGN_IN_PATH = "/api/auth/sign-in"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_sign_in(url: str, login: str, password: str) -> tuple[str, str]:
    """Post the sign-in form as a browser does. Returns (session token, where the answer
    redirects); the token is '' when the sign-in was refused."""
    body = urllib.parse.urlencode({"login": login, "password": password}).encode()
    parts = urlsplit(url)
    request = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}{SIGN_IN_PATH}", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Origin": f"{parts.scheme}://{parts.netloc}"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        answer = opener.open(request, timeout=CALL_TIMEOUT)
        headers, status = answer.headers, answer.status
    except urllib.error.HTTPError as err:
        headers, status = err.headers, err.code
    if status != 303:
        raise RuntimeError(f"sign-in answered HTTP {status}")
    token = ""
    for value in headers.get_all("set-cookie") or []:
        name, _, rest = value.partition("=")
        if name.strip() == "dh_session":
            token = rest.split(";", 1)[0].strip()
    return token, str(headers.get("location", ""))


async def sign_in_async(url: str, login: str, password: str) -> tuple[str, str]:
    return await asyncio.to_thread(http_sign_in, url, login, password)


# --- the app's handlers -------------------------------------------------------------------


@dataclass(frozen=True)
class Handlers:
    """Full event names of the handlers a volunteer's day goes through (None: not built yet)."""

    ping: str
    sign_in: str
    check_session: str
    today_load: str | None
    clients_search: str | None
    visit_load: str | None
    visit_save: str | None

    def exercised(self) -> list[str]:
        names = [self.ping, self.check_session, self.today_load,
                 self.clients_search, self.visit_load, self.visit_save]
        return ["POST " + self.sign_in] + [
            n.rsplit(".", 2)[-2].split("____")[-1] + "." + n.rsplit(".", 1)[-1]
            for n in names if n]


def discover_handlers() -> Handlers:
    """Event names from the app's own State classes (whatever pages exist when this runs)."""
    import importlib

    importlib.import_module("app.app")  # registers every page and state
    from app.state.session import AppState

    def find(module: str, cls: str, handler: str) -> str | None:
        try:
            state = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            return None
        if handler not in state.event_handlers:
            return None
        return f"{state.get_full_name()}.{handler}"

    sign_in = SIGN_IN_PATH  # an HTTP form post, not an event (see app/api/auth.py)
    today = find("app.pages.today", "TodayState", "load")
    search = find("app.pages.clients", "ClientsState", "search")
    visit_load = find("app.pages.visit", "VisitState", "load")
    visit_save = find("app.pages.visit", "VisitState", "save")
    assert sign_in is not None
    root = AppState.get_full_name()
    return Handlers(
        ping=f"{root}.ping", sign_in=sign_in, check_session=f"{root}.check_session",
        today_load=today, clients_search=search, visit_load=visit_load,
        visit_save=visit_save,
    )


# --- the simulated volunteers -------------------------------------------------------------


@dataclass
class Volunteer:
    login: str
    client_ids: list[int]
    name_bits: list[str]


def pick_volunteers(engine: Engine, n: int, seed: int = 7) -> list[Volunteer]:
    """N sign-ins: active volunteers with active clients (reused in turn if there are fewer)."""
    from sqlmodel import Session

    with Session(engine) as db:
        rows = db.exec(
            select(User.username, Client.id, Client.full_name)  # type: ignore[call-overload]
            .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
            .join(Client, col(Client.assigned_volunteer_id) == col(User.id))
            .where(col(RoleAssignment.role) == Role.VOLUNTEER, col(User.is_active).is_(True),
                   col(Client.status) == ClientStatus.ACTIVE)
            .order_by(col(User.username), col(Client.id))
        ).all()
    by_user: dict[str, Volunteer] = {}
    for username, client_id, full_name in rows:
        v = by_user.setdefault(username, Volunteer(username, [], []))
        v.client_ids.append(client_id)
        v.name_bits.append(fold(full_name).split()[-1][:4])
    people = sorted(by_user.values(), key=lambda v: v.login)
    if not people:
        raise RuntimeError("no active volunteer with active clients in this database")
    random.Random(seed).shuffle(people)
    return [people[i % len(people)] for i in range(n)]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    acked_keys: list[str] = field(default_factory=list)
    sent_keys: list[str] = field(default_factory=list)
    # Resilient runs (faults injected): events cut off by a fault and sent again after the
    # tab reconnected, as (seconds since start, op); reconnects; tokens the server replaced.
    interrupted: list[tuple[float, str]] = field(default_factory=list)
    reconnects: int = 0
    tokens_replaced: int = 0
    replaced_at: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def error(self, op: str, what: str) -> None:
        self.errors[op] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{op}: {what}"[:300])


def _has_redirect(update: Update) -> bool:
    return any(e.get("name") == "_redirect" for e in update.get("events") or [])


def _redirect_path(update: Update) -> str | None:
    """Where a redirect in this update sends the tab (None: no redirect)."""
    for e in update.get("events") or []:
        if e.get("name") == "_redirect":
            return str((e.get("payload") or {}).get("path", ""))
    return None


def _form_done(handler: str) -> Callable[[Update], bool]:
    """A form handler is done when it redirects, or shows an error in its own state."""
    state = handler.rsplit(".", 1)[0]

    def done(update: Update) -> bool:
        mine = (update.get("delta") or {}).get(state) or {}
        return _has_redirect(update) or any(
            k.startswith("error") and bool(v) for k, v in mine.items())

    return done


RECONNECT_WITHIN = 120.0  # seconds a resilient tab keeps trying to reconnect


class SimUser:
    """One browser tab. A resilient tab behaves like Reflex's own client after a lost socket:
    it reconnects with the same token and sends the event that was cut off again (a save
    with the same submission key, which the form keeps until a save is acknowledged)."""

    def __init__(self, url: str, handlers: Handlers, volunteer: Volunteer, stats: Stats,
                 rng: random.Random, *, resilient: bool = False) -> None:
        self.h = handlers
        self.v = volunteer
        self.stats = stats
        self.rng = rng
        self.url = url
        self.token = str(uuid.uuid4())
        self.cookie = ""
        self.sock = ReflexSocket(url, self.token)
        self.sock.on_new_token = self._state_lost
        self.resilient = resilient
        self._seq = 0

    def _state_lost(self) -> None:
        """The server took this tab for a duplicate: new token, empty state (signed out)."""
        self.stats.tokens_replaced += 1
        self.stats.replaced_at.append(round(time.perf_counter() - self.stats.started, 1))

    async def reconnect(self) -> None:
        """A fresh socket with this tab's token, retried until the server answers again."""
        await self.sock.close()
        if self.sock.new_token:
            self.token = self.sock.new_token
        deadline = time.perf_counter() + RECONNECT_WITHIN
        pause = 0.25
        while True:
            self.sock = ReflexSocket(self.url, self.token, self.cookie)
            self.sock.on_new_token = self._state_lost
            try:
                await self.sock.connect()
                self.stats.reconnects += 1
                return
            except (OSError, TimeoutError, SocketClosed):
                await self.sock.close()
                if time.perf_counter() > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def call(
        self, name: str, payload: dict[str, Any], path: str,
        done: Callable[[Update], bool] = lambda _u: True,
        query: dict[str, str] | None = None,
    ) -> tuple[float, list[Update]]:
        """Send one event; wait for the update that completes it. Returns (seconds, updates)."""
        self._seq += 1
        router = {"pathname": path, "asPath": f"{path}#b{self._seq}"}
        if query:
            router["query"] = query  # type: ignore[assignment]
        while not self.sock.updates.empty():  # nothing stale counts for this event
            self.sock.updates.get_nowait()
        started = time.perf_counter()
        await self.sock.emit("event", {"name": name, "payload": payload, "router_data": router})
        got: list[Update] = []
        deadline = started + CALL_TIMEOUT
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or self.sock.closed:
                raise TimeoutError(f"{name.rsplit('.', 1)[-1]}: no answer")
            update = await asyncio.wait_for(self.sock.updates.get(), left)
            got.append(update)
            if done(update):
                return time.perf_counter() - started, got

    async def timed(self, op: str, name: str, payload: dict[str, Any], path: str,
                    done: Callable[[Update], bool] = lambda _u: True,
                    query: dict[str, str] | None = None) -> list[Update] | None:
        for attempt in (1, 2):
            try:
                seconds, updates = await self.call(name, payload, path, done, query)
            except (TimeoutError, SocketClosed, ConnectionError) as err:
                if not self.resilient or attempt == 2:
                    self.stats.error(op, str(err) or type(err).__name__)
                    return None
                self.stats.interrupted.append((time.perf_counter() - self.stats.started, op))
                try:
                    await self.reconnect()
                except (OSError, TimeoutError, SocketClosed) as again:
                    self.stats.error(op, f"no reconnect: {again or type(again).__name__}")
                    return None
                continue
            self.stats.latencies[op].append(seconds)
            return updates
        return None

    async def sign_in(self) -> bool:
        """The form post sets the session cookie; the tab's socket then carries it."""
        started = time.perf_counter()
        try:
            self.cookie, where = await sign_in_async(self.url, self.v.login, PASSWORD)
        except (OSError, RuntimeError) as err:
            self.stats.error("sign_in", str(err) or type(err).__name__)
            return False
        if not self.cookie:
            self.stats.error("sign_in", f"refused: {where}")
            return False
        self.stats.latencies["sign_in"].append(time.perf_counter() - started)
        self.sock = ReflexSocket(self.url, self.token, self.cookie)
        self.sock.on_new_token = self._state_lost
        await self.sock.connect()
        return True

    async def day(self, rounds: int, until: float, think: tuple[float, float]) -> None:
        """Ping, open Today, search, open a visit form, save a visit; again, `rounds` times."""
        h, rng = self.h, self.rng
        for _ in range(rounds):
            if time.perf_counter() > until or (self.sock.closed and not self.resilient):
                return
            await self.timed("ping", h.ping, {}, "/today")
            await self._think(think)
            await self.timed("today.check_session", h.check_session, {}, "/today")
            if h.today_load:
                await self.timed("today.load", h.today_load, {}, "/today")
            await self._think(think)
            if h.clients_search:
                q = rng.choice(self.v.name_bits)
                await self.timed("clients.search", h.clients_search,
                                 {"form_data": {"q": q, "status": "active"}}, "/clients")
                await self._think(think)
            if h.visit_load and h.visit_save:
                await self._visit(rng.choice(self.v.client_ids), think)

    async def _visit(self, client_id: int, think: tuple[float, float]) -> None:
        h = self.h
        assert h.visit_load and h.visit_save
        path = f"/clients/{client_id}/visit"
        query = {"client_id": str(client_id)}
        if await self.timed("visit.load", h.visit_load, {}, path, query=query) is None:
            return
        await self._think(think)
        key = secrets.token_hex(16)
        self.stats.sent_keys.append(key)
        form = {
            "submission_key": key, "kind": "home", "visit_date": today_vn().isoformat(),
            "content": "counselling", "notes": f"Thăm tại nhà, mọi việc ổn. [{key}]",
            "next_appointment": "",
        }
        updates = await self.timed("visit.save", h.visit_save, {"form_data": form}, path,
                                   _form_done(h.visit_save), query)
        if updates is None:
            return
        if _redirect_path(updates[-1]) == path.rsplit("/", 1)[0]:  # the client's profile
            self.stats.acked_keys.append(key)
        else:
            self.stats.error("visit.save", json.dumps(updates[-1])[:200])

    async def _think(self, think: tuple[float, float]) -> None:
        await asyncio.sleep(self.rng.uniform(*think))


# --- one load level ---------------------------------------------------------------------


@dataclass
class LoadResult:
    sessions: int
    signed_in: int
    seconds: float
    latencies: dict[str, list[float]]
    errors: dict[str, int]
    error_samples: list[str]
    acked_saves: int
    saves_in_db: int
    events: int
    sent_saves: int = 0
    interrupted: list[tuple[float, str]] = field(default_factory=list)
    reconnects: int = 0
    tokens_replaced: int = 0
    replaced_at: list[float] = field(default_factory=list)
    ledger: Ledger | None = None

    def percentile(self, op: str, q: float) -> float | None:
        values = sorted(self.latencies.get(op, []))
        if not values:
            return None
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]

    def summary(self) -> list[dict[str, Any]]:
        """One row per operation: count, p50/p95 in ms and the p95 ratio to ping's p95."""
        floor95 = self.percentile("ping", 95)
        floor50 = self.percentile("ping", 50)
        rows = []
        for op in sorted(self.latencies, key=_op_order):
            p50, p95 = self.percentile(op, 50), self.percentile(op, 95)
            rows.append({
                "op": op, "n": len(self.latencies[op]), "errors": self.errors.get(op, 0),
                "p50_ms": None if p50 is None else p50 * 1000,
                "p95_ms": None if p95 is None else p95 * 1000,
                "ratio_p50": p50 / floor50 if p50 and floor50 else None,
                "ratio_p95": p95 / floor95 if p95 and floor95 else None,
            })
        return rows


_ORDER = ["ping", "sign_in", "today.check_session", "today.load", "clients.search",
          "visit.load", "visit.save"]


def _op_order(op: str) -> int:
    return _ORDER.index(op) if op in _ORDER else len(_ORDER)


_KEY_IN_NOTES = re.compile(r"\[([0-9a-f]{32})\]$")


@dataclass(frozen=True)
class Ledger:
    """Every save the simulated volunteers sent, against what the database holds."""

    sent: int  # saves sent (each with its own submission key)
    acked: int  # … the app acknowledged (redirected to the profile)
    acked_stored: int  # acknowledged and found as exactly one visit
    acked_lost: int  # acknowledged and not in the database: must be 0
    duplicated: int  # keys with more than one visit: must be 0
    unacked_stored: int  # sent, answer lost in a fault, stored once (a save may land unseen)

    @property
    def ok(self) -> bool:
        return self.acked_lost == 0 and self.duplicated == 0 and self.acked_stored == self.acked


def ledger(engine: Engine, sent: Sequence[str], acked: Sequence[str],
           since: datetime) -> Ledger:
    """Count the visits each sent key made (the key is in the visit's notes)."""
    from sqlmodel import Session

    with Session(engine) as db:
        rows = db.exec(
            select(Visit.notes)  # type: ignore[call-overload]
            .where(col(Visit.created_at) >= since, col(Visit.notes).like("%]"))
        ).all()
    made: dict[str, int] = defaultdict(int)
    for (notes,) in rows:
        found = _KEY_IN_NOTES.search(notes or "")
        if found:
            made[found.group(1)] += 1
    acked_set = set(acked)
    return Ledger(
        sent=len(set(sent)), acked=len(acked_set),
        acked_stored=sum(1 for k in acked_set if made.get(k) == 1),
        acked_lost=sum(1 for k in acked_set if not made.get(k)),
        duplicated=sum(1 for n in made.values() if n > 1),
        unacked_stored=sum(1 for k in set(sent) - acked_set if made.get(k)),
    )


def count_saved(engine: Engine, keys: Sequence[str]) -> int:
    """How many of these submission keys the database holds (each one is one saved visit)."""
    from sqlmodel import Session

    found = 0
    with Session(engine) as db:
        for i in range(0, len(keys), 500):
            chunk = list(keys[i:i + 500])
            found += db.exec(
                select(func.count()).select_from(Submission)  # type: ignore[call-overload]
                .where(col(Submission.key).in_(chunk), col(Submission.kind) == "visit")
            ).one()[0]
    return found


async def run_load(
    url: str,
    engine: Engine,
    sessions: int,
    *,
    seconds: float = 30.0,
    rounds: int = 50,
    think: tuple[float, float] = (0.5, 2.0),
    sign_in_concurrency: int = 4,
    handlers: Handlers | None = None,
    seed: int = 1,
    resilient: bool = False,
    alongside: Callable[[float], Awaitable[None]] | None = None,
) -> LoadResult:
    """Sign `sessions` volunteers in (not timed as load), then let them work concurrently.

    `resilient` tabs reconnect and resend after a lost socket, as the browser does;
    `alongside(seconds)` runs next to the load once everyone is signed in (fault injection,
    memory sampling) and is cancelled when the load ends.
    """
    h = handlers or discover_handlers()
    stats = Stats()
    rng = random.Random(seed)
    since = datetime.now(UTC) - timedelta(seconds=5)
    users = [SimUser(url, h, v, stats, random.Random(rng.random()), resilient=resilient)
             for v in pick_volunteers(engine, sessions)]
    gate = asyncio.Semaphore(sign_in_concurrency)  # argon2 is slow on purpose: not the load

    async def sign_in(u: SimUser) -> bool:
        async with gate:
            try:
                return await u.sign_in()
            except (TimeoutError, OSError, SocketClosed) as err:
                stats.error("sign_in", f"{type(err).__name__}: {err}")
                return False

    try:
        ok = await asyncio.gather(*(sign_in(u) for u in users))
        ready = [u for u, good in zip(users, ok, strict=True) if good]
        stats.latencies.pop("sign_in", None)  # sign-in happened one by one, not under load
        started = stats.started = time.perf_counter()
        until = started + seconds
        side = asyncio.create_task(alongside(seconds)) if alongside else None
        try:
            await asyncio.gather(*(u.day(rounds, until, think) for u in ready))
        finally:
            if side is not None:
                side.cancel()
                await asyncio.gather(side, return_exceptions=True)
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(u.sock.close() for u in users), return_exceptions=True)
    saved = count_saved(engine, stats.acked_keys)
    return LoadResult(
        sessions=sessions, signed_in=len(ready), seconds=elapsed,
        latencies=dict(stats.latencies), errors=dict(stats.errors),
        error_samples=stats.error_samples, acked_saves=len(stats.acked_keys),
        saves_in_db=saved, events=sum(len(v) for v in stats.latencies.values()),
        sent_saves=len(stats.sent_keys), interrupted=list(stats.interrupted),
        reconnects=stats.reconnects, tokens_replaced=stats.tokens_replaced,
        replaced_at=list(stats.replaced_at),
        ledger=ledger(engine, stats.sent_keys, stats.acked_keys, since),
    )


def format_result(r: LoadResult) -> str:
    lines = [
        f"{r.sessions} sessions ({r.signed_in} signed in), {r.seconds:.0f} s, "
        f"{r.events} events = {r.events / max(r.seconds, 1e-9):.0f}/s; saves acknowledged "
        f"{r.acked_saves}, in database {r.saves_in_db}; errors {sum(r.errors.values())}",
        f"  {'event':<22}{'n':>6}{'err':>5}{'p50 ms':>9}{'p95 ms':>9}{'p50/ping':>9}"
        f"{'p95/ping':>9}",
    ]
    for row in r.summary():
        def f(v: float | None, fmt: str) -> str:
            return format(v, fmt) if v is not None else "—"
        lines.append(
            f"  {row['op']:<22}{row['n']:>6}{row['errors']:>5}{f(row['p50_ms'], '9.1f')}"
            f"{f(row['p95_ms'], '9.1f')}{f(row['ratio_p50'], '9.2f')}"
            f"{f(row['ratio_p95'], '9.2f')}"
        )
    if r.interrupted or r.reconnects:
        lines.append(f"  cut off by a fault and sent again after reconnecting: "
                     f"{len(r.interrupted)} events; reconnects {r.reconnects}; "
                     f"tokens replaced by the server {r.tokens_replaced}"
                     + (f" (at {', '.join(f'{t:.0f}' for t in r.replaced_at[:20])} s)"
                        if r.replaced_at else ""))
    if r.ledger is not None:
        g = r.ledger
        lines.append(f"  saves: sent {g.sent}, acknowledged {g.acked}, acknowledged and stored "
                     f"once {g.acked_stored}, lost {g.acked_lost}, stored twice {g.duplicated}, "
                     f"unacknowledged but stored once {g.unacked_stored}")
    for sample in r.error_samples[:5]:
        lines.append(f"  ! {sample}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT of a running app")
    parser.add_argument("--db-url", required=True, help="the database the app runs on")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(argv)
    from app.services.db import engine_for

    result = asyncio.run(run_load(args.url, engine_for(args.db_url), args.sessions,
                                  seconds=args.seconds, rounds=args.rounds))
    print(format_result(result))
    return 0 if not result.errors and result.acked_saves == result.saves_in_db else 1


if __name__ == "__main__":
    raise SystemExit(main())

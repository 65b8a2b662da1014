"""When a session ends, the page state of every tab of it is dropped on the server at once
(issue 19, item 1), not when the tab next reaches the server.

Each scenario signs a volunteer in, opens their client's profile in two tabs of that session
through Reflex's own state manager (the guard records each tab under the session), then ends
the session in one of the ways a session can end. The second tab never contacts the server
again; the test then reads the state store itself: none of that tab's page states may hold the
client's name, phone, national ID or address. A tab of the user's other, live session keeps
its data. The in-memory store runs in the SQLite lane; Redis (and PostgreSQL) in the
PostgreSQL + Redis lane (`pg`, DH_PG_LANE=1).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import reflex as rx
from reflex.istate.data import HeaderData, ReflexURL, RouterData, SessionData
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event.context import EventContext
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import app.app  # noqa: F401  (registers every page, so every State class exists)
from app.pages.profile import ProfileState
from app.services import accounts, second_factor, security
from app.services.actor import load_actor
from app.services.db import in_transaction
from app.state import session_end
from app.state.session import AppState
from models import AuthSession, Role, TotpCredential, User, utcnow
from tests.factories import World, build_world, make_client

PASSWORD = "tab-Ngựa-vằn-42"
ENDINGS = ("sign_out", "idle", "expiry", "ended_elsewhere", "ended_by_admin",
           "password_change", "password_reset", "disabled", "second_factor_reset")
STORES = (
    "memory",
    pytest.param("redis", marks=[
        pytest.mark.pg,
        pytest.mark.skipif(os.environ.get("DH_PG_LANE") != "1",
                           reason="PostgreSQL + Redis lane: set DH_PG_LANE=1"),
    ]),
)


@dataclass(frozen=True)
class Person:
    user_id: int
    client_id: int
    details: tuple[str, ...]  # name, phone, national ID, address


@pytest.fixture
def person(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Person]:
    """The shared world in the database the app itself uses, and vol_a1's own client."""
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    with Session(engine, expire_on_commit=False) as db:
        world: World = build_world(db)
        uid = world.users["vol_a1"]
        user = db.get(User, uid)
        assert user is not None
        user.password_hash = security.hash_password(PASSWORD)
        db.add(user)
        details = ("Trịnh Thị Kín Đáo", "0912345670", "001199004567", "Số 17 ngõ Bí Mật")
        cid = make_client(db, world.commune_a1, uid, name=details[0], phone=details[1],
                          national_id=details[2], address=details[3])
        db.commit()
    yield Person(uid, cid, details)


def _sign_in(user_id: int) -> tuple[str, int]:
    """A new session of the user (as the HTTP sign-in makes it): its cookie value and id."""
    token = security.new_token()

    def add(db: Session) -> int:
        row = AuthSession(user_id=user_id, token_hash=security.token_hash(token),
                          role=Role.VOLUNTEER, expires_at=utcnow() + timedelta(hours=12))
        db.add(row)
        db.flush()
        assert row.id is not None
        return row.id

    return token, in_transaction(add)


def _actor(token: str) -> Any:
    actor = in_transaction(lambda db: accounts.validate_session(session=db, token=token))
    assert actor is not None
    return actor


def _enrol(db: Session, user_id: int) -> None:
    db.add(TotpCredential(user_id=user_id, confirmed_at=utcnow(), secret=second_factor.seal(
        second_factor.new_secret(), user_id=user_id)))
    db.flush()


def _admin() -> Any:
    def find(db: Session) -> Any:
        uid = db.exec(select(User.id).where(User.username == "admin")).one()
        return load_actor(db, user_id=uid, role=Role.ADMIN)

    return in_transaction(find)


async def _event(manager: Any, tab: str, cookie: str, path: str, handler: str) -> None:
    """One event of tab `tab`, as Reflex runs it: under the tab's lock, with the cookie the
    websocket handshake carried."""
    async def enqueue(*_args: Any, **_kwargs: Any) -> None:
        return None

    context = EventContext.set(EventContext(token=tab, state_manager=manager,
                                            enqueue_impl=enqueue))
    try:
        async with manager.modify_state(rx.BaseStateToken(ident=tab, cls=ProfileState)) as root:
            state = await root.get_state(ProfileState if handler == "load" else AppState)
            state.router = RouterData(
                url=ReflexURL(path), headers=HeaderData(cookie=f"dh_session={cookie}"),
                session=SessionData(client_token=tab),
            )
            async for _ in getattr(state, handler)():
                pass
    finally:
        EventContext.reset(context)


async def _stored(manager: Any, tab: str) -> bytes:
    """Everything the state store holds for tab `tab`, serialised as the store keeps it."""
    redis = getattr(manager, "redis", None)
    if redis is not None:
        keys = [key async for key in redis.scan_iter(match=f"{tab}_*")]
        return b"".join(value or b"" for value in await redis.mget(keys)) if keys else b""
    root = manager.states.get(tab)
    blobs: list[bytes] = []
    pending = [root] if root is not None else []
    while pending:
        state = pending.pop()
        pending.extend(state.substates.values())
        blobs.append(pickle.dumps(state))
    return b"".join(blobs)


def _shown(person: Person, blob: bytes) -> list[str]:
    return [value for value in person.details if value.encode() in blob]


async def _manager(store: str) -> Any:
    if store == "memory":
        return StateManagerMemory()
    import redis.asyncio as aioredis
    from reflex.istate.manager.redis import StateManagerRedis

    # A database of its own (emptied after each test): the lane's app (tests/pg) keeps its
    # records in database 0, and session ids of parallel test workers would collide.
    url = os.environ.get("DH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    number = 7 + (int(worker) if worker.isdigit() else 0)
    return StateManagerRedis(redis=aioredis.Redis.from_url(f"{url}/{number}"))


def _end(ending: str, person: Person, cookie: str, session_id: int) -> str:
    """End the session (all but sign-out); returns the cookie of the user's other session,
    if the ending needs one."""
    if ending in ("idle", "expiry"):
        column = "last_seen_at" if ending == "idle" else "expires_at"
        moment = utcnow() - timedelta(minutes=31)
        in_transaction(lambda db: db.execute(
            update(AuthSession).where(col(AuthSession.id) == session_id)
            .values({column: moment})))
        return ""
    if ending in ("ended_by_admin", "password_reset", "disabled", "second_factor_reset"):
        admin = _admin()
        if ending == "ended_by_admin":
            in_transaction(lambda db: accounts.end_session(session=db, actor=admin,
                                                           session_id=session_id))
        elif ending == "password_reset":
            in_transaction(lambda db: accounts.reset_password(session=db, actor=admin,
                                                              user_id=person.user_id))
        elif ending == "second_factor_reset":
            # Enrolled after signing in (a password alone would open no session then), then
            # lost: an administrator resets it.
            in_transaction(lambda db: _enrol(db, person.user_id))
            in_transaction(lambda db: accounts.reset_second_factor(
                session=db, actor=admin, user_id=person.user_id, reason="Mất điện thoại"))
        else:
            in_transaction(lambda db: accounts.disable_user(session=db, actor=admin,
                                                            user_id=person.user_id))
        return ""
    other, _ = _sign_in(person.user_id)
    actor = _actor(other)
    if ending == "ended_elsewhere":
        in_transaction(lambda db: accounts.end_session(session=db, actor=actor,
                                                       session_id=session_id))
    else:
        in_transaction(lambda db: accounts.change_password(
            session=db, actor=actor, current=PASSWORD, new=PASSWORD + "-mới"))
    return other


async def _scenario(store: str, ending: str, person: Person) -> dict[str, list[str]]:
    manager = await _manager(store)
    dropper = session_end.start(manager)
    path = f"/clients/{person.client_id}"
    first, second, elsewhere = (str(uuid.uuid4()) for _ in range(3))
    seen: dict[str, list[str]] = {}
    try:
        cookie, session_id = _sign_in(person.user_id)
        for tab in (first, second):
            await _event(manager, tab, cookie, path, "load")
        seen["control: before the end"] = _shown(person, await _stored(manager, second))

        if ending == "sign_out":
            await _event(manager, first, cookie, path, "sign_out")
        else:
            other = _end(ending, person, cookie, session_id)
            if other:
                await _event(manager, elsewhere, other, path, "load")
        if ending in ("idle", "expiry"):
            await dropper.sweep()  # nothing announces an expiry: the periodic sweep finds it
        await dropper.settle()

        seen["the other tab"] = _shown(person, await _stored(manager, second))
        seen["the tab that ended it"] = _shown(person, await _stored(manager, first))
        if ending in ("ended_elsewhere", "password_change"):
            seen["control: the live session's tab"] = _shown(
                person, await _stored(manager, elsewhere))
        return seen
    finally:
        session_end.stop(dropper)
        redis = getattr(manager, "redis", None)
        if redis is not None:
            await redis.flushdb()
        await manager.close()


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("ending", ENDINGS)
def test_the_end_of_a_session_drops_the_page_state_of_all_its_tabs_at_once(
    person: Person, store: str, ending: str
) -> None:
    seen = asyncio.run(_scenario(store, ending, person))
    assert seen.pop("control: before the end") == list(person.details), \
        "the profile did not reach the store: the test would prove nothing"
    live = seen.pop("control: the live session's tab", None)
    if live is not None:
        assert live, "a tab of the user's live session lost its data"
    assert not any(seen.values()), seen


@pytest.mark.parametrize("store", STORES)
def test_a_tab_signed_into_another_session_since_keeps_its_new_data(
    person: Person, store: str
) -> None:
    """The record of a tab under an ended session does not reach the tab's new session."""

    async def scenario() -> list[str]:
        manager = await _manager(store)
        dropper = session_end.start(manager)
        path = f"/clients/{person.client_id}"
        tab = str(uuid.uuid4())
        try:
            old, old_id = _sign_in(person.user_id)
            await _event(manager, tab, old, path, "load")
            new, _ = _sign_in(person.user_id)
            await _event(manager, tab, new, path, "load")  # the same tab, signed in again
            actor = _actor(new)
            in_transaction(lambda db: accounts.end_session(session=db, actor=actor,
                                                           session_id=old_id))
            await dropper.settle()
            return _shown(person, await _stored(manager, tab))
        finally:
            session_end.stop(dropper)
            redis = getattr(manager, "redis", None)
            if redis is not None:
                await redis.flushdb()
            await manager.close()

    assert asyncio.run(scenario()) == list(person.details)

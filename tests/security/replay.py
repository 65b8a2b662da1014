"""The tab-token replay scenarios (issue 19), shared by both lanes.

A tab token is the key to a tab's server-side state, and it travels in the websocket URL: it
must never be enough to read anything. Each scenario signs a volunteer in over HTTP (the
HttpOnly cookie), opens one of their client's profile in two tabs of that session, closes
the second tab, and shows — a positive control — that its token with the live cookie does
bring its state back. Then the session ends in one of the ways a session can end, and the
closed tab's token is replayed on a new socket with no cookie and with the old cookie: the
hydrate every reconnect starts with, the page's on_load handlers and the profile's handlers
must carry none of the client's name, phone, national ID or address.

`tests/security/test_session_replay.py` runs them on the SQLite build,
`tests/pg/test_session_replay_pg.py` on PostgreSQL with Reflex's Redis state manager and two
workers.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.pages.profile import ProfileState
from app.services import accounts, security
from app.services.db import engine_for
from app.state import session_end
from app.state.session import AppState
from bench.ws_load import sign_in_async
from models import Client, Role, User, utcnow
from tests.factories import make_client, make_user
from tests.security.ws_client import Tab, frames_text, hydrate

ENDINGS = ("sign_out", "expiry", "ended_elsewhere", "password_change")
# Everything the app's state store holds for a tab token, serialised.
StoreReader = Callable[[str], Awaitable[bytes]]
PASSWORD = "replay-Ngựa-vằn-42"


@dataclass(frozen=True)
class Person:
    """The volunteer the scenario signs in as, and their client's identifying details."""

    login: str
    user_id: int
    client_id: int
    secrets_shown: tuple[str, ...]  # name, phone, national ID, address

    @property
    def path(self) -> str:
        return f"/clients/{self.client_id}"


def make_person(db_url: str) -> Person:
    tag = secrets.token_hex(3)
    engine = engine_for(db_url)
    with Session(engine, expire_on_commit=False) as db:
        demo = db.exec(select(User.id).where(User.username == "tnv.demo")).one()
        commune = db.exec(
            select(Client.commune_id)
            .where(Client.assigned_volunteer_id == demo)
            .order_by(col(Client.id))
        ).first()
        assert commune is not None, "the demo gives tnv.demo clients"
        login = f"tnv.replay.{tag}"
        uid = make_user(db, login, Role.VOLUNTEER, place_id=commune)
        user = db.get(User, uid)
        assert user is not None
        user.password_hash = security.hash_password(PASSWORD)
        user.full_name = f"Tình nguyện viên {tag}"
        db.add(user)
        name = f"Phạm Thị Bí Mật {tag.upper()}"
        phone = "09" + str(secrets.randbelow(10**8)).zfill(8)
        national_id = str(secrets.randbelow(10**12)).zfill(12)
        address = f"Số {secrets.randbelow(900) + 100} ngõ Kín {tag}"
        client = make_client(
            db, commune, uid, name=name, phone=phone, national_id=national_id, address=address
        )
        db.commit()
    return Person(login, uid, client, (name, phone, national_id, address))


def shown(person: Person, frames: list[dict[str, Any]]) -> list[str]:
    """Which of the client's details the frames carried."""
    text_ = frames_text(frames)
    return [value for value in person.secrets_shown if value in text_]


async def _open_profile(url: str, cookie: str, person: Person, token: str = "") -> Tab:
    tab = await Tab(url, cookie=cookie, token=token).open()
    await hydrate(tab, person.path)
    await tab.call(
        f"{ProfileState.get_full_name()}.load", {}, person.path,
        query={"client_id": str(person.client_id)},
    )
    return tab


async def _replay(url: str, token: str, cookie: str, person: Person) -> list[dict[str, Any]]:
    """A new socket with a closed tab's token: reconnect as the browser does, then the
    profile's own handlers, as a forged client could."""
    tab = await Tab(url, cookie=cookie, token=token).open()
    try:
        await hydrate(tab, person.path)
        query = {"client_id": str(person.client_id)}
        for name in ("load", "show_more", "refresh"):
            if name in ProfileState.event_handlers:
                await tab.call(f"{ProfileState.get_full_name()}.{name}", {}, person.path,
                               query=query)
        await tab.call(f"{AppState.get_full_name()}.check_session", {}, person.path)
        return tab.frames
    finally:
        await tab.close()


async def _until_dropped(stored: StoreReader, token: str, person: Person,
                         seconds: float) -> list[str]:
    """What the state store holds of the client for `token`, once it holds nothing or after
    `seconds` (the drop runs just after the commit that ended the session, or at the sweep)."""
    deadline = time.monotonic() + seconds
    while True:
        found = [value for value in person.secrets_shown if value.encode() in await stored(token)]
        if not found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def scenario(url: str, db_url: str, ending: str,
                   stored: StoreReader | None = None) -> dict[str, list[str]]:
    """Run one ending; returns what each replay saw of the client (all lists must be empty,
    but the controls'). With `stored` (what the app's state store holds for a tab token),
    also what the store itself still holds for the closed tab once the session has ended,
    before anything contacts the server with its token."""
    person = make_person(db_url)
    cookie, where = await sign_in_async(url, person.login, PASSWORD)
    assert cookie, f"could not sign in: {where}"
    first = await _open_profile(url, cookie, person)
    second = await _open_profile(url, cookie, person)
    assert shown(person, second.frames), "the profile did not open: the test would prove nothing"
    closed_token = second.token
    await second.close()
    await asyncio.sleep(0.5)  # the server notices the closed tab

    seen: dict[str, list[str]] = {}
    control = await Tab(url, cookie=cookie, token=closed_token).open()
    seen["control: live cookie"] = shown(person, await hydrate(control, person.path))
    await control.close()
    await asyncio.sleep(0.5)
    if stored is not None:
        seen["control: the store before the end"] = await _until_dropped(
            stored, closed_token, person, 0)

    other_cookie = ""
    engine = engine_for(db_url)
    if ending == "sign_out":
        await first.call(f"{AppState.get_full_name()}.sign_out", {}, person.path)
    elif ending == "expiry":
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE authsession SET last_seen_at = :old "
                     "WHERE user_id = :uid AND ended_at IS NULL"),
                {"old": utcnow() - timedelta(minutes=31), "uid": person.user_id},
            )
    else:
        other_cookie, _ = await sign_in_async(url, person.login, PASSWORD)
        with Session(engine) as db:
            actor = accounts.validate_session(session=db, token=other_cookie)
            assert actor is not None and actor.session_id is not None
            if ending == "ended_elsewhere":
                mine = accounts.validate_session(session=db, token=cookie, touch=False)
                assert mine is not None and mine.session_id is not None
                accounts.end_session(session=db, actor=actor, session_id=mine.session_id)
            else:
                accounts.change_password(session=db, actor=actor, current=PASSWORD,
                                         new=PASSWORD + "-mới")
            db.commit()
    await first.close()
    if stored is not None:
        # A sign-out goes through the app, which drops the tabs as it commits. The other
        # endings happen outside it (here, in the test's process, as the CLI or another
        # deployment's process would): the app's sweep (every SWEEP_SECONDS) finds them, as it
        # finds an expiry. tests/security/test_session_end_drops_tabs.py shows each ending
        # made inside the app dropping the tabs at once.
        wait = 15 if ending == "sign_out" else session_end.SWEEP_SECONDS + 20
        seen["the state store"] = await _until_dropped(stored, closed_token, person, wait)

    seen["no cookie"] = shown(person, await _replay(url, closed_token, "", person))
    seen["old cookie"] = shown(person, await _replay(url, closed_token, cookie, person))
    if other_cookie:
        # The same user's other, live session: the closed tab's data came from the ended one,
        # so even this cookie does not bring it back (only a fresh load would).
        tab = await Tab(url, cookie=other_cookie, token=closed_token).open()
        seen["another session's cookie"] = shown(person, await hydrate(tab, "/"))
        await tab.close()
    return seen

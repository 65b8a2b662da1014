"""The device outbox over HTTP: the gate, whole-request errors (422, never 500) and the JSON
of each endpoint, against the real Starlette app and database."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from app.api import api_app
from app.services import clients, security
from app.services.calendar import today_vn
from models import AuthSession, Role, Visit, utcnow
from tests.factories import World, count, outbox_payload, outbox_record

TODAY = today_vn()
DEVICE = "0f0e0d0c-0b0a-4908-8706-050403020100"
BASE = "http://testserver"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine) -> Iterator[TestClient]:
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    with TestClient(api_app(), base_url=BASE) as client:
        yield client


def _signed_in(session: Session, world: World, name: str) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(AuthSession(user_id=world.users[name], token_hash=security.token_hash(token),
                            role=world.roles[name], created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(hours=12)))
    session.commit()
    return token


def _headers(lang: str = "vi", device: str | None = DEVICE) -> dict[str, str]:
    headers = {"x-dh-offline": "1", "origin": BASE, "x-dh-lang": lang}
    if device is not None:
        headers["x-dh-device"] = device
    return headers


def _post(api: TestClient, token: str, path: str, body: Any = None, *, raw: bytes | None = None,
          **kw: Any) -> Any:
    api.cookies.set("dh_session", token)
    if raw is not None:
        return api.post(path, content=raw, headers=_headers(**kw))
    return api.post(path, json=body, headers=_headers(**kw))


def test_the_gate_refuses_strangers_other_roles_and_other_sites(
    api: TestClient, session: Session, world: World
) -> None:
    assert api.get("/api/outbox/snapshot", headers=_headers()).status_code == 401
    sup = _signed_in(session, world, "sup_a1")
    api.cookies.set("dh_session", sup)
    assert api.get("/api/outbox/snapshot", headers=_headers()).status_code == 403
    vol = _signed_in(session, world, "vol_a1")
    api.cookies.set("dh_session", vol)
    assert api.get("/api/outbox/snapshot", headers={"x-dh-device": DEVICE}).status_code == 403
    cross = dict(_headers(), origin="https://evil.example")
    assert api.post("/api/outbox/sync", json={"records": []}, headers=cross).status_code == 403


def test_the_device_key_is_the_same_after_signing_in_again_and_not_another_users(
    api: TestClient, session: Session, world: World
) -> None:
    first = _post(api, _signed_in(session, world, "vol_a1"), "/api/outbox/device", {})
    again = _post(api, _signed_in(session, world, "vol_a1"), "/api/outbox/device", {})
    peer = _post(api, _signed_in(session, world, "vol_a1_peer"), "/api/outbox/device", {})
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.json()["key"] == again.json()["key"] and len(first.json()["key"]) == 64
    assert peer.json()["key"] != first.json()["key"]
    no_device = _post(api, _signed_in(session, world, "vol_a1"), "/api/outbox/device", {},
                      device=None)
    assert no_device.status_code == 422


def test_the_snapshot_is_plain_json_never_stored(api: TestClient, session: Session,
                                                 world: World) -> None:
    api.cookies.set("dh_session", _signed_in(session, world, "vol_a1"))
    answer = api.get("/api/outbox/snapshot", headers=_headers())
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    data = answer.json()
    assert [c["id"] for c in data["clients"]] == [world.clients["a1"]]
    assert data["expires_after_days"] == 7 and data["user"]["id"] == world.users["vol_a1"]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"records": 5}', b'{"records": {}}',
                                 b'{"records": [' + b"{}," * 100 + b"{}]}"])
def test_a_malformed_request_is_422_never_500(api: TestClient, session: Session, world: World,
                                              raw: bytes) -> None:
    answer = _post(api, _signed_in(session, world, "vol_a1"), "/api/outbox/sync", raw=raw)
    assert answer.status_code == 422 and answer.json()["error"] == "request"


def test_sync_answers_each_record_with_translated_reasons_and_times(
    api: TestClient, session: Session, world: World
) -> None:
    token = _signed_in(session, world, "vol_a1")
    good = outbox_record("visit", outbox_payload("visit", world, TODAY))
    future = (TODAY + timedelta(days=2)).isoformat()
    bad = outbox_record("drug_test", outbox_payload("drug_test", world, TODAY, tested_on=future,
                                                    client_id=2**63))
    answer = _post(api, token, "/api/outbox/sync",
                   {"records": [good, bad, {"key": 7}, "x"]}, lang="en")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    applied, kept, *invalid = answer.json()["results"]
    assert applied["status"] == "applied" and applied["record_id"]
    assert applied["applied_at"].endswith("Z") and applied["received_at"].endswith("Z")
    assert kept["status"] == "kept" and kept["review_id"]
    assert kept["fields"] == {"client_id": "Invalid value."}
    assert kept["message"].startswith("The record breaks a rule")
    assert [r["status"] for r in invalid] == ["invalid", "invalid"]
    vi = _post(api, token, "/api/outbox/sync", {"records": [bad]}).json()["results"][0]
    assert vi["fields"] == {"client_id": "Giá trị không hợp lệ."}
    review = api.get("/api/outbox/review", headers=_headers()).json()["items"]
    assert [(i["key"], i["payload"]["client_id"]) for i in review] == [(bad["key"], 2**63)]
    again = _post(api, token, "/api/outbox/sync", {"records": [good]}).json()["results"][0]
    assert again["record_id"] == applied["record_id"]
    assert again["applied_at"] == applied["applied_at"]
    assert count(session, Visit) == 1
    withdrawn = _post(api, token, "/api/outbox/review/withdraw", {"key": bad["key"]})
    assert withdrawn.json() == {"ok": True}
    assert _post(api, token, "/api/outbox/review/withdraw",
                 {"key": str(uuid.uuid4())}).status_code == 404


def test_a_possible_duplicate_comes_back_as_a_question_over_http(
    api: TestClient, session: Session, world: World
) -> None:
    token = _signed_in(session, world, "vol_a1")
    reg = outbox_record("client", outbox_payload("client", world, TODAY,
                                                 full_name="Lê Văn Cường", birth_year=1990))
    [question] = _post(api, token, "/api/outbox/sync", {"records": [reg]}).json()["results"]
    assert question["status"] == "question"
    assert [c["id"] for c in question["candidates"]] == [world.clients["a1"]]
    assert "Lê Văn Cường" not in question["message"]
    before = count(session, clients.Client)
    answered = dict(reg, answer={"same_as": world.clients["a1"]})
    [linked] = _post(api, token, "/api/outbox/sync", {"records": [answered]}).json()["results"]
    assert linked["status"] == "applied" and linked["linked"] is True
    assert linked["client_id"] == world.clients["a1"] and count(session, clients.Client) == before
    assert world.roles["vol_a1"] == Role.VOLUNTEER

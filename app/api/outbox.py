"""HTTP endpoints of the device outbox (issue 14): the device key, the offline snapshot, the
sync every volunteer save goes through, and the volunteer's review list.

The gate of `app/api/gate.py`: the `dh_session` cookie re-validated on every call,
volunteers only, our own origin and the `X-DH-Offline` header, nothing cached anywhere. The
device names itself with `X-DH-Device` (a random id it made; not a secret). The JSON of each
endpoint is described in docs/ARCHITECTURE.md ("Device outbox").
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.gate import MAX_BODY_BYTES, guarded, json_response, lang_of, refusal
from app.i18n import t
from app.services import outbox
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.db import in_transaction
from app.services.errors import DomainError, NotFound, ValidationFailed
from models import utcnow

log = logging.getLogger(__name__)

DEVICE_HEADER = "x-dh-device"


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _device(request: Request) -> str | None:
    device = request.headers.get(DEVICE_HEADER, "")
    return device if outbox.valid_device_id(device) else None


def _bad_request(lang: str, error: str = "request") -> Response:
    return json_response({"error": error, "message": t("outbox.error.request", lang)}, 422)


def _message(key: str, lang: str, params: dict[str, Any]) -> str:
    try:
        return t(key, lang, **params)
    except (KeyError, IndexError, ValueError):
        return t(key, lang)


def _fields(fields: dict[str, str], lang: str, params: dict[str, Any]) -> dict[str, str]:
    return {name: _message(key, lang, params) for name, key in fields.items()}


TOO_LARGE = object()


async def _body(request: Request) -> Any:
    """The request's JSON; None if not JSON, TOO_LARGE past the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return TOO_LARGE
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return TOO_LARGE
    try:
        return json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return None


# --- device key ----------------------------------------------------------------------------


def _device_key(actor: Actor, device_id: str) -> dict[str, Any]:
    def run() -> outbox.DeviceKeyRead:
        return in_transaction(lambda db: outbox.device_key(session=db, actor=actor,
                                                           device_id=device_id))

    try:
        found = run()
    except IntegrityError:  # the same device asked twice at once: the other one made it
        found = run()
    return {"device_id": found.device_id, "key_id": found.key_id, "key": found.key,
            "created_at": _time(found.created_at)}


async def device(request: Request, actor: Actor) -> Response:
    device_id = _device(request)
    if device_id is None:
        return refusal(422, "device")
    return json_response(await run_in_threadpool(_device_key, actor, device_id))


# --- snapshot ------------------------------------------------------------------------------


async def snapshot(request: Request, actor: Actor) -> Response:
    data = await run_in_threadpool(lambda: in_transaction(
        lambda db: outbox.snapshot(session=db, actor=actor, today=today_vn())))
    return json_response(data)


# --- sync ----------------------------------------------------------------------------------


def _result_json(result: outbox.SyncResult, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": result.key, "kind": result.kind, "status": result.status,
                           "received_at": _time(result.received_at)}
    if result.status == "applied":
        out.update(record_id=result.record_id, client_id=result.client_id,
                   linked=result.linked, applied_at=_time(result.applied_at))
        return out
    out.update(reason=result.reason, message=_message(result.reason, lang, result.params),
               fields=_fields(result.fields, lang, result.params))
    if result.status == "kept":
        out.update(review_id=result.review_id, confirmable=result.confirmable,
                   decision_reason=result.decision_reason)
    elif result.status == "question":
        out.update(review_id=result.review_id, candidates=result.candidates,
                   hidden_count=result.hidden_count)
    return out


async def sync(request: Request, actor: Actor) -> Response:
    lang = lang_of(request)
    device_id = _device(request)
    if device_id is None:
        return refusal(422, "device")
    data = await _body(request)
    if data is TOO_LARGE:
        return refusal(413, "too_large")
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list) or len(records) > outbox.MAX_BATCH:
        return _bad_request(lang)
    try:
        results = await run_in_threadpool(lambda: outbox.apply_batch(
            actor=actor, device_id=device_id, records=records))
    except ValidationFailed:
        return _bad_request(lang)
    log.info("outbox sync user=%s records=%d applied=%d", actor.user_id, len(results),
             sum(1 for r in results if r.status == "applied"))
    return json_response({"server_time": _time(utcnow()),
                  "results": [_result_json(r, lang) for r in results]})


# --- the volunteer's review list -----------------------------------------------------------


def _item_json(item: outbox.ReviewItem, lang: str) -> dict[str, Any]:
    return {
        "review_id": item.review_id, "key": item.key, "kind": item.kind, "status": item.status,
        "reason": item.reason, "message": _message(item.reason, lang, item.params),
        "fields": _fields(item.fields, lang, item.params), "confirmable": item.confirmable,
        "payload": item.payload, "saved_at": _time(item.saved_at),
        "received_at": _time(item.received_at), "decided_at": _time(item.decided_at),
        "decision": item.decision, "decision_reason": item.decision_reason,
        "record_id": item.record_id, "client_id": item.client_id,
    }


async def review(request: Request, actor: Actor) -> Response:
    lang = lang_of(request)
    items = await run_in_threadpool(lambda: in_transaction(
        lambda db: outbox.own_items(session=db, actor=actor)))
    return json_response({"items": [_item_json(i, lang) for i in items]})


async def withdraw(request: Request, actor: Actor) -> Response:
    lang = lang_of(request)
    data = await _body(request)
    if data is TOO_LARGE:
        return refusal(413, "too_large")
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str) or len(key) > 64:
        return _bad_request(lang)
    try:
        await run_in_threadpool(lambda: in_transaction(
            lambda db: outbox.withdraw(session=db, actor=actor, key=key)))
    except NotFound:
        return json_response({"error": "not_found"}, 404)
    except DomainError as err:
        return json_response(
            {"error": "refused", "message": _message(err.key, lang, err.params)}, 409)
    return json_response({"ok": True})


ROUTES = [
    Route("/api/outbox/device", guarded(device), methods=["POST"]),
    Route("/api/outbox/snapshot", guarded(snapshot), methods=["GET"]),
    Route("/api/outbox/sync", guarded(sync), methods=["POST"]),
    Route("/api/outbox/review", guarded(review), methods=["GET"]),
    Route("/api/outbox/review/withdraw", guarded(withdraw), methods=["POST"]),
]

"""HTTP endpoints for working offline: the device's bootstrap and the sync of its queue.

Mounted into the Reflex backend (see `app/api/__init__.py`). Every request is authenticated
by the `dh_session` cookie, re-validated through `accounts.validate_session` each time, and
must come from our own pages: a custom header (which a cross-site form cannot send) and,
when the browser names one, our own origin. Nothing here may be cached anywhere.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.gate import MAX_BODY_BYTES, guarded, json_response, lang_of, refusal
from app.i18n import t
from app.services import offline
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.db import in_transaction
from app.services.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

# The gate is shared with the device outbox's endpoints (app/api/gate.py).
_json = json_response
_refusal = refusal
_lang = lang_of
_guarded = guarded


# --- endpoints -----------------------------------------------------------------------------


def _bootstrap(actor: Actor) -> dict[str, Any]:
    data = in_transaction(lambda db: offline.bootstrap(session=db, actor=actor, today=today_vn()))
    return asdict(data)


async def bootstrap(request: Request, actor: Actor) -> Response:
    return _json(await run_in_threadpool(_bootstrap, actor))


def _result_json(result: offline.SyncResult, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": result.key, "status": result.status}
    if result.record_id is not None:
        out["record_id"] = result.record_id
    if result.status == "rejected":
        out["reason"] = result.reason
        out["message"] = t(result.reason, lang, **result.params)
        out["fields"] = {name: t(key, lang, **result.params) for name, key in result.fields.items()}
        out["confirmable"] = result.confirmable
    return out


async def sync(request: Request, actor: Actor) -> Response:
    lang = _lang(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _refusal(413, "too_large")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _refusal(413, "too_large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refusal(400, "json")
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return _refusal(400, "records")
    try:
        results = await run_in_threadpool(lambda: offline.apply_batch(actor=actor, records=records))
    except ValidationFailed as err:
        return _json({"error": "batch", "message": t(err.fields.get("records", err.key), lang,
                                                     **err.params)}, 400)
    except DomainError as err:
        return _json({"error": "refused", "message": t(err.key, lang, **err.params)}, 403)
    sent = sum(1 for r in results if r.status != "rejected")
    log.info("offline sync user=%s records=%d stored_or_known=%d", actor.user_id, len(results),
             sent)
    return _json({"results": [_result_json(r, lang) for r in results]})


ROUTES = [
    Route("/api/offline/bootstrap", _guarded(bootstrap), methods=["GET"]),
    Route("/api/offline/sync", _guarded(sync), methods=["POST"]),
]

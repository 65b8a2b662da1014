"""What a volunteer's device keeps to work offline: their own caseload and nothing else.

Sent as plain JSON over HTTPS (no-store); the device encrypts it with its device key and
throws it away after `snapshot_days` days without a sync (a settings row, not a constant).
Per client: what the volunteer sees of them online — name, birth year, sex, commune, address
and phone, the live episode, what is due, the last five records, the open referrals. The
sensitive fields (HIV status, ethnicity) stay on the server.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.services import activities, audit
from app.services.actor import Actor
from app.services.errors import PermissionDenied
from app.services.facilities import communes_for, referral_facilities
from app.services.policy import Action, authorize_grant, client_scope_filter, strip_visit_fields
from app.services.settings import load_settings
from models import (
    Client,
    ClientStatus,
    DrugTest,
    Episode,
    EpisodeStatus,
    Organisation,
    Place,
    Referral,
    ReferralStatus,
    Role,
    Setting,
    Support,
    User,
    Visit,
    utcnow,
)

SNAPSHOT_DAYS_SETTING = "outbox.snapshot_days"
DEFAULT_SNAPSHOT_DAYS = 7  # only if the settings row is missing (the migration writes it)
RECENT = 5
LIVE = (EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)
OPEN_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED)

# The timeline's fields for a volunteer (clients.client_timeline), per record table.
_RECENT_TABLES: tuple[tuple[str, Any, Any, tuple[str, ...]], ...] = (
    ("visit", Visit, Visit.visit_date,
     ("kind", "content", "notes", "risk_flags", "next_appointment", "author_id")),
    ("test", DrugTest, DrugTest.tested_on, ("result", "sample", "method", "substances")),
    ("referral", Referral, Referral.referred_on,
     ("service", "facility_id", "status", "feedback_on", "expires_on")),
    ("support", Support, Support.started_on, ("kind", "amount_vnd", "term_months", "status")),
    ("episode", Episode, Episode.start_date,
     ("episode_type", "status", "expected_end", "actual_end", "end_reason", "version")),
)


def snapshot_days(session: Session) -> int:
    """Days a device keeps its snapshot without a sync (setting `outbox.snapshot_days`)."""
    row = session.get(Setting, SNAPSHOT_DAYS_SETTING)
    try:
        days = int(row.value) if row is not None else DEFAULT_SNAPSHOT_DAYS
    except ValueError:
        days = DEFAULT_SNAPSHOT_DAYS
    return min(max(days, 1), 90)


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _recent(session: Session, me: Actor, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The newest RECENT records of each client, every table read once (window per client)."""
    found: dict[int, list[dict[str, Any]]] = {cid: [] for cid in ids}
    for kind, model, on, names in _RECENT_TABLES:
        rank = func.row_number().over(partition_by=col(model.client_id),
                                      order_by=(on.desc(), col(model.id).desc())).label("rank")
        inner = sa_select(col(model.id).label("id"), col(model.client_id).label("client_id"),
                          on.label("on"), *(getattr(model, n) for n in names), rank).where(
            col(model.client_id).in_(ids)).subquery()
        for row in session.execute(sa_select(inner).where(inner.c.rank <= RECENT)).mappings():
            values = {n: _json(row[n]) for n in names}
            if kind == "visit":
                values = strip_visit_fields(me, values)
            found[row["client_id"]].append(
                {"kind": kind, "record_id": row["id"], "on": row["on"].isoformat(),
                 "fields": values})
    for items in found.values():
        items.sort(key=lambda i: (i["on"], i["kind"], i["record_id"]), reverse=True)
        del items[RECENT:]
    return found


def snapshot(*, session: Session, actor: Actor | None, today: date,
             now: datetime | None = None) -> dict[str, Any]:
    """The volunteer's offline snapshot (JSON-ready). Audited as one caseload read."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    if me.role != Role.VOLUNTEER:
        raise PermissionDenied()
    now = now or utcnow()
    rows = session.exec(
        select(Client).where(client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE)
        .order_by(col(Client.name_key), col(Client.id))
    ).all()
    ids = [c.id for c in rows if c.id is not None]
    due = activities.due_followups(session=session, actor=me, today=today)
    due_by: dict[int, list[dict[str, Any]]] = {}
    for item in due:
        due_by.setdefault(item.client_id, []).append(
            {"kind": item.kind, "due_on": _json(item.due_on), "days_overdue": item.days_overdue,
             "record_id": item.record_id})
    episodes: dict[int, dict[str, Any]] = {}
    referrals: dict[int, list[dict[str, Any]]] = {}
    recent: dict[int, list[dict[str, Any]]] = {}
    names: dict[int, str] = {}
    if ids:
        for ep in session.exec(select(Episode).where(
                col(Episode.client_id).in_(ids), col(Episode.status).in_(LIVE))
                .order_by(col(Episode.start_date), col(Episode.id))).all():
            episodes[ep.client_id] = {  # the live episode that started last wins
                "id": ep.id, "episode_type": _json(ep.episode_type),
                "start_date": _json(ep.start_date), "expected_end": _json(ep.expected_end),
                "status": _json(ep.status), "version": ep.version}
        orgs: dict[int | None, str] = dict(
            session.exec(select(Organisation.id, Organisation.name)).all())
        for ref in session.exec(select(Referral).where(
                col(Referral.client_id).in_(ids), col(Referral.status).in_(OPEN_REFERRALS))
                .order_by(col(Referral.referred_on), col(Referral.id))).all():
            referrals.setdefault(ref.client_id, []).append({
                "id": ref.id, "service": _json(ref.service), "facility_id": ref.facility_id,
                "facility_name": orgs.get(ref.facility_id, "") if ref.facility_id else "",
                "referred_on": _json(ref.referred_on), "expires_on": _json(ref.expires_on),
                "status": _json(ref.status)})
        recent = _recent(session, me, ids)
        communes = {c.commune_id for c in rows}
        names = {pid: name for pid, name in session.exec(select(Place.id, Place.name).where(
            col(Place.id).in_(communes))).all() if pid is not None}
    user = session.get(User, me.user_id)
    clients = [{
        "id": c.id, "full_name": c.full_name, "birth_year": c.birth_year, "sex": _json(c.sex),
        "commune_id": c.commune_id, "commune_name": names.get(c.commune_id, ""),
        # A volunteer's own clients are exactly those whose profile (address, phone
        # included) the policy lets them open; sensitive fields are never sent.
        "address": c.address, "phone": c.phone, "status": _json(c.status), "version": c.version,
        "open_episode": episodes.get(c.id or 0), "due": due_by.get(c.id or 0, []),
        "recent": recent.get(c.id or 0, []), "open_referrals": referrals.get(c.id or 0, []),
    } for c in rows]
    audit.record(session, actor=me, action="outbox.snapshot", target_type="client",
                 target_id=None, detail=f"clients={len(clients)}")
    return {
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "today": today.isoformat(),
        "expires_after_days": snapshot_days(session),
        # The device locks itself after the same idle time as a signed-in session.
        "idle_minutes": load_settings().session_idle_minutes,
        "user": {"id": me.user_id, "full_name": user.full_name if user else ""},
        "places": [{"id": pid, "name": name} for pid, name in communes_for(session=session,
                                                                           actor=me)],
        # Each facility with the referral services it can receive: the referral form offers a
        # facility only under a service it provides (the server checks it again).
        "facilities": [{"id": fid, "name": name, "services": list(services)}
                       for fid, name, services in referral_facilities(session=session,
                                                                      actor=me)],
        "today_list": [{"client_id": i.client_id, "kind": i.kind, "due_on": _json(i.due_on),
                        "days_overdue": i.days_overdue, "record_id": i.record_id} for i in due],
        "clients": clients,
    }

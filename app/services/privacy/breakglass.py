"""Break-glass: a supervisor or clinic worker opens one client outside their scope in an
emergency, with a typed reason, for at most the `breakglass.max` term (3 hours).

Each opening covers one client; a second client needs its own opening and its own reason.
It is read-only unless its reason kind allows recording (`REASONS`). While it runs,
`load_actor` puts the client in the actor's `glass_read_ids` (and `glass_write_ids`), which
`policy` honours for that one client — never in lists or searches. Every opening is audited
(`privacy.break_glass` on the client, so it shows in "Ai đã xem hồ sơ này") and listed to the
client's *own supervisors* (`own_supervisors`: the supervisors who are members of a volunteer
team of the client's assigned volunteer) on their home screen and to administrators. Only a
client with no such supervisor (no assigned volunteer, or a team without a supervisor) falls
back to the supervisors of the client's commune, so no opening goes unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_grant, can, client_target
from app.services.privacy.terms import term
from app.services.text import clean
from models import (
    BreakGlass,
    Client,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    TeamMember,
    User,
    utcnow,
)

# Reason kind -> may record (visits, tests, referrals) for the client, not only read.
REASONS: dict[str, bool] = {
    "medical_emergency": False,
    "safety_risk": False,
    "continuity_of_care": True,  # the person turned up here and must be served today
}
MIN_REASON = 15


@dataclass(frozen=True)
class GlassView:
    id: int
    user_id: int
    user_name: str
    role: str
    client_id: int
    reason_kind: str
    reason: str
    writable: bool
    opened_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    live: bool


def open_glass(*, session: Session, actor: Actor | None, client_id: int, reason_kind: str,
               reason: str, now: datetime | None = None) -> GlassView:
    """Open one client for `breakglass.max` hours with a reason (audited)."""
    me = authorize_grant(session, actor, Action.BREAK_GLASS, target_type="client",
                         target_id=client_id)
    moment = now or utcnow()
    text = clean(reason)
    errors: dict[str, str] = {}
    if reason_kind not in REASONS:
        errors["reason_kind"] = "error.invalid_choice"
    if not MIN_REASON <= len(text) <= 500:
        errors["reason"] = "privacy.error.reason_required"
    if errors:
        raise ValidationFailed(errors)
    client = session.get(Client, client_id)
    if client is None or client.anonymised_at is not None:
        raise NotFound()
    if can(me, Action.CLIENT_READ, client_target(session, client)) \
            and client_id not in me.glass_read_ids:
        raise ValidationFailed({"client_id": "privacy.error.already_in_scope"})
    hours = term(session, "breakglass.max").amount
    row = BreakGlass(user_id=me.user_id, role=me.role.value, client_id=client_id,
                     reason_kind=reason_kind, reason=text, writable=REASONS[reason_kind],
                     opened_at=moment, expires_at=moment + timedelta(hours=hours))
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action="privacy.break_glass", target_type="client",
                 target_id=client_id, detail=f"glass={row.id} kind={reason_kind} h={hours}")
    return _view(row, "", moment)


def close_glass(*, session: Session, actor: Actor | None, glass_id: int,
                now: datetime | None = None) -> bool:
    """End one's own opening before it expires (True once it is over)."""
    me = authorize_grant(session, actor, Action.BREAK_GLASS)
    row = session.get(BreakGlass, glass_id)
    if row is None or row.user_id != me.user_id:
        raise NotFound()
    if row.ended_at is None:
        row.ended_at = now or utcnow()
        session.add(row)
        audit.record(session, actor=me, action="privacy.break_glass.close",
                     target_type="client", target_id=row.client_id, detail=f"glass={row.id}")
        session.flush()
    return True


def _view(row: BreakGlass, user_name: str, now: datetime) -> GlassView:
    return GlassView(
        id=row.id or 0, user_id=row.user_id, user_name=user_name, role=row.role,
        client_id=row.client_id, reason_kind=row.reason_kind, reason=row.reason,
        writable=row.writable, opened_at=row.opened_at, expires_at=row.expires_at,
        ended_at=row.ended_at, live=row.ended_at is None and row.expires_at > now,
    )


def my_openings(*, session: Session, actor: Actor | None,
                now: datetime | None = None) -> list[GlassView]:
    """The actor's own openings that are still running."""
    me = authorize_grant(session, actor, Action.BREAK_GLASS)
    moment = now or utcnow()
    rows = session.exec(select(BreakGlass).where(
        BreakGlass.user_id == me.user_id, col(BreakGlass.expires_at) > moment,
        col(BreakGlass.ended_at).is_(None)).order_by(col(BreakGlass.id))).all()
    return [_view(r, me.display_name, moment) for r in rows]


def own_supervisors(session: Session, client_ids: set[int]) -> dict[int, set[int]]:
    """client id -> the user ids of the client's own supervisors: active supervisors who are
    current members of an active volunteer team the client's assigned volunteer is a current
    member of (empty for a client with no assigned volunteer or no such team)."""
    if not client_ids:
        return {}
    volunteer = TeamMember.__table__.alias("volunteer_member")  # type: ignore[attr-defined]
    boss = TeamMember.__table__.alias("supervisor_member")  # type: ignore[attr-defined]
    rows = session.exec(
        select(col(Client.id), boss.c.user_id)
        .join(volunteer, volunteer.c.user_id == col(Client.assigned_volunteer_id))
        .join(Organisation, col(Organisation.id) == volunteer.c.organisation_id)
        .join(boss, boss.c.organisation_id == volunteer.c.organisation_id)
        .join(RoleAssignment, col(RoleAssignment.user_id) == boss.c.user_id)
        .join(User, col(User.id) == boss.c.user_id)
        .where(col(Client.id).in_(client_ids), volunteer.c.left_on.is_(None),
               boss.c.left_on.is_(None), col(Organisation.kind) == OrgKind.VOLUNTEER_TEAM,
               col(Organisation.active).is_(True), col(RoleAssignment.role) == Role.SUPERVISOR,
               col(User.is_active).is_(True))
    ).all()
    found: dict[int, set[int]] = {cid: set() for cid in client_ids}
    for cid, uid in rows:
        if cid is not None:
            found[cid].add(uid)
    return found


def openings_to_review(*, session: Session, actor: Actor | None, days: int = 30,
                       now: datetime | None = None) -> list[GlassView]:
    """Openings of the last `days`: a supervisor sees those on clients they are the own
    supervisor of (`own_supervisors`), and, for a client with no own supervisor, those on
    clients of their communes; an administrator sees all."""
    if actor is not None and actor.role == Role.ADMIN:
        me = authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    else:
        me = authorize_grant(session, actor, Action.CLIENT_AUDIT_VIEW)
    moment = now or utcnow()
    query = select(BreakGlass, User.full_name).join(User, col(User.id) == col(BreakGlass.user_id))\
        .where(col(BreakGlass.opened_at) >= moment - timedelta(days=days))
    if me.role != Role.ADMIN:
        query = query.join(Client, col(Client.id) == col(BreakGlass.client_id)).where(
            col(Client.commune_id).in_(me.commune_ids), col(BreakGlass.user_id) != me.user_id)
    rows = session.exec(query.order_by(col(BreakGlass.opened_at).desc()).limit(100)).all()
    if me.role != Role.ADMIN:
        owners = own_supervisors(session, {r.client_id for r, _name in rows})
        rows = [(r, name) for r, name in rows
                if not owners.get(r.client_id) or me.user_id in owners[r.client_id]]
    return [_view(r, name, moment) for r, name in rows]

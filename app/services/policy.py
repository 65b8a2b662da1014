"""Who may do what, to which record: the one place that decides. Deny unless a rule grants it.

Two questions decide every request:

1. *Grant* — does the role have the action at all? (`_GRANTS` below; nothing else grants.)
2. *Scope* — is the target inside the role's scope?

   ============  ==========================================================================
   role          clients in scope
   ============  ==========================================================================
   volunteer     assigned to them **and** living in one of their communes
   supervisor    living in one of their communes (a province scope is expanded to its
                 communes by `load_actor`)
   clinic        with a live referral (sent, received or used) to one of their facilities
   admin         none — administrators never open client records (unless the same person
                 signs in with a supervisor role)
   ============  ==========================================================================

   Place-bound actions (register a client, log an outreach contact, hold a group activity,
   view or export a report) need the place to be one of the actor's communes or provinces.

Sensitive fields (`hiv_status`, `ethnicity`) are shown to:

- supervisors, for every client in their scope;
- volunteers, for the clients assigned to them — the only clients they can open — because
  they collected these values with the client's consent and counsel on them;
- never to clinic staff (they see a client only through a referral) nor administrators.

Clinic staff also never see visit notes or risk flags, nor drug tests or support records.

Refusals: `require` raises `NotFound` when a role that has the action meets a client-bound
target outside its scope (so "not yours" looks exactly like "does not exist") and
`PermissionDenied` otherwise. `authorize*` do the same and also write a "denied" audit event
that survives the rollback. A disabled user has no actor (`load_actor` returns None): denied.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, and_, false, func, union
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.errors import NotFound, PermissionDenied
from models import Client, Consent, ProcessingLimit, Referral, ReferralStatus, Role


class Action(StrEnum):
    # Values double as audit-event action names.
    CLIENT_SEARCH = "client.search"
    CLIENT_READ = "client.read"
    CLIENT_CREATE = "client.create"
    CLIENT_UPDATE = "client.update"
    CLIENT_REASSIGN = "client.reassign"
    SENSITIVE_READ = "client.sensitive_read"
    VISIT_CREATE = "visit.create"
    CONTACT_CREATE = "contact.create"
    TEST_CREATE = "test.create"
    REFERRAL_CREATE = "referral.create"
    REFERRAL_COMPLETE = "referral.complete"
    SUPPORT_CREATE = "support.create"
    EPISODE_OPEN = "episode.open"
    EPISODE_PROPOSE_CLOSE = "episode.propose_close"
    EPISODE_APPROVE_CLOSE = "episode.approve_close"
    # The law's decisions a supervisor takes: accept a proposed post-rehab episode, record a
    # reduction, confirm terms after a rule change (app/services/law).
    EPISODE_DECIDE = "episode.decide"
    # The law's other records: addiction determination, electronic monitoring, change of
    # residence and its notices, a provider's notices.
    LAW_RECORD = "law.record"
    CASELOAD_VIEW = "caseload.view"  # due list, overdue and ending-soon episodes
    GROUP_CREATE = "group.create"
    REPORT_VIEW = "report.view"
    EXPORT = "export"
    CARD_ISSUE = "card.issue"
    CARD_REVOKE = "card.revoke"
    CARD_SCAN = "card.scan"
    USER_ADMIN = "user.admin"
    PLACE_ADMIN = "place.admin"
    RULE_EDIT = "rule.edit"
    AUDIT_VIEW = "audit.view"
    # A supervisor's review list of records the sync refused (issue 14): its scope is
    # `outbox_item_in_scope` (the record's commune or its author's communes).
    OUTBOX_REVIEW = "outbox.review"
    # Personal-data protection (app/services/privacy/).
    CLIENT_AUDIT_VIEW = "privacy.client_audit"  # "who saw this record"
    CONSENT_RECORD = "consent.record"
    CONSENT_WITHDRAW = "consent.withdraw"
    REQUEST_MANAGE = "privacy.request"  # the register of data-subject requests
    BREACH_MANAGE = "privacy.breach"
    PRIVACY_ADMIN = "privacy.admin"  # terms, holidays, retention, inventory
    BREAK_GLASS = "privacy.break_glass"


A = Action

_VOLUNTEER = frozenset({
    A.CLIENT_SEARCH, A.CLIENT_READ, A.CLIENT_CREATE, A.CLIENT_UPDATE, A.SENSITIVE_READ,
    A.VISIT_CREATE, A.CONTACT_CREATE, A.TEST_CREATE, A.REFERRAL_CREATE, A.SUPPORT_CREATE,
    A.EPISODE_PROPOSE_CLOSE, A.CASELOAD_VIEW, A.CARD_ISSUE, A.CARD_REVOKE, A.CARD_SCAN,
    # Volunteers hold group talks and club meetings in their own communes (PRODUCT.md §4).
    A.GROUP_CREATE,
    # An episode records a decision the authority already took; the volunteer who manages
    # the client enters it (their own assigned clients only, like every client-bound action).
    A.EPISODE_OPEN, A.LAW_RECORD,
    # The person's consent is collected by whoever registers and follows them.
    A.CONSENT_RECORD, A.CONSENT_WITHDRAW,
})

_GRANTS: dict[Role, frozenset[Action]] = {
    Role.VOLUNTEER: _VOLUNTEER,
    Role.SUPERVISOR: _VOLUNTEER | {
        A.CLIENT_REASSIGN, A.REFERRAL_COMPLETE, A.EPISODE_APPROVE_CLOSE,
        A.REPORT_VIEW, A.EXPORT, A.OUTBOX_REVIEW, A.CLIENT_AUDIT_VIEW, A.REQUEST_MANAGE,
        A.BREAK_GLASS, A.EPISODE_DECIDE,
    },
    Role.CLINIC: frozenset({A.CLIENT_SEARCH, A.CLIENT_READ, A.REFERRAL_COMPLETE, A.CARD_SCAN,
                            A.BREAK_GLASS}),
    # Administrators see the audit *metadata* of a record (who, when, which screen) by its
    # number, never its content: `privacy.record_audit` returns no client field to them.
    Role.ADMIN: frozenset({A.USER_ADMIN, A.PLACE_ADMIN, A.RULE_EDIT, A.AUDIT_VIEW,
                          A.CLIENT_AUDIT_VIEW, A.BREACH_MANAGE, A.PRIVACY_ADMIN}),
}

# What kind of target each action is checked against. Unlisted actions take no target: their
# scope is applied by `client_scope_filter` (lists) or they are not about client data.
_CLIENT_BOUND = frozenset({
    A.CLIENT_READ, A.CLIENT_UPDATE, A.CLIENT_REASSIGN, A.SENSITIVE_READ, A.VISIT_CREATE,
    A.CONTACT_CREATE, A.TEST_CREATE, A.REFERRAL_CREATE, A.SUPPORT_CREATE, A.EPISODE_OPEN,
    A.EPISODE_PROPOSE_CLOSE, A.EPISODE_APPROVE_CLOSE, A.CARD_ISSUE, A.CARD_REVOKE,
    A.GROUP_CREATE, A.CLIENT_AUDIT_VIEW, A.CONSENT_RECORD, A.CONSENT_WITHDRAW,
    A.REQUEST_MANAGE, A.EPISODE_DECIDE, A.LAW_RECORD,
})
_PLACE_BOUND = frozenset({
    A.CLIENT_CREATE, A.CLIENT_UPDATE, A.CONTACT_CREATE, A.GROUP_CREATE, A.REPORT_VIEW, A.EXPORT,
})
_REFERRAL_BOUND = frozenset({A.REFERRAL_COMPLETE})
_UNSCOPED = frozenset({
    A.CLIENT_SEARCH, A.CASELOAD_VIEW, A.CARD_SCAN, A.USER_ADMIN, A.PLACE_ADMIN, A.RULE_EDIT,
    A.AUDIT_VIEW, A.OUTBOX_REVIEW, A.BREACH_MANAGE, A.PRIVACY_ADMIN, A.BREAK_GLASS,
})
# What a break-glass opening allows on its one client: reading, and when its reason says
# so (`privacy.breakglass.REASONS`), recording what the emergency needs.
_GLASS_READ = frozenset({A.CLIENT_READ, A.SENSITIVE_READ})
_GLASS_WRITE = frozenset({A.VISIT_CREATE, A.TEST_CREATE, A.REFERRAL_CREATE})

# A referral in one of these states lets the receiving clinic see the client.
CLINIC_VISIBLE_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.USED)

# Consent purposes whose withdrawal changes who may see the client (the whole catalogue of
# purposes is app/services/privacy/inventory.py).
REFERRAL_SHARING = "referral"  # the codes the registration form has always used
STATISTICS = "reporting"
# Restricting case management (the purpose the record exists for) keeps the record with its
# case workers but takes it out of identified exports and stops new referrals.
CASE_MANAGEMENT = "case_management"

SENSITIVE_CLIENT_FIELDS = frozenset({"hiv_status", "ethnicity"})
CLINIC_HIDDEN_VISIT_FIELDS = frozenset({"notes", "risk_flags"})


@dataclass(frozen=True)
class ClientTarget:
    """What the policy needs to know about a client (build with `client_target`)."""

    client_id: int
    commune_id: int
    assigned_volunteer_id: int | None
    referral_facility_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PlaceTarget:
    """A commune or province an action happens in."""

    place_id: int


@dataclass(frozen=True)
class ReferralTarget:
    facility_id: int | None
    client: ClientTarget


Target = ClientTarget | PlaceTarget | ReferralTarget


def role_may(role: Role, action: Action) -> bool:
    """Does the role have the action somewhere (for menus; never enough to touch a record)."""
    return action in _GRANTS.get(role, frozenset())


def _client_in_scope(actor: Actor, target: ClientTarget, action: Action | None = None) -> bool:
    if target.client_id in actor.glass_read_ids and action is not None and (
        action in _GLASS_READ
        or (action in _GLASS_WRITE and target.client_id in actor.glass_write_ids)
    ):
        # Break-glass (supervisor or clinic): never the sensitive fields for clinic staff.
        return not (action == A.SENSITIVE_READ and actor.role == Role.CLINIC)
    if actor.role == Role.ADMIN and action == A.CLIENT_AUDIT_VIEW:
        return True  # audit metadata of any record, by number (see _GRANTS)
    if actor.role == Role.VOLUNTEER:
        return (
            target.assigned_volunteer_id == actor.user_id
            and target.commune_id in actor.commune_ids
        )
    if actor.role == Role.SUPERVISOR:
        return target.commune_id in actor.commune_ids
    if actor.role == Role.CLINIC:
        return bool(target.referral_facility_ids & actor.facility_ids)
    return False


def _place_in_scope(actor: Actor, place_id: int) -> bool:
    return place_id in actor.commune_ids or place_id in actor.province_ids


def _referral_in_scope(actor: Actor, target: ReferralTarget) -> bool:
    if actor.role == Role.CLINIC:
        return target.facility_id is not None and target.facility_id in actor.facility_ids
    return _client_in_scope(actor, target.client)


def can(actor: Actor | None, action: Action, target: Target | None = None) -> bool:
    """True only if the role has the action and the target is in the actor's scope."""
    if actor is None or not role_may(actor.role, action):
        return False
    if action in _UNSCOPED:
        return target is None
    if isinstance(target, ClientTarget) and action in _CLIENT_BOUND:
        return _client_in_scope(actor, target, action)
    if isinstance(target, PlaceTarget) and action in _PLACE_BOUND:
        return _place_in_scope(actor, target.place_id)
    if isinstance(target, ReferralTarget) and action in _REFERRAL_BOUND:
        return _referral_in_scope(actor, target)
    return False  # otherwise nothing


def require(actor: Actor | None, action: Action, target: Target | None = None) -> Actor:
    """The actor if allowed; else NotFound (client record out of scope) or PermissionDenied."""
    if actor is not None and can(actor, action, target):
        return actor
    if (
        actor is not None
        and role_may(actor.role, action)
        and isinstance(target, ClientTarget | ReferralTarget)
    ):
        raise NotFound()
    raise PermissionDenied()


def _target_ref(target: Target | None) -> tuple[str, int | None]:
    if isinstance(target, ClientTarget):
        return "client", target.client_id
    if isinstance(target, PlaceTarget):
        return "place", target.place_id
    if isinstance(target, ReferralTarget):
        return "client", target.client.client_id
    return "", None


def authorize(
    session: Session,
    actor: Actor | None,
    action: Action,
    target: Target | None = None,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
) -> Actor:
    """`require`, plus a 'denied' audit event that survives the caller's rollback."""
    try:
        return require(actor, action, target)
    except (NotFound, PermissionDenied):
        ref_type, ref_id = _target_ref(target)
        audit.record_denial(
            session,
            actor=actor,
            action=action,
            target_type=target_type if target_type is not None else ref_type,
            target_id=target_id if target_id is not None else ref_id,
        )
        raise


def authorize_grant(
    session: Session,
    actor: Actor | None,
    action: Action,
    *,
    target_type: str = "",
    target_id: int | None = None,
) -> Actor:
    """Check only that the role has the action: done *before* loading a record, so a role
    without the action cannot tell existing records from missing ones."""
    if actor is not None and role_may(actor.role, action):
        return actor
    audit.record_denial(session, actor=actor, action=action, target_type=target_type,
                        target_id=target_id)
    raise PermissionDenied()


def purpose_withdrawn(session: Session, client_id: int, purpose: str) -> bool:
    """The person withdrew their consent to `purpose` and gave no newer one. (A client whose
    consent never named the purpose is governed by the consent they gave at registration.)"""
    rows = session.exec(
        select(col(Consent.withdrawn_on)).where(col(Consent.client_id) == client_id,
                                           col(Consent.purpose) == purpose)).all()
    return bool(rows) and all(w is not None for w in rows)


def stopped_ids(purpose: str) -> CompoundSelect:
    """Client ids for whom `purpose` has stopped: every consent to it withdrawn, or a
    restriction or objection to it running (`ProcessingLimit`, from the requests register).
    The one definition every service that processes for a purpose excludes them by."""
    withdrawn = select(col(Consent.client_id)).where(col(Consent.purpose) == purpose) \
        .group_by(col(Consent.client_id)) \
        .having(func.count(col(Consent.withdrawn_on)) == func.count())
    limited = select(col(ProcessingLimit.client_id)).where(
        col(ProcessingLimit.purpose) == purpose, col(ProcessingLimit.lifted_on).is_(None))
    return union(withdrawn, limited)


def purpose_stopped(session: Session, client_id: int, purpose: str) -> bool:
    """`purpose` has stopped for this client (see `stopped_ids`)."""
    if purpose_withdrawn(session, client_id, purpose):
        return True
    return session.exec(select(col(ProcessingLimit.id)).where(
        col(ProcessingLimit.client_id) == client_id, col(ProcessingLimit.purpose) == purpose,
        col(ProcessingLimit.lifted_on).is_(None))).first() is not None


def withdrawn_filter(purpose: str) -> ColumnElement[bool]:
    """WHERE clause: clients for whom `purpose` has stopped (see `stopped_ids`)."""
    return col(Client.id).in_(stopped_ids(purpose))


def client_target(session: Session, client: Client) -> ClientTarget:
    assert client.id is not None
    if purpose_stopped(session, client.id, REFERRAL_SHARING):
        # Sharing with receiving facilities stopped the day the consent was withdrawn (or
        # the person restricted or objected to it).
        return ClientTarget(client_id=client.id, commune_id=client.commune_id,
                            assigned_volunteer_id=client.assigned_volunteer_id)
    facilities = session.exec(
        select(Referral.facility_id).where(
            col(Referral.client_id) == client.id,
            col(Referral.facility_id).is_not(None),
            col(Referral.status).in_(CLINIC_VISIBLE_REFERRALS),
        )
    ).all()
    return ClientTarget(
        client_id=client.id,
        commune_id=client.commune_id,
        assigned_volunteer_id=client.assigned_volunteer_id,
        referral_facility_ids=frozenset(f for f in facilities if f is not None),
    )


def authorize_client(
    session: Session, actor: Actor | None, action: Action, client_id: int
) -> tuple[Actor, Client, ClientTarget]:
    """Load a client for an action: PermissionDenied if the role lacks the action, NotFound
    if the client is missing, merged away, or outside the actor's scope."""
    me = authorize_grant(session, actor, action, target_type="client", target_id=client_id)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound()
    target = client_target(session, client)
    authorize(session, me, action, target)
    return me, client, target


def client_scope_filter(actor: Actor | None) -> ColumnElement[bool]:
    """A WHERE clause restricting Client queries to the actor's scope."""
    if actor is None:
        return false()
    # An anonymised record (deletion request, retention) is in nobody's lists any more.
    kept = col(Client.anonymised_at).is_(None)
    if actor.role == Role.VOLUNTEER:
        return and_(
            kept,
            col(Client.assigned_volunteer_id) == actor.user_id,
            col(Client.commune_id).in_(actor.commune_ids),
        )
    if actor.role == Role.SUPERVISOR:
        return and_(kept, col(Client.commune_id).in_(actor.commune_ids))
    if actor.role == Role.CLINIC:
        referred = select(Referral.client_id).where(
            col(Referral.facility_id).in_(actor.facility_ids),
            col(Referral.status).in_(CLINIC_VISIBLE_REFERRALS),
        )
        return and_(kept, col(Client.id).in_(referred), ~withdrawn_filter(REFERRAL_SHARING))
    return false()  # otherwise nothing


def visible_fields(actor: Actor | None, target: ClientTarget) -> frozenset[str]:
    """Which sensitive client fields this actor may see on this client."""
    if can(actor, Action.SENSITIVE_READ, target):
        return SENSITIVE_CLIENT_FIELDS
    return frozenset()


def strip_client_fields(
    actor: Actor | None, target: ClientTarget, record: dict[str, Any]
) -> dict[str, Any]:
    """The record without the sensitive fields the actor may not see (keys removed)."""
    hidden = SENSITIVE_CLIENT_FIELDS - visible_fields(actor, target)
    return {k: v for k, v in record.items() if k not in hidden}


def strip_visit_fields(actor: Actor | None, record: dict[str, Any]) -> dict[str, Any]:
    """A visit without notes and risk flags for anyone who is not volunteer or supervisor."""
    if actor is not None and actor.role in (Role.VOLUNTEER, Role.SUPERVISOR):
        return record
    return {k: v for k, v in record.items() if k not in CLINIC_HIDDEN_VISIT_FIELDS}


def sees_tests_and_support(actor: Actor | None) -> bool:
    """Drug tests and support (loans) are for the client's own case workers only."""
    return actor is not None and actor.role in (Role.VOLUNTEER, Role.SUPERVISOR)


def outbox_item_in_scope(actor: Actor | None, *, commune_id: int | None,
                         author_commune_ids: frozenset[int]) -> bool:
    """May this supervisor see (and apply or dismiss) a record the sync refused? Yes if the
    record's commune, or one of its author's communes, is theirs."""
    if actor is None or not role_may(actor.role, Action.OUTBOX_REVIEW):
        return False
    return (commune_id is not None and commune_id in actor.commune_ids) or bool(
        author_commune_ids & actor.commune_ids)

"""Clients: registration with duplicate checks and consent, audited reads, edits, search, timeline.

Every read of a client record (profile, timeline) and every change writes an audit event in
the same transaction. Sensitive fields reach only the readers `policy` allows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor, load_actor
from app.services.calendar import today_vn
from app.services.dto import (
    ClientCreate,
    ClientFilters,
    ClientListItem,
    ClientPage,
    ClientRead,
    ClientReadSensitive,
    ClientUpdate,
    ConsentRead,
    DuplicateCandidate,
    TimelineItem,
)
from app.services.errors import Conflict, DomainError, ValidationFailed
from app.services.places import place_name
from app.services.policy import (
    Action,
    ClientTarget,
    PlaceTarget,
    authorize,
    authorize_client,
    authorize_grant,
    can,
    client_scope_filter,
    client_target,
    sees_tests_and_support,
    strip_client_fields,
    strip_visit_fields,
)
from app.services.privacy.inventory import PURPOSES
from app.services.privacy.inventory import SENSITIVE_CATEGORIES as CATALOGUE_CATEGORIES
from app.services.submissions import Once
from app.services.text import clean, fold
from models import (
    AuditEvent,
    Client,
    ClientStatus,
    Consent,
    DrugTest,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Organisation,
    Place,
    PlaceKind,
    Referral,
    Role,
    Support,
    User,
    Visit,
    utcnow,
)

# Categories of sensitive personal data and purposes a consent can name: the catalogue.
SENSITIVE_CATEGORIES = frozenset(CATALOGUE_CATEGORIES)
HIV_STATUSES = frozenset({"", "negative", "positive", "unknown"})
MIN_BIRTH_YEAR = 1900
ADULT_AGE = 18
MAX_PAGE_SIZE = 200
MAX_REASSIGN = 1000

_NATIONAL_ID = re.compile(r"[0-9]{12}")
_PHONE_ALLOWED = re.compile(r"[0-9 .()+\-]+")

_TEXT_LIMITS = {
    "other_names": 200, "address": 200, "former_address": 200, "legal_rep_name": 120,
    "family_contact": 200, "priority_group": 60, "substances": 200, "ethnicity": 40,
}


class DuplicateCandidates(DomainError):
    """Possible duplicates: ask the user, then call again with `confirm_duplicates=True`.

    Only candidates the user may open are named; the others are only counted."""

    key = "error.duplicate_candidates"

    def __init__(self, candidates: list[DuplicateCandidate], hidden_count: int = 0) -> None:
        self.candidates = candidates
        self.hidden_count = hidden_count
        super().__init__(count=len(candidates) + hidden_count)


# --- validation ----------------------------------------------------------------------------


def _age_on(birth_year: int, birth_date: date | None, today: date) -> int:
    if birth_date is not None:
        before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
        return today.year - birth_date.year - int(before_birthday)
    return today.year - birth_year


def normalise_phone(raw: str | None, field: str, errors: dict[str, str]) -> str:
    """Digits only; 9–11 of them. Spaces, dots, dashes, brackets and '+' are allowed in input."""
    if raw is None or not raw.strip():
        return ""
    if not _PHONE_ALLOWED.fullmatch(raw.strip()):
        errors[field] = "error.phone_format"
        return ""
    digits = "".join(c for c in raw if "0" <= c <= "9")
    if not 9 <= len(digits) <= 11:
        errors[field] = "error.phone_format"
    return digits


def normalise_national_id(raw: str | None, errors: dict[str, str]) -> str | None:
    if raw is None or not raw.strip():
        return None
    compact = "".join(raw.split())
    if not _NATIONAL_ID.fullmatch(compact):
        errors["national_id"] = "error.national_id_format"
        return None
    return compact


def _valid_name(value: str, field: str, errors: dict[str, str], *, required: bool = True) -> str:
    name = clean(value)
    if not name and not required:
        return ""
    if not 2 <= len(name) <= 120:
        errors[field] = "error.name_length"
    elif not any(unicodedata.category(c).startswith("L") for c in name):
        errors[field] = "error.name_invalid"
    return name


def _validate_profile(data: ClientCreate, today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """Check every profile rule at once; return cleaned values and field errors."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"full_name": _valid_name(data.full_name, "full_name", errors)}
    for field, limit in _TEXT_LIMITS.items():
        text = clean(getattr(data, field))
        if len(text) > limit:
            errors[field] = "error.too_long"
        values[field] = text
    if values["legal_rep_name"]:
        _valid_name(values["legal_rep_name"], "legal_rep_name", errors)
    if not MIN_BIRTH_YEAR <= data.birth_year <= today.year:
        errors["birth_year"] = "error.birth_year_range"
    elif data.birth_date is not None and (
        data.birth_date.year != data.birth_year or data.birth_date > today
    ):
        errors["birth_date"] = "error.birth_date_mismatch"
    elif (_age_on(data.birth_year, data.birth_date, today) < ADULT_AGE
          and not values["legal_rep_name"]):
        errors["legal_rep_name"] = "error.legal_rep_required"
    values["national_id"] = normalise_national_id(data.national_id, errors)
    values["phone"] = normalise_phone(data.phone, "phone", errors)
    values["legal_rep_phone"] = normalise_phone(data.legal_rep_phone, "legal_rep_phone", errors)
    hiv = clean(data.hiv_status).lower()
    if hiv not in HIV_STATUSES:
        errors["hiv_status"] = "error.invalid_choice"
    values["hiv_status"] = hiv
    values.update(
        birth_year=data.birth_year, birth_date=data.birth_date, sex=data.sex,
        commune_id=data.commune_id, injects=data.injects,
    )
    values["name_key"] = fold(values["full_name"])[:120]
    return values, errors


def _validate_consents(data: ClientCreate, values: dict[str, Any], today: date,
                       errors: dict[str, str]) -> list[tuple[str, list[str], date]]:
    if not data.consents:
        errors["consents"] = "error.consent_required"
        return []
    consents: list[tuple[str, list[str], date]] = []
    named: set[str] = set()
    for consent in data.consents:
        purpose = clean(consent.purpose)
        categories = sorted({clean(c) for c in consent.sensitive_categories})
        if purpose not in PURPOSES or not set(categories) <= SENSITIVE_CATEGORIES:
            errors["consents"] = "error.invalid_choice"
        elif not date(2000, 1, 1) <= consent.given_on <= today:
            errors["consents"] = "error.date_range"
        named.update(categories)
        consents.append((purpose, categories, consent.given_on))
    if "consents" not in errors and (
        (values["hiv_status"] and "hiv_status" not in named)
        or (values["ethnicity"] and "ethnicity" not in named)
    ):
        errors["consents"] = "error.consent_missing_category"
    return consents


def _check_commune(session: Session, commune_id: int, errors: dict[str, str]) -> None:
    place = session.get(Place, commune_id)
    if place is None or place.kind != PlaceKind.COMMUNE:
        errors["commune_id"] = "error.invalid_commune"


def _volunteer_covers(session: Session, volunteer_id: int, commune_id: int) -> bool:
    volunteer = load_actor(session, user_id=volunteer_id, role=Role.VOLUNTEER)
    return volunteer is not None and commune_id in volunteer.commune_ids


# --- reading -------------------------------------------------------------------------------


def _consents(session: Session, client_id: int) -> list[ConsentRead]:
    rows = session.exec(
        select(Consent).where(Consent.client_id == client_id).order_by(col(Consent.id))
    ).all()
    return [
        ConsentRead(
            id=c.id or 0, purpose=c.purpose,
            sensitive_categories=[s for s in c.sensitive_categories.split(",") if s],
            given_on=c.given_on, withdrawn_on=c.withdrawn_on,
        )
        for c in rows
    ]


def _consented(session: Session, client_id: int) -> set[str]:
    """Sensitive categories named by a consent that has not been withdrawn."""
    return {
        category
        for consent in _consents(session, client_id)
        if consent.withdrawn_on is None
        for category in consent.sensitive_categories
    }


def _to_read(session: Session, actor: Actor, client: Client, target: ClientTarget) -> ClientRead:
    assert client.id is not None
    record: dict[str, Any] = {
        name: getattr(client, name)
        for name in ClientReadSensitive.model_fields
        if name not in ("commune_name", "consents", "assigned_volunteer_name")
    }
    record["commune_name"] = place_name(session, client.commune_id)
    record["assigned_volunteer_name"] = _user_name(session, client.assigned_volunteer_id)
    record["consents"] = _consents(session, client.id)
    record = strip_client_fields(actor, target, record)
    if "hiv_status" in record:
        return ClientReadSensitive(**record)
    return ClientRead(**record)


def _user_name(session: Session, user_id: int | None) -> str:
    # Staff data, not client data: who looks after the client is shown to whoever may open it.
    if user_id is None:
        return ""
    user = session.get(User, user_id)
    return user.full_name if user is not None else ""


# What a list shows of a client: selected as columns, a page costs no ORM objects.
_LIST_COLUMNS = (
    col(Client.id), col(Client.full_name), col(Client.birth_year), col(Client.sex),
    col(Client.commune_id), col(Client.assigned_volunteer_id), col(Client.status),
)


def _list_item(client: Any) -> ClientListItem:
    """A list item from a Client or a row of `_LIST_COLUMNS`."""
    return ClientListItem(
        id=client.id or 0, full_name=client.full_name, birth_year=client.birth_year,
        sex=client.sex, commune_id=client.commune_id,
        assigned_volunteer_id=client.assigned_volunteer_id, status=client.status,
    )


# --- services ------------------------------------------------------------------------------


def _duplicates(session: Session, actor: Actor, values: dict[str, Any],
                exclude_id: int | None = None, *,
                national_id_only: bool = False) -> tuple[list[DuplicateCandidate], int]:
    """Matches the actor may read (shown) and how many others there are (never revealed)."""
    same_person = (
        (col(Client.name_key) == values["name_key"])
        & (col(Client.birth_year) == values["birth_year"])
        & (col(Client.commune_id) == values["commune_id"])
    )
    if national_id_only:
        same_person = col(Client.national_id) == values["national_id"]
    elif values["national_id"]:
        same_person = or_(same_person, col(Client.national_id) == values["national_id"])
    query = select(Client).where(same_person, col(Client.status) != ClientStatus.MERGED)
    if exclude_id is not None:
        query = query.where(col(Client.id) != exclude_id)
    shown: list[DuplicateCandidate] = []
    hidden = 0
    for match in session.exec(query.order_by(col(Client.id)).limit(20)).all():
        if can(actor, Action.CLIENT_READ, client_target(session, match)):
            shown.append(DuplicateCandidate(
                id=match.id or 0, full_name=match.full_name, birth_year=match.birth_year,
                commune_id=match.commune_id,
            ))
        else:
            hidden += 1
    return shown, hidden


# National-ID look-ups per user and hour: enough for a day of registrations, too few to
# probe who is registered anywhere in the programme.
NATIONAL_ID_LOOKUPS_PER_HOUR = 30


def _check_lookup_rate(session: Session, me: Actor, values: dict[str, Any]) -> None:
    if not values["national_id"]:
        return
    since = utcnow() - timedelta(hours=1)
    done = session.exec(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor_id == me.user_id,
            AuditEvent.action == "client.duplicate_check",
            col(AuditEvent.detail).startswith("national_id=1 "),
            col(AuditEvent.at) > since,
        )
    ).one()
    if done >= NATIONAL_ID_LOOKUPS_PER_HOUR:
        audit.record_denial(session, actor=me, action="client.duplicate_check",
                            target_type="client", target_id=None, detail="throttled")
        raise ValidationFailed({"national_id": "client.lookup_throttled"})


def _audited_lookup(session: Session, me: Actor, values: dict[str, Any], *,
                    client_id: int | None = None,
                    national_id_only: bool = False) -> list[DuplicateCandidate]:
    """The one duplicate look-up of registration and of an edit of the national ID:
    rate-limited per user when it names an ID number, audited with what it found (which only
    auditors see), and answering only the matches the actor may read. A match outside the
    actor's scope is never revealed (no membership oracle): the caller saves the record, and
    it lands on the supervisors' review list of duplicates across areas
    (`merge.duplicates_elsewhere`), which is computed from the data."""
    _check_lookup_rate(session, me, values)
    shown, hidden = _duplicates(session, me, values, client_id,
                                national_id_only=national_id_only)
    audit.record(session, actor=me, action="client.duplicate_check", target_type="client",
                 target_id=client_id, detail=f"national_id={int(bool(values['national_id']))} "
                                             f"shown={len(shown)} hidden={hidden}")
    return shown


def _consent_giver(data: ClientCreate, values: dict[str, Any], today: date,
                   errors: dict[str, str]) -> dict[str, Any]:
    """Who gave the registration's consents and how (the Consent columns), checked as on the
    consent page (`privacy.consent.giver_errors`; errors under `consent_<field>`). A minor's
    consent is given by their legal representative (PDPL; LAW.md P2): when the form says
    "the person", it is recorded as the representative's, named by `legal_rep_name`."""
    from app.services.privacy.consent import giver_errors  # privacy imports this module

    giver: dict[str, Any] = {
        "given_by": data.consent_given_by,
        "representative_name": clean(data.consent_representative_name),
        "representative_relation": clean(data.consent_representative_relation),
        "method": data.consent_method, "form_number": clean(data.consent_form_number)}
    minor = _age_on(values["birth_year"], values["birth_date"], today) < ADULT_AGE
    if minor and giver["given_by"] == "subject":
        giver.update(given_by="representative", representative_name=values["legal_rep_name"],
                     representative_relation="")
        checked = giver_errors("subject", "", "", giver["method"], giver["form_number"])
    else:
        checked = giver_errors(**giver)
    errors.update({f"consent_{name}": key for name, key in checked.items()})
    if giver["given_by"] != "representative":
        giver.update(representative_name="", representative_relation="")
    if giver["method"] != "paper":
        giver["form_number"] = ""
    return giver


def register_client(
    *,
    session: Session,
    actor: Actor | None,
    data: ClientCreate,
    confirm_duplicates: bool = False,
    submission_key: str | None = None,
) -> ClientRead:
    """Register a client in one of the actor's communes, with consent; nothing on error."""
    me = authorize_grant(session, actor, Action.CLIENT_CREATE)
    once = Once(session, me, submission_key, "client")
    # A replay answers with the person first registered (the page opens their profile, so a
    # retry that corrected a typo is still that registration); nothing is written, no event.
    if (seen := once.replayed(Client)) is not None:
        return _to_read(session, me, seen, client_target(session, seen))

    today = today_vn()
    values, errors = _validate_profile(data, today)
    consents = _validate_consents(data, values, today, errors)
    giver = _consent_giver(data, values, today, errors)
    _check_commune(session, data.commune_id, errors)
    if "commune_id" not in errors:
        authorize(session, me, Action.CLIENT_CREATE, PlaceTarget(data.commune_id))
    volunteer_id = data.assigned_volunteer_id
    if me.role == Role.VOLUNTEER:
        if volunteer_id not in (None, me.user_id):
            errors["assigned_volunteer_id"] = "error.invalid_volunteer"
        volunteer_id = me.user_id
    elif volunteer_id is not None and not _volunteer_covers(session, volunteer_id, data.commune_id):
        errors["assigned_volunteer_id"] = "error.invalid_volunteer"
    if errors:
        raise ValidationFailed(errors)

    if not confirm_duplicates:
        shown = _audited_lookup(session, me, values)
        if shown:
            raise DuplicateCandidates(shown)

    client = Client(**values, assigned_volunteer_id=volunteer_id, created_by_id=me.user_id)
    client_id = once.store(client, action=Action.CLIENT_CREATE, target_type="client",
                           detail="duplicates_confirmed" if confirm_duplicates else "")
    session.add_all(
        Consent(client_id=client_id, purpose=purpose, sensitive_categories=",".join(categories),
                given_on=given_on, recorded_by_id=me.user_id, **giver)
        for purpose, categories, given_on in consents
    )
    session.flush()
    return _to_read(session, me, client, client_target(session, client))


def get_client(*, session: Session, actor: Actor | None, client_id: int) -> ClientRead:
    """A client's profile (audited); sensitive fields only if the policy allows."""
    me, client, target = authorize_client(session, actor, Action.CLIENT_READ, client_id)
    audit.record(session, actor=me, action=Action.CLIENT_READ, target_type="client",
                 target_id=client_id)
    return _to_read(session, me, client, target)


def update_client(
    *,
    session: Session,
    actor: Actor | None,
    client_id: int,
    data: ClientUpdate,
    expected_version: int,
) -> ClientRead:
    """Change a profile if nobody changed it since `expected_version` was read (else Conflict)."""
    me, client, target = authorize_client(session, actor, Action.CLIENT_UPDATE, client_id)
    changes = data.model_dump(exclude_none=True)
    sensitive_change = {"hiv_status", "ethnicity"} & changes.keys()
    if sensitive_change and not can(me, Action.SENSITIVE_READ, target):
        authorize(session, me, Action.SENSITIVE_READ, target)  # records the denial and raises
    status = changes.pop("status", None)
    merged = {
        name: getattr(client, name) for name in ClientCreate.model_fields
        if name not in ("consents", "assigned_volunteer_id") and not name.startswith("consent_")
    }
    merged.update(changes)
    today = today_vn()
    values, errors = _validate_profile(ClientCreate(**merged), today)
    if "commune_id" in changes and changes["commune_id"] != client.commune_id:
        _check_commune(session, changes["commune_id"], errors)
        if "commune_id" not in errors:
            authorize(session, me, Action.CLIENT_UPDATE, PlaceTarget(changes["commune_id"]))
    if status == ClientStatus.MERGED:
        errors["status"] = "error.invalid_choice"
    for field in ("hiv_status", "ethnicity"):
        if values[field] and values[field] != getattr(client, field) and field not in _consented(
            session, client_id
        ):
            errors["consents"] = "error.consent_missing_category"
    # Looked up once the rest is valid (as at registration). "Already in use" only for a record
    # the actor may read; one outside their scope is saved as if nothing matched and goes to
    # the supervisors' review list of duplicates across areas.
    if (not errors and values["national_id"] and values["national_id"] != client.national_id
            and _audited_lookup(session, me, values, client_id=client_id,
                                national_id_only=True)):
        errors["national_id"] = "error.national_id_in_use"
    if errors:
        raise ValidationFailed(errors)
    if status is not None:
        values["status"] = status
    stored = {k: v for k, v in values.items() if getattr(client, k) != v}
    result = session.execute(
        update(Client)
        .where(col(Client.id) == client_id, col(Client.version) == expected_version)
        .values(**stored, version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()
    session.refresh(client)
    # Field names only, and not even those of sensitive fields: the trail never holds values.
    hidden = {"hiv_status", "ethnicity", "name_key"}
    changed = ",".join(sorted(k for k in stored if k not in hidden))
    audit.record(session, actor=me, action=Action.CLIENT_UPDATE, target_type="client",
                 target_id=client_id, detail=f"fields={changed}"[:200])
    return _to_read(session, me, client, client_target(session, client))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _has_live_episode(episode_type: EpisodeType) -> ColumnElement[bool]:
    """The client has an open or closure-proposed episode of this type."""
    return exists().where(
        col(Episode.client_id) == col(Client.id),
        col(Episode.episode_type) == episode_type,
        col(Episode.status).in_((EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)),
    )


def _is_overdue(today: date) -> ColumnElement[bool]:
    """The client missed an appointment or is past the end of an open episode.

    Missed: the latest visit (latest date, then highest id — as on the Today screen) set a next
    appointment before today; any later visit would be the latest one instead. Correlated
    EXISTS subqueries, so paging stays in SQL on SQLite and PostgreSQL alike."""
    visit, later = aliased(Visit), aliased(Visit)
    later_visit = exists().where(
        col(later.client_id) == col(visit.client_id),
        or_(col(later.visit_date) > col(visit.visit_date),
            and_(col(later.visit_date) == col(visit.visit_date), col(later.id) > col(visit.id))),
    )
    missed_appointment = exists().where(
        col(visit.client_id) == col(Client.id),
        col(visit.next_appointment).is_not(None),
        col(visit.next_appointment) < today,
        ~later_visit,
    )
    episode_past_end = exists().where(
        col(Episode.client_id) == col(Client.id),
        col(Episode.status) == EpisodeStatus.OPEN,
        col(Episode.expected_end).is_not(None),
        col(Episode.expected_end) < today,
    )
    return or_(missed_appointment, episode_past_end)


def search_clients(
    *,
    session: Session,
    actor: Actor | None,
    query: str = "",
    filters: ClientFilters | None = None,
    page: int = 1,
    page_size: int = 50,
) -> ClientPage:
    """Clients in the actor's scope matching a name (accents and case ignored), ID or phone.

    Sorted by the folded name, then id. That is an approximation of Vietnamese order: it puts
    'đ' with 'd' and ignores tones; exact order for one page is `text.vi_sort_key`. Paging is
    done in SQL (LIMIT/OFFSET) so a province of thousands never loads whole.
    """
    me = authorize_grant(session, actor, Action.CLIENT_SEARCH)
    filters = filters or ClientFilters()
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    conditions: list[Any] = [client_scope_filter(me)]
    folded = fold(clean(query))
    if folded:
        digits = "".join(folded.split())
        matches: list[Any] = [col(Client.name_key).like(_like_pattern(folded), escape="\\")]
        if digits.isascii() and digits.isdigit():
            matches += [col(Client.national_id) == digits, col(Client.phone) == digits]
        conditions.append(or_(*matches))
    if filters.status is not None:
        conditions.append(col(Client.status) == filters.status)
    if filters.commune_id is not None:
        conditions.append(col(Client.commune_id) == filters.commune_id)
    if filters.unassigned_only:
        conditions.append(col(Client.assigned_volunteer_id).is_(None))
    elif filters.assigned_volunteer_id is not None:
        conditions.append(col(Client.assigned_volunteer_id) == filters.assigned_volunteer_id)
    if filters.episode_type is not None:
        conditions.append(_has_live_episode(filters.episode_type))
    if filters.overdue_only:
        conditions.append(_is_overdue(today_vn()))
    total = session.exec(select(func.count()).select_from(Client).where(*conditions)).one()
    page_ids = (
        select(col(Client.id)).where(*conditions)
        .order_by(col(Client.name_key), col(Client.id))
        .offset((page - 1) * page_size).limit(page_size)
    )
    # Sort narrow (name key, id) rows, then load only the page's whole rows: sorting whole rows
    # made a province's deep pages twice as slow on SQLite (bench/queries.py, docs/BENCHMARKS.md).
    rows = session.execute(
        sa_select(*_LIST_COLUMNS).where(col(Client.id).in_(page_ids))
        .order_by(col(Client.name_key), col(Client.id))
    ).all()
    audit.record(session, actor=me, action=Action.CLIENT_SEARCH, target_type="client",
                 target_id=None, detail=f"results={total}")
    audit.record_people(session, actor=me, action="client.list",
                        client_ids=[c.id for c in rows], detail=f"search page={page}")
    return ClientPage(items=[_list_item(c) for c in rows], total=total, page=page,
                      page_size=page_size)


def reassign_clients(
    *, session: Session, actor: Actor | None, client_ids: list[int], volunteer_id: int | None
) -> int:
    """Give clients to another volunteer (or none); all or nothing. Returns how many changed."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    ids = sorted(set(client_ids))
    if not ids or len(ids) > MAX_REASSIGN:
        raise ValidationFailed({"client_ids": "error.invalid_value"})
    clients = [authorize_client(session, me, Action.CLIENT_REASSIGN, cid)[1] for cid in ids]
    if volunteer_id is not None:
        volunteer = load_actor(session, user_id=volunteer_id, role=Role.VOLUNTEER)
        if volunteer is None:
            raise ValidationFailed({"volunteer_id": "error.invalid_volunteer"})
        if any(c.commune_id not in volunteer.commune_ids for c in clients):
            raise ValidationFailed({"volunteer_id": "error.volunteer_out_of_commune"})
    changed = 0
    for client in clients:
        if client.assigned_volunteer_id == volunteer_id:
            continue
        client.assigned_volunteer_id = volunteer_id
        client.version += 1
        session.add(client)
        audit.record(session, actor=me, action=Action.CLIENT_REASSIGN, target_type="client",
                     target_id=client.id, detail=f"volunteer={volunteer_id}")
        changed += 1
    session.flush()
    return changed


def _timeline_fields(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _timeline_rows(session: Session, on: Any, fields: tuple[str, ...],
                   *where: ColumnElement[bool]) -> list[Any]:
    """Rows of (id, the date `on`, *fields) of one record table, as columns: a timeline of a
    few hundred records cost ~5 ms building ORM objects that were read once and dropped."""
    model = on.class_
    return list(session.execute(
        sa_select(col(model.id).label("id"), on.label("on"),
                  *(getattr(model, name) for name in fields)).where(*where)
    ).all())


_VISIT_FIELDS = ("kind", "content", "notes", "risk_flags", "next_appointment", "author_id")
_REFERRAL_FIELDS = ("service", "facility_id", "status", "feedback_on", "expires_on")
_TEST_FIELDS = ("result", "sample", "method", "substances")
_SUPPORT_FIELDS = ("kind", "amount_vnd", "term_months", "status")
_EPISODE_FIELDS = ("episode_type", "status", "expected_end", "actual_end", "end_reason",
                   "version")


def _name_facilities(session: Session, referrals: list[TimelineItem]) -> None:
    """Each referral's history entry names the clinic it went to (`facility_name`)."""
    ids = {i.fields.get("facility_id") for i in referrals} - {None}
    names = dict(session.execute(
        sa_select(col(Organisation.id), col(Organisation.name))
        .where(col(Organisation.id).in_(ids))
    ).all()) if ids else {}
    for item in referrals:
        item.fields["facility_name"] = names.get(item.fields.get("facility_id"), "")


def client_timeline(*, session: Session, actor: Actor | None, client_id: int) -> list[TimelineItem]:
    """Visits, tests, referrals, support and episodes of a client, newest first (audited).

    Clinic staff get visits without notes or risk flags, only referrals to their facilities,
    and no tests or support."""
    me, _client, _target = authorize_client(session, actor, Action.CLIENT_READ, client_id)
    items: list[TimelineItem] = []

    def add(kind: str, rows: list[Any], fields: tuple[str, ...]) -> None:
        for row in rows:
            values = _timeline_fields(row, fields)
            if kind == "visit":
                values = strip_visit_fields(me, values)
            items.append(TimelineItem(kind=kind, record_id=row.id or 0, on=row.on,
                                      fields=values))

    add("visit", _timeline_rows(session, col(Visit.visit_date), _VISIT_FIELDS,
                                col(Visit.client_id) == client_id), _VISIT_FIELDS)
    referrals = [col(Referral.client_id) == client_id]
    if me.role == Role.CLINIC:
        referrals.append(col(Referral.facility_id).in_(me.facility_ids))
    add("referral", _timeline_rows(session, col(Referral.referred_on), _REFERRAL_FIELDS,
                                   *referrals), _REFERRAL_FIELDS)
    if sees_tests_and_support(me):
        add("test", _timeline_rows(session, col(DrugTest.tested_on), _TEST_FIELDS,
                                   col(DrugTest.client_id) == client_id), _TEST_FIELDS)
        add("support", _timeline_rows(session, col(Support.started_on), _SUPPORT_FIELDS,
                                      col(Support.client_id) == client_id), _SUPPORT_FIELDS)
    add("episode", _timeline_rows(session, col(Episode.start_date), _EPISODE_FIELDS,
                                  col(Episode.client_id) == client_id), _EPISODE_FIELDS)
    _name_facilities(session, [i for i in items if i.kind == "referral"])
    items.sort(key=lambda i: (i.on, i.kind, i.record_id), reverse=True)
    audit.record(session, actor=me, action="client.timeline", target_type="client",
                 target_id=client_id)
    return items

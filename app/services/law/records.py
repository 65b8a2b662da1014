"""The law's records around episodes: addiction determinations, electronic monitoring, changes
of residence with their 24-hour notices, and a provider's notices.

- An *addiction determination* (Decree 109/2021) names the facility, the date and the result;
  it is valid for a voluntary registration for the months of the `determination_valid` clock.
  A determination of dependence ends the person's illegal-use management (LAW.md L2).
- *Electronic monitoring* (Law 120/2025 Art 12) applies only to voluntary community rehab,
  methadone and post-rehab episodes decided under that law: the commune police chief's
  decision, the device, the period, and the device's faults.
- A *change of residence* moves the person to the receiving commune; the old commune notifies
  it within 24 hours and the person reports there within 24 hours (the deadlines are on the
  supervisors' screen, `deadlines.py`). The moments are kept with the dates when known (the
  move's time as typed, a notice's when it is marked on the deadlines list), so that these
  clocks count hours; rows with dates only count whole days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import local_moment, today_vn
from app.services.errors import NotFound, ValidationFailed
from app.services.law import rules
from app.services.law.dto import (
    DeterminationCreate,
    DeterminationRead,
    FaultCreate,
    MonitoringCreate,
    MonitoringRead,
    ResidenceChangeCreate,
    ResidenceChangeRead,
)
from app.services.law.episodes import LIVE, episode_for, transition
from app.services.policy import Action, authorize, authorize_client, authorize_grant
from app.services.policy import PlaceTarget as _PlaceTarget
from app.services.text import clean
from models import (
    AddictionDetermination,
    ElectronicMonitoring,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    MonitoringFault,
    Organisation,
    Place,
    PlaceKind,
    ResidenceChange,
    utcnow,
)

EARLIEST = date(2000, 1, 1)
MONITORED_TYPES = frozenset({EpisodeType.VOLUNTARY_COMMUNITY, EpisodeType.MMT,
                             EpisodeType.POST_REHAB})


def _date_ok(day: date | None) -> bool:
    return day is None or EARLIEST <= day <= today_vn()


# ---- addiction determination ---------------------------------------------------------------


def _determination_read(session: Session, row: AddictionDetermination,
                        ended: int | None = None) -> DeterminationRead:
    assert row.id is not None
    clock = rules.clock_for(session, "determination_valid", row.determined_on)
    valid = rules.due_date(session, clock, row.determined_on) if clock else None
    return DeterminationRead(id=row.id, client_id=row.client_id,
                             determined_on=row.determined_on, dependent=row.dependent,
                             facility_name=row.facility_name, valid_until=valid,
                             ended_episode_id=ended)


def record_determination(
    *, session: Session, actor: Actor | None, client_id: int, data: DeterminationCreate
) -> DeterminationRead:
    """Record a determination; one of dependence ends the illegal-use management that runs."""
    me, _client, _t = authorize_client(session, actor, Action.LAW_RECORD, client_id)
    errors: dict[str, str] = {}
    if not _date_ok(data.determined_on):
        errors["determined_on"] = "error.date_range"
    name = clean(data.facility_name)
    if data.facility_id is not None:
        org = session.get(Organisation, data.facility_id)
        if org is None:
            errors["facility_id"] = "error.invalid_facility"
        else:
            name = org.name
    if not name:
        errors["facility_name"] = "error.facility_required"
    if len(name) > 200:
        errors["facility_name"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    row = AddictionDetermination(client_id=client_id, facility_id=data.facility_id,
                                 facility_name=name, determined_on=data.determined_on,
                                 dependent=data.dependent, recorded_by_id=me.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="determination",
                 target_id=row.id, detail=f"client={client_id}")
    ended: int | None = None
    if data.dependent:
        running = session.exec(select(Episode).where(
            col(Episode.client_id) == client_id,
            col(Episode.episode_type) == EpisodeType.ILLEGAL_USE,
            col(Episode.status).in_(LIVE),
        )).first()
        if running is not None and running.start_date <= data.determined_on:
            transition(session, running, running.version, status=EpisodeStatus.CLOSED,
                        end_reason=EndReason.DEPENDENT, actual_end=data.determined_on)
            audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="episode",
                         target_id=running.id, detail="ended: dependence determined")
            ended = running.id
    return _determination_read(session, row, ended)


def determinations(*, session: Session, actor: Actor | None,
                   client_id: int) -> list[DeterminationRead]:
    authorize_client(session, actor, Action.LAW_RECORD, client_id)
    rows = session.exec(select(AddictionDetermination).where(
        col(AddictionDetermination.client_id) == client_id,
    ).order_by(col(AddictionDetermination.determined_on).desc())).all()
    return [_determination_read(session, r) for r in rows]


# ---- electronic monitoring -------------------------------------------------------------------


def _monitoring_read(session: Session, row: ElectronicMonitoring,
                     episode: Episode) -> MonitoringRead:
    assert row.id is not None
    faults = session.exec(select(func.count()).select_from(MonitoringFault).where(
        col(MonitoringFault.monitoring_id) == row.id)).one()
    return MonitoringRead(id=row.id, episode_id=row.episode_id,
                          episode_type=EpisodeType(episode.episode_type),
                          decision_number=row.decision_number, decision_date=row.decision_date,
                          device=row.device, start_on=row.start_on, end_on=row.end_on,
                          faults=int(faults))


def start_monitoring(
    *, session: Session, actor: Actor | None, data: MonitoringCreate
) -> MonitoringRead:
    """Record a decision to monitor a person electronically during an episode."""
    me, episode = episode_for(session, actor, Action.LAW_RECORD, data.episode_id)
    errors: dict[str, str] = {}
    if episode.episode_type not in MONITORED_TYPES or episode.status not in LIVE:
        errors["episode_id"] = "error.monitoring_episode"
    if data.decision_date < rules.LAW_2025_FROM or not _date_ok(data.decision_date):
        errors["decision_date"] = "error.monitoring_date"
    if not (episode.start_date <= data.start_on and
            (data.end_on is None or data.end_on > data.start_on)):
        errors["start_on"] = "error.date_order"
    number, device = clean(data.decision_number), clean(data.device)
    signer = clean(data.decision_signer)
    if not number:
        errors["decision_number"] = "error.decision_required"
    if not device:
        errors["device"] = "error.device_required"
    if len(number) > 60 or len(device) > 80 or len(signer) > 120:
        errors["device"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    row = ElectronicMonitoring(episode_id=data.episode_id, decision_number=number,
                               decision_date=data.decision_date, decision_signer=signer,
                               device=device, start_on=data.start_on, end_on=data.end_on,
                               recorded_by_id=me.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="monitoring",
                 target_id=row.id, detail=f"episode={episode.id}")
    return _monitoring_read(session, row, episode)


def record_fault(
    *, session: Session, actor: Actor | None, monitoring_id: int, data: FaultCreate
) -> MonitoringRead:
    """A monitoring device failed (lost signal, removed, broken): when and what."""
    me = authorize_grant(session, actor, Action.LAW_RECORD)
    row = session.get(ElectronicMonitoring, monitoring_id)
    if row is None:
        raise NotFound()
    me, episode = episode_for(session, me, Action.LAW_RECORD, row.episode_id)
    text = clean(data.description)
    if not text or len(text) > 200:
        raise ValidationFailed({"description": "error.required" if not text
                                else "error.too_long"})
    if not _date_ok(data.occurred_on) or data.occurred_on < row.start_on:
        raise ValidationFailed({"occurred_on": "error.date_range"})
    session.add(MonitoringFault(monitoring_id=monitoring_id, occurred_on=data.occurred_on,
                                description=text, recorded_by_id=me.user_id))
    session.flush()
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="monitoring",
                 target_id=monitoring_id, detail="fault")
    return _monitoring_read(session, row, episode)


def monitorings(*, session: Session, actor: Actor | None,
                client_id: int) -> list[MonitoringRead]:
    authorize_client(session, actor, Action.LAW_RECORD, client_id)
    found = session.exec(
        select(ElectronicMonitoring, Episode)
        .join(Episode, col(Episode.id) == col(ElectronicMonitoring.episode_id))
        .where(col(Episode.client_id) == client_id)
        .order_by(col(ElectronicMonitoring.start_on).desc())
    ).all()
    return [_monitoring_read(session, m, e) for m, e in found]


# ---- change of residence ---------------------------------------------------------------------


def _residence_read(session: Session, row: ResidenceChange) -> ResidenceChangeRead:
    assert row.id is not None
    place = session.get(Place, row.to_commune_id)
    return ResidenceChangeRead(
        id=row.id, client_id=row.client_id, from_commune_id=row.from_commune_id,
        to_commune_id=row.to_commune_id, to_commune_name=place.name if place else "",
        moved_on=row.moved_on, notice_sent_on=row.notice_sent_on,
        notice_received_on=row.notice_received_on, reported_on=row.reported_on,
        moved_at=row.moved_at, notice_sent_at=row.notice_sent_at,
    )


def record_move(
    *, session: Session, actor: Actor | None, client_id: int, data: ResidenceChangeCreate
) -> ResidenceChangeRead:
    """A person under management moves to another commune: recorded by the old commune, who
    must notify the new one within 24 hours; the person's commune becomes the new one."""
    me, client, _t = authorize_client(session, actor, Action.LAW_RECORD, client_id)
    errors: dict[str, str] = {}
    to = session.get(Place, data.to_commune_id)
    if to is None or to.kind != PlaceKind.COMMUNE or to.id == client.commune_id:
        errors["to_commune_id"] = "error.invalid_commune"
    if not _date_ok(data.moved_on):
        errors["moved_on"] = "error.date_range"
    if data.notice_sent_on is not None and not (
        _date_ok(data.notice_sent_on) and data.notice_sent_on >= data.moved_on
    ):
        errors["notice_sent_on"] = "error.date_range"
    moved_at = local_moment(data.moved_on, data.moved_time)
    sent_at = local_moment(data.notice_sent_on, data.notice_sent_time) \
        if data.notice_sent_on is not None else None
    soon = utcnow() + timedelta(minutes=5)
    if moved_at is not None and moved_at > soon:
        errors["moved_time"] = "error.date_range"
    if data.notice_sent_time is not None and data.notice_sent_on is None:
        errors["notice_sent_on"] = "error.required"
    if sent_at is not None and (sent_at > soon or (moved_at is not None and sent_at < moved_at)):
        errors["notice_sent_time"] = "error.date_range"
    if errors:
        raise ValidationFailed(errors)
    row = ResidenceChange(client_id=client_id, from_commune_id=client.commune_id,
                          to_commune_id=data.to_commune_id, moved_on=data.moved_on,
                          notice_sent_on=data.notice_sent_on, moved_at=moved_at,
                          notice_sent_at=sent_at, recorded_by_id=me.user_id)
    session.add(row)
    client.commune_id = data.to_commune_id
    client.version += 1
    session.add(client)
    session.flush()
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="client",
                 target_id=client_id, detail=f"moved to place={data.to_commune_id}")
    return _residence_read(session, row)


def record_move_notice(
    *, session: Session, actor: Actor | None, change_id: int, which: str, on: date,
    at: datetime | None = None,
) -> ResidenceChangeRead:
    """The 24-hour notices of a move: "sent" by the old commune, "received" by the new one,
    "reported" when the person reported at the new address; `at`, the moment, when known."""
    me = authorize_grant(session, actor, Action.LAW_RECORD)
    row = session.get(ResidenceChange, change_id)
    if row is None:
        raise NotFound()
    field = {"sent": "notice_sent_on", "received": "notice_received_on",
             "reported": "reported_on"}.get(which)
    if field is None:
        raise ValidationFailed({"which": "error.invalid_choice"})
    # The old commune records its notice; the receiving commune the rest.
    place = row.from_commune_id if which == "sent" else row.to_commune_id
    authorize(session, me, Action.CLIENT_UPDATE, _PlaceTarget(place))
    if not _date_ok(on) or on < row.moved_on:
        raise ValidationFailed({"on": "error.date_range"})
    setattr(row, field, on)
    if at is not None:
        setattr(row, field.removesuffix("_on") + "_at", at)
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="residencechange",
                 target_id=row.id, detail=which)
    return _residence_read(session, row)


# ---- a provider's notices ----------------------------------------------------------------


def record_provider_notice(
    *, session: Session, actor: Actor | None, episode_id: int, which: str, on: date
) -> None:
    """The commune received the provider's notice that a person started ("start") or ended
    ("end") a voluntary community rehab (Decree 116/2021 Art 32)."""
    me, episode = episode_for(session, actor, Action.LAW_RECORD, episode_id)
    field = {"start": "start_notice_on", "end": "end_notice_on"}.get(which)
    if field is None:
        raise ValidationFailed({"which": "error.invalid_choice"})
    if not _date_ok(on) or on < episode.start_date:
        raise ValidationFailed({"on": "error.date_range"})
    transition(session, episode, episode.version, **{field: on})
    audit.record(session, actor=me, action=Action.LAW_RECORD, target_type="episode",
                 target_id=episode_id, detail=f"provider notice {which}")

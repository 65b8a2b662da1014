"""Input and output models of the law's services (episodes' decisions, records, deadlines)."""

from __future__ import annotations

from datetime import date, datetime, time

from app.services.dto import _In, _Out
from models import EpisodeType


class EpisodeReductionCreate(_In):
    months: int
    decision_number: str
    decision_date: date
    decision_authority: str = ""
    decision_signer: str = ""


class TermChange(_Out):
    """An open episode whose expected end the rules in force would now set otherwise."""

    episode_id: int
    client_id: int
    client_name: str
    commune_name: str
    episode_type: EpisodeType
    decision_date: date | None
    start_date: date
    current_end: date | None
    new_end: date | None
    version: int


class RuleImpact(_Out):
    """An open episode a rule change would give another end (no client name: admins)."""

    episode_id: int
    episode_type: EpisodeType
    commune_name: str
    decision_date: date | None
    start_date: date
    current_end: date | None
    new_end: date | None


class PostRehabProposal(_Out):
    """A completed rehab or methadone episode that calls for a post-rehab decision."""

    previous_episode_id: int
    previous_type: EpisodeType
    client_id: int
    client_name: str
    start_date: date  # the end of the previous episode
    months: int
    expected_end: date | None
    rule_id: int
    legal_basis: str
    needs_review: bool


class DeadlineItem(_Out):
    """Something the law gives a deadline for, due on a date (overdue when days_left < 0).

    kind: management_decision, transfer_notice, arrival_report, provider_notice_start,
    provider_notice_end, post_rehab_decision, episode_ending."""

    kind: str
    client_id: int
    client_name: str
    due: date
    days_left: int
    ref_id: int  # the drug test, residence change or episode it concerns
    episode_type: EpisodeType | None = None
    months: int | None = None
    # A clock counted in hours from a recorded time: when it runs out, and the whole hours
    # left (negative: overdue), rounded up. None when only dates are known.
    due_at: datetime | None = None
    hours_left: int | None = None


class DeterminationCreate(_In):
    determined_on: date
    dependent: bool
    facility_id: int | None = None
    facility_name: str = ""


class DeterminationRead(_Out):
    id: int
    client_id: int
    determined_on: date
    dependent: bool
    facility_name: str
    valid_until: date | None  # for a voluntary registration
    ended_episode_id: int | None = None  # the illegal-use management it ended


class MonitoringCreate(_In):
    episode_id: int
    decision_number: str
    decision_date: date
    decision_signer: str = ""
    device: str
    start_on: date
    end_on: date | None = None


class MonitoringRead(_Out):
    id: int
    episode_id: int
    episode_type: EpisodeType
    decision_number: str
    decision_date: date
    device: str
    start_on: date
    end_on: date | None
    faults: int


class FaultCreate(_In):
    occurred_on: date
    description: str


class ResidenceChangeCreate(_In):
    to_commune_id: int
    moved_on: date
    notice_sent_on: date | None = None
    # Local times when known: the 24-hour notices count from the move (LAW.md L3).
    moved_time: time | None = None
    notice_sent_time: time | None = None


class ResidenceChangeRead(_Out):
    id: int
    client_id: int
    from_commune_id: int
    to_commune_id: int
    to_commune_name: str
    moved_on: date
    notice_sent_on: date | None
    notice_received_on: date | None
    reported_on: date | None
    moved_at: datetime | None = None
    notice_sent_at: datetime | None = None

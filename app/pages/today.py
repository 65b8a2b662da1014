"""Today: a volunteer's follow-ups — overdue, due today, open referrals, not visited lately."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import reflex as rx

from app.components.client_cards import (
    action_link,
    bilingual,
    count_card,
    dmy,
    due_row,
    empty_note,
    loading_note,
    row_list,
    section_heading,
)
from app.components.frame import app_frame, greeting
from app.services import activities
from app.services.activities import DueKind
from app.services.calendar import today_vn
from app.services.dto import DueItem
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

STALE_DAYS = 30  # "not visited in N days"
ENDING_WITHIN_DAYS = 30

Row = dict[str, str]


def _when(item: DueItem, today: date) -> dict[str, str]:
    """What the row says about the date, in both languages."""
    due = item.due_on
    if item.kind == DueKind.NOT_VISITED:
        if due is None:
            return bilingual("when", "vol.today.never_visited")
        return bilingual("when", "vol.today.last_visit", date=dmy(due - timedelta(days=STALE_DAYS)))
    if due is None:
        return bilingual("when", None)
    # A date always says what it is: a referral's expiry, an episode's end, an appointment.
    what = _DATE_KEYS.get(item.kind, "vol.today")
    if item.days_overdue > 0:
        return bilingual("when", f"{what}.overdue_by", days=item.days_overdue, date=dmy(due))
    if due == today:
        return bilingual("when", f"{what}.due_today")
    return bilingual("when", f"{what}.due_on", date=dmy(due), days=(due - today).days)


_DATE_KEYS = {DueKind.REFERRAL_OPEN: "vol.today.referral",
              DueKind.EPISODE_ENDING: "vol.today.episode",
              DueKind.EPISODE_OVERDUE: "vol.today.episode"}


def _section(item: DueItem, today: date) -> str:
    if item.kind == DueKind.NOT_VISITED:
        return "not_visited"
    if item.due_on == today:
        return "today"
    if item.kind in (DueKind.APPOINTMENT, DueKind.EPISODE_OVERDUE) and item.days_overdue > 0:
        return "overdue"
    if item.kind == DueKind.REFERRAL_OPEN:
        return "referrals"
    return "upcoming"


_TONES = {"overdue": "red", "today": "amber", "referrals": "blue", "not_visited": "gray",
          "upcoming": "teal"}


def due_rows(items: list[DueItem], today: date) -> dict[str, list[Row]]:
    """The due list split into the screen's sections, each row ready to draw."""
    sections: dict[str, list[Row]] = {name: [] for name in _TONES}
    for item in items:
        section = _section(item, today)
        row: Row = {
            "client_name": item.client_name,
            "who": f"{item.birth_year} · {item.commune_name}",
            "href": f"/clients/{item.client_id}",
            "row_id": f"due-{item.kind}-{item.client_id}-{item.record_id or 0}",
            "tone": "red" if item.days_overdue > 0 else _TONES[section],
            **bilingual("label", f"due.{item.kind}"),
            **_when(item, today),
        }
        sections[section].append(row)
    return sections


class TodayState(AppState):
    overdue_rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    today_rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    referral_rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    not_visited_rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    upcoming_rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    open_referrals: rx.Field[int] = rx.field(0)
    load_error: rx.Field[str] = rx.field("")
    loaded: rx.Field[bool] = rx.field(False)

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> Any:
        """on_load: the actor's due list, computed by the service for today in Vietnam."""
        today = today_vn()
        outcome = await self._run(lambda db, actor: activities.due_followups(
            session=db, actor=actor, today=today, stale_days=STALE_DAYS,
            ending_within_days=ENDING_WITHIN_DAYS,
        ))
        self.loaded = True
        self.load_error = outcome.error
        sections = due_rows(outcome.value or [], today)
        self.overdue_rows = sections["overdue"]
        self.today_rows = sections["today"]
        self.referral_rows = sections["referrals"]
        self.not_visited_rows = sections["not_visited"]
        self.upcoming_rows = sections["upcoming"]
        self.open_referrals = sum(
            1 for item in outcome.value or [] if item.kind == DueKind.REFERRAL_OPEN
        )
        return None


def _section_block(key: str, anchor: str, rows: Any, empty_key: str) -> rx.Component:
    return rx.box(
        section_heading(key, anchor=anchor),
        rx.cond(
            rows.length() > 0,
            row_list(rows, due_row, list_id=f"{anchor}-list", label_key=key),
            empty_note(empty_key),
        ),
    )


def today_page() -> rx.Component:
    s = TodayState
    return app_frame(
        "nav.today",
        greeting(),
        rx.cond(
            s.load_error != "",
            rx.callout(s.load_error, icon="triangle-alert", color_scheme="red", role="alert",
                       margin_top="12px"),
        ),
        rx.grid(
            count_card("vol.today.count_overdue", s.overdue_rows.length(), href="#overdue",
                       tone="red", card_id="count-overdue"),
            count_card("vol.today.count_today", s.today_rows.length(), href="#due-today",
                       tone="amber", card_id="count-today"),
            count_card("vol.today.count_referrals", s.open_referrals, href="#referrals",
                       tone="blue", card_id="count-referrals"),
            count_card("vol.today.count_not_visited", s.not_visited_rows.length(),
                       href="#not-visited", tone="gray", card_id="count-not-visited"),
            columns="2",
            gap="12px",
            margin_top="16px",
            aria_label=tr("vol.today.at_a_glance"),
            role="group",
        ),
        rx.grid(
            action_link("vol.action.register", "/clients/new", "user-plus", link_id="go-register"),
            action_link("vol.action.outreach", "/outreach", "megaphone", link_id="go-outreach"),
            columns="2",
            gap="12px",
            margin_top="12px",
        ),
        rx.cond(
            s.loaded,
            rx.fragment(
                _section_block("vol.today.section_overdue", "overdue", s.overdue_rows,
                               "vol.today.none_overdue"),
                _section_block("vol.today.section_today", "due-today", s.today_rows,
                               "vol.today.none_today"),
                _section_block("vol.today.section_referrals", "referrals", s.referral_rows,
                               "vol.today.none_referrals"),
                _section_block("vol.today.section_not_visited", "not-visited",
                               s.not_visited_rows, "vol.today.none_not_visited"),
                rx.cond(
                    s.upcoming_rows.length() > 0,
                    _section_block("vol.today.section_upcoming", "upcoming", s.upcoming_rows,
                                   "vol.today.none_upcoming"),
                ),
            ),
            loading_note(),
        ),
    )

"""The law's deadlines on the supervisor's home (/caseload): decisions due after a positive
test, the 24-hour notices of a move, providers' notices, post-rehab decisions to make, and
episodes ending within 30 days. A proposed post-rehab episode is accepted here, or dismissed
with a reason; a notice is marked received here (with the moment: the 24-hour clocks count
hours). Successes are the shared saved notice; the dismissal's reason is checked in the page.
Every list and decision comes from `app/services/law`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import (
    bi,
    bilingual,
    disclosure,
    dmy,
    empty_note,
    section_heading,
)
from app.components.forms import focus_first_problem, labelled
from app.components.panels import form_column
from app.pages.register import form_text
from app.services import law
from app.services.calendar import LOCAL_TZ, today_vn
from app.services.law.dto import DeadlineItem
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role, utcnow

Row = dict[str, str]
# Which deadlines a supervisor closes from this list, and how.
_NOTICES = {"transfer_notice": "sent", "notice_received": "received",
            "arrival_report": "reported"}
_PROVIDER = {"provider_notice_start": "start", "provider_notice_end": "end"}
MAX_ROWS = 200


def deadline_row(item: DeadlineItem) -> Row:
    left = item.days_left
    hours = item.hours_left
    if hours is not None:  # a clock in hours from a recorded time (LAW.md L3)
        when = bilingual("when", "law.deadline.overdue_hours" if hours < 0
                         else "law.deadline.in_hours", hours=abs(hours))
        tone = "red" if hours < 0 else "amber"
    elif left < 0:
        when = bilingual("when", "law.deadline.overdue", days=-left)
        tone = "red"
    elif left == 0:
        when, tone = bilingual("when", "law.deadline.today"), "amber"
    else:
        when = bilingual("when", "law.deadline.in_days", days=left)
        tone = "amber" if left <= 3 else "teal"
    detail: Row = bilingual("detail", None)
    if item.kind == "post_rehab_decision" and item.months is not None:
        detail = bilingual("detail", "law.deadline.post_rehab_term", months=item.months)
    elif item.episode_type is not None:
        detail = bilingual("detail", f"report.episode_type.{item.episode_type.value}")
    action = ("accept" if item.kind == "post_rehab_decision"
              else "done" if item.kind in _NOTICES or item.kind in _PROVIDER else "")
    return {
        "id": f"{item.kind}-{item.ref_id}", "kind": item.kind, "ref": str(item.ref_id),
        "client": item.client_name, "href": f"/clients/{item.client_id}",
        "due": dmy(item.due) + (f" {item.due_at.astimezone(LOCAL_TZ):%H:%M}"
                                if item.due_at is not None else ""),
        "tone": tone, "action": action,
        **bilingual("label", f"law.deadline.{item.kind}"), **when, **detail,
    }


class DeadlinesState(AppState):
    deadlines: list[Row] = []
    deadlines_loaded: bool = False
    deadline_error: str = ""
    # The dismissal form with a problem (its previous episode's id) and the problem.
    dismiss_ref: str = ""
    dismiss_error: str = ""
    # (kind, ref) of the rows on screen: an action on anything else is refused unsent.
    _shown: set[tuple[str, int]] = set()

    async def _fetch(self) -> None:
        today = today_vn()
        outcome = await self._run(lambda db, actor: law.supervisor_deadlines(
            session=db, actor=actor, today=today))
        self.deadlines_loaded = True
        if outcome.value is None:
            self.deadline_error = outcome.error
            self.deadlines, self._shown = [], set()
            return
        items = outcome.value[:MAX_ROWS]
        self._shown = {(i.kind, i.ref_id) for i in items}
        self.deadlines = [deadline_row(i) for i in items]

    def _ref(self, kind: Any, ref: Any) -> int | None:
        text = str(ref)
        ref_id = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
        return ref_id if (str(kind), ref_id) in self._shown else None

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        """On mount of the caseload screen and the refresh button."""
        self.deadline_error = self.dismiss_ref = self.dismiss_error = ""
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def accept_post_rehab(self, ref: str) -> Any:
        """Open the proposed post-rehab episode (its term from the previous episode and age)."""
        self.deadline_error = self.dismiss_ref = self.dismiss_error = ""
        previous = self._ref("post_rehab_decision", ref)
        if previous is None:
            self.deadline_error = await self._text("error.not_found")
            return None
        outcome = await self._run(lambda db, actor: law.accept_post_rehab(
            session=db, actor=actor, previous_episode_id=previous))
        await self._fetch()
        if outcome.value is None:
            self.deadline_error = next(iter(outcome.fields.values()), outcome.error)
            return None
        return await self._confirm_saved("law.deadline.accepted")

    @guarded(Role.SUPERVISOR)
    async def dismiss_post_rehab(self, form_data: dict[str, Any]) -> Any:
        """No post-rehab episode follows this one: the reason is kept (audited)."""
        self.deadline_error = self.dismiss_ref = self.dismiss_error = ""
        ref = form_text(form_data, "ref", 10)
        previous = self._ref("post_rehab_decision", ref)
        if previous is None:
            self.deadline_error = await self._text("error.not_found")
            return None
        reason = form_text(form_data, "reason", 400)
        outcome = await self._run(lambda db, actor: law.dismiss_post_rehab(
            session=db, actor=actor, previous_episode_id=previous, reason=reason))
        if outcome.value is None:
            self.dismiss_ref = str(previous)
            self.dismiss_error = outcome.fields.get("reason") or next(
                iter(outcome.fields.values()), outcome.error)
            return focus_first_problem(f"dismiss-form-{previous}")
        await self._fetch()
        return await self._confirm_saved("law.deadline.dismissed")

    @guarded(Role.SUPERVISOR)
    async def mark_done(self, kind: str, ref: str) -> Any:
        """A notice was sent or received now (the 24-hour and 5-working-day clocks): its
        date, and for a move's notices the moment, are recorded."""
        self.deadline_error = self.dismiss_ref = self.dismiss_error = ""
        ref_id = self._ref(kind, ref)
        if ref_id is None or (kind not in _NOTICES and kind not in _PROVIDER):
            self.deadline_error = await self._text("error.not_found")
            return None
        today = today_vn()

        def call(db: Any, actor: Any) -> Any:
            if kind in _NOTICES:
                return law.record_move_notice(session=db, actor=actor, change_id=ref_id,
                                              which=_NOTICES[kind], on=today, at=utcnow())
            law.record_provider_notice(session=db, actor=actor, episode_id=ref_id,
                                       which=_PROVIDER[kind], on=today)
            return True

        outcome = await self._run(call)
        await self._fetch()
        if outcome.value is None:
            self.deadline_error = next(iter(outcome.fields.values()), outcome.error)
            return None
        return await self._confirm_saved("law.deadline.recorded")


def action_error(error: rx.Var, prefix: str) -> rx.Component:
    """What went wrong with an action that is not a form (a button on a list), announced.
    A success is the shared saved notice (`AppState._confirm_saved`)."""
    return rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red",
                                           high_contrast=True, role="alert",
                                           id=f"{prefix}-error"))


def _dismiss_form(row: Any) -> rx.Component:
    """No post-rehab management for this one: the reason, answered in the page."""
    s = DeadlinesState
    ref = row["ref"]
    mine = s.dismiss_ref == ref
    error = rx.cond(mine, s.dismiss_error, "")
    return disclosure(
        "law.deadline.dismiss",
        form_column(
            rx.el.input(type="hidden", name="ref", value=ref),
            labelled("law.deadline.dismiss_reason", rx.input(
                id="reason-" + ref, name="reason", max_length=200, size="3", width="100%",
                aria_invalid=rx.cond(mine & (s.dismiss_error != ""), "true", "false"),
                aria_describedby="reason-" + ref + "-error",
                custom_attrs={"data-reason": ref}),
                field_id="reason-" + ref, error=error),
            rx.button(tr("law.deadline.dismiss_confirm"), type="submit", size="3",
                      variant="soft", color_scheme="gray", id="dismiss-" + ref),
            spacing="2",
            on_submit=s.dismiss_post_rehab,
            form_id="dismiss-form-" + ref,
            padding_top="8px",
        ),
        summary_id="dismiss-toggle-" + ref, width="100%",
    )


def _deadline(row: Any) -> rx.Component:
    s = DeadlinesState
    return rx.flex(
        rx.flex(
            rx.flex(
                rx.badge(bi(row, "when"), color_scheme=row["tone"], high_contrast=True),
                rx.text(bi(row, "label"), weight="bold", size="2"),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.link(row["client"], href=row["href"], weight="medium", class_name="dh-target"),
            rx.text(bi(row, "detail"), " · ", tr("law.deadline.due"), " ", row["due"],
                    size="2", color="var(--gray-11)"),
            direction="column", spacing="1", flex="1", min_width="200px",
        ),
        rx.match(
            row["action"],
            ("accept", rx.flex(
                rx.button(tr("law.deadline.accept"), size="3", color_scheme="green",
                          on_click=s.accept_post_rehab(row["ref"]), id="accept-" + row["ref"]),
                _dismiss_form(row), direction="column", spacing="2", width="100%")),
            ("done", rx.button(tr("law.deadline.mark_done"), size="3", variant="soft",
                               on_click=s.mark_done(row["kind"], row["ref"]),
                               id="done-" + row["id"])),
            rx.fragment(),
        ),
        spacing="3", align="center", wrap="wrap", padding="12px",
        border_bottom="1px solid var(--gray-4)", id=row["id"],
    )


def deadlines_section() -> rx.Component:
    s = DeadlinesState
    return rx.box(
        section_heading("law.deadline.title", anchor="deadlines"),
        action_error(s.deadline_error, "deadline"),
        rx.cond(
            s.deadlines.length() > 0,
            rx.box(rx.foreach(s.deadlines, _deadline), border="1px solid var(--gray-5)",
                   border_radius="12px", id="deadlines"),
            rx.cond(s.deadlines_loaded, empty_note("law.deadline.none",
                                                   note_id="deadlines-none")),
        ),
        rx.link(tr("law.terms.link"), href="/caseload/terms", size="2", margin_top="8px",
                display="inline-block", min_height="44px", padding_y="12px",
                id="terms-link"),
        on_mount=s.load,
    )

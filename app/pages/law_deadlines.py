"""The law's deadlines on the supervisor's home (/caseload): decisions due after a positive
test, the 24-hour notices of a move, providers' notices, post-rehab decisions to make, and
episodes ending within 30 days. A proposed post-rehab episode is accepted here; a notice is
marked received here. Every list and decision comes from `app/services/law`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, section_heading
from app.services import law
from app.services.calendar import today_vn
from app.services.law.dto import DeadlineItem
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

Row = dict[str, str]
# Which deadlines a supervisor closes from this list, and how.
_NOTICES = {"transfer_notice": "sent", "notice_received": "received",
            "arrival_report": "reported"}
_PROVIDER = {"provider_notice_start": "start", "provider_notice_end": "end"}
MAX_ROWS = 200


def deadline_row(item: DeadlineItem) -> Row:
    left = item.days_left
    if left < 0:
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
        "due": dmy(item.due), "tone": tone, "action": action,
        **bilingual("label", f"law.deadline.{item.kind}"), **when, **detail,
    }


class DeadlinesState(AppState):
    deadlines: list[Row] = []
    deadlines_loaded: bool = False
    deadline_error: str = ""
    deadline_success: str = ""
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
        self.deadline_error = self.deadline_success = ""
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def accept_post_rehab(self, ref: str) -> Any:
        """Open the proposed post-rehab episode (its term from the previous episode and age)."""
        self.deadline_error = self.deadline_success = ""
        previous = self._ref("post_rehab_decision", ref)
        if previous is None:
            self.deadline_error = await self._text("error.not_found")
            return None
        outcome = await self._run(lambda db, actor: law.accept_post_rehab(
            session=db, actor=actor, previous_episode_id=previous))
        if outcome.value is None:
            self.deadline_error = next(iter(outcome.fields.values()), outcome.error)
        else:
            self.deadline_success = await self._text("law.deadline.accepted")
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def mark_done(self, kind: str, ref: str) -> Any:
        """A notice was sent or received today (the 24-hour and 5-working-day clocks)."""
        self.deadline_error = self.deadline_success = ""
        ref_id = self._ref(kind, ref)
        if ref_id is None or (kind not in _NOTICES and kind not in _PROVIDER):
            self.deadline_error = await self._text("error.not_found")
            return None
        today = today_vn()

        def call(db: Any, actor: Any) -> Any:
            if kind in _NOTICES:
                return law.record_move_notice(session=db, actor=actor, change_id=ref_id,
                                              which=_NOTICES[kind], on=today)
            law.record_provider_notice(session=db, actor=actor, episode_id=ref_id,
                                       which=_PROVIDER[kind], on=today)
            return True

        outcome = await self._run(call)
        if outcome.value is None:
            self.deadline_error = next(iter(outcome.fields.values()), outcome.error)
        else:
            self.deadline_success = await self._text("law.deadline.recorded")
        await self._fetch()
        return None


def outcome(error: rx.Var, success: rx.Var, prefix: str) -> rx.Component:
    """An action's outcome with ids of its own (`<prefix>-error`, `<prefix>-saved`)."""
    return rx.fragment(
        rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red",
                                        high_contrast=True, role="alert", id=f"{prefix}-error")),
        rx.cond(success != "", rx.callout(success, icon="circle-check", color_scheme="green",
                                          high_contrast=True, role="status",
                                          id=f"{prefix}-saved")),
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
            rx.link(row["client"], href=row["href"], weight="medium"),
            rx.text(bi(row, "detail"), " · ", tr("law.deadline.due"), " ", row["due"],
                    size="2", color="var(--gray-11)"),
            direction="column", spacing="1", flex="1", min_width="200px",
        ),
        rx.match(
            row["action"],
            ("accept", rx.button(tr("law.deadline.accept"), size="3", color_scheme="green",
                                 on_click=s.accept_post_rehab(row["ref"]),
                                 id="accept-" + row["ref"])),
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
        outcome(s.deadline_error, s.deadline_success, "deadline"),
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

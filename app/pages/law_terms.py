"""Terms to review (/caseload/terms): open episodes in the supervisor's places whose expected
end the rules in force would now set otherwise (episodes carried over from before Law
120/2025, or a rule an administrator changed). Nothing changes until the supervisor confirms
one, or all of them at once (`law.term_changes`, `law.confirm_terms`), or keeps one as it is
(`law.keep_terms`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, loading_note
from app.components.frame import app_frame
from app.pages.law_deadlines import action_error
from app.services import law
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

Row = dict[str, str]
MAX_ROWS = 500


class TermReviewState(AppState):
    rows: list[Row] = []
    loaded: bool = False
    error: str = ""
    # Episode id -> version as shown: a confirmation of a changed episode is a conflict.
    _versions: dict[int, int] = {}

    async def _fetch(self) -> None:
        got = await self._run(lambda db, actor: law.term_changes(session=db, actor=actor))
        self.loaded = True
        if got.value is None:
            self.error, self.rows, self._versions = got.error, [], {}
            return
        changes = got.value[:MAX_ROWS]
        self._versions = {c.episode_id: c.version for c in changes}
        self.rows = [
            {"id": str(c.episode_id), "client": c.client_name, "commune": c.commune_name,
             "href": f"/clients/{c.client_id}", "start": dmy(c.start_date),
             "decision": dmy(c.decision_date), "current": dmy(c.current_end) or "—",
             "new": dmy(c.new_end) or "—",
             **bilingual("type", f"report.episode_type.{c.episode_type.value}")}
            for c in changes
        ]

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        self.error = ""
        await self._fetch()
        return None

    async def _confirm(self, versions: dict[int, int], *, keep: bool = False) -> Any:
        self.error = ""
        if not versions:
            self.error = await self._text("error.not_found")
            return None
        service = law.keep_terms if keep else law.confirm_terms
        got = await self._run(lambda db, actor: service(session=db, actor=actor,
                                                        versions=versions))
        await self._fetch()
        if got.value is None:
            self.error = got.error
            return None
        return await self._confirm_saved("law.terms.kept" if keep else "law.terms.confirmed",
                                         count=got.value)

    @guarded(Role.SUPERVISOR)
    async def confirm_one(self, episode_id: str) -> Any:
        """Give one episode the end the rules now set."""
        text = str(episode_id)
        eid = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
        return await self._confirm({eid: self._versions[eid]} if eid in self._versions else {})

    @guarded(Role.SUPERVISOR)
    async def keep_one(self, episode_id: str) -> Any:
        """Keep one episode's end as it is (not proposed again for the same new end)."""
        text = str(episode_id)
        eid = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
        return await self._confirm({eid: self._versions[eid]} if eid in self._versions else {},
                                   keep=True)

    @guarded(Role.SUPERVISOR)
    async def confirm_all(self) -> Any:
        """Give every episode on screen the end the rules now set."""
        return await self._confirm(dict(self._versions))


def _row(r: Any) -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.link(r["client"], href=r["href"], weight="bold", class_name="dh-target"),
            rx.text(bi(r, "type"), " · ", r["commune"], size="2", color="var(--gray-11)"),
            rx.text(tr("law.terms.decided"), " ", r["decision"], " · ", tr("law.terms.start"),
                    " ", r["start"], size="2", color="var(--gray-11)"),
            rx.text(tr("law.terms.end"), " ", rx.el.s(r["current"]), " → ",
                    rx.el.strong(r["new"]), size="3"),
            direction="column", spacing="1", flex="1", min_width="200px",
        ),
        rx.flex(
            rx.button(tr("law.terms.confirm"), size="3",
                      on_click=TermReviewState.confirm_one(r["id"]), id="confirm-" + r["id"]),
            rx.button(tr("law.terms.keep"), size="3", variant="soft", color_scheme="gray",
                      on_click=TermReviewState.keep_one(r["id"]), id="keep-" + r["id"]),
            spacing="2", wrap="wrap"),
        spacing="3", align="center", wrap="wrap", padding="12px",
        border_bottom="1px solid var(--gray-4)", id="term-" + r["id"],
    )


def terms_page() -> rx.Component:
    s = TermReviewState
    return app_frame(
        "law.terms.title",
        rx.flex(
            rx.text(tr("law.terms.explain"), size="2", color="var(--gray-11)"),
            action_error(s.error, "terms"),
            rx.cond(
                s.rows.length() > 0,
                rx.fragment(
                    rx.button(tr("law.terms.confirm_all"), " (", s.rows.length(), ")",
                              on_click=s.confirm_all, size="3", color_scheme="green",
                              id="confirm-all"),
                    rx.box(rx.foreach(s.rows, _row), border="1px solid var(--gray-5)",
                           border_radius="12px", id="terms"),
                ),
                rx.cond(s.loaded, empty_note("law.terms.none", note_id="terms-none"),
                        loading_note()),
            ),
            direction="column", spacing="3",
        ),
    )

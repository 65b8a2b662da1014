"""Refused records (supervisor): what volunteers' devices sent that the server could not
accept — client reassigned, case closed, a rule — kept whole by `app/services/outbox/review.py`.
The supervisor reads each one and applies it (to the right client if need be) or dismisses it
with a reason. Phone first; everything it shows is in the supervisor's scope."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import reflex as rx

from app.components.client_cards import empty_note, loading_note
from app.components.forms import form_message
from app.components.frame import app_frame
from app.i18n import t
from app.services import clients, outbox
from app.services.dto import ClientFilters
from app.services.outbox.sync import MAX_ID
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

Row = dict[str, str]
_VN = timedelta(hours=7)


def _when(moment: datetime | None) -> str:
    """A server time as the supervisor reads it: Vietnam time, day first."""
    return (moment + _VN).strftime("%H:%M %d/%m/%Y") if moment is not None else ""


# Choice values shown with the online forms' labels: (record kind or "*", field) -> key prefix.
_CHOICES: dict[tuple[str, str], str] = {
    ("visit", "kind"): "rec.visit.kind", ("visit", "content"): "rec.visit.content",
    ("visit", "risk_flags"): "rec.visit.risk", ("drug_test", "result"): "rec.test.result",
    ("drug_test", "sample"): "rec.test.sample", ("drug_test", "method"): "rec.test.method",
    ("drug_test", "substances"): "rec.test.substance", ("group_activity", "kind"): "rec.group.kind",
    ("support", "kind"): "rec.support.kind", ("support", "status"): "rec.support.status",
    ("referral", "service"): "rec.service", ("outreach_contact", "category"): "rec.contact",
    ("client", "sex"): "vol.sex",
}
# Reasons worded for the supervisor (the volunteer's wording says "you").
_FOR_SUPERVISOR = {
    "outbox.reason.client_unavailable": "outbox.sup.client_unavailable",
    "outbox.reason.not_allowed": "outbox.sup.not_allowed",
}


def _label(prefix: str, raw: str, lang: str) -> str:
    key = f"{prefix}.{raw}"
    text = t(key, lang)
    return raw if text == key else text


def _value(kind: str, name: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" == value[7:8]:
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"  # an ISO date, day first
    prefix = _CHOICES.get((kind, name))
    if prefix is not None and isinstance(value, str):
        return ", ".join(_label(prefix, part.strip(), lang) for part in value.split(",")
                         if part.strip())
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _id(raw: Any) -> int | None:
    text = str(raw).strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


class ReviewState(AppState):
    rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    loaded: rx.Field[bool] = rx.field(False)
    # The record open on screen (0: the list).
    open_id: rx.Field[int] = rx.field(0)
    detail: rx.Field[Row] = rx.field(default_factory=dict)
    detail_fields: rx.Field[list[Row]] = rx.field(default_factory=list)
    matches: rx.Field[list[Row]] = rx.field(default_factory=list)
    searched: rx.Field[bool] = rx.field(False)
    chosen_id: rx.Field[int] = rx.field(0)
    chosen_name: rx.Field[str] = rx.field("")
    waiting: rx.Field[int] = rx.field(0)  # kept records in scope, for the caseload's notice
    error: rx.Field[str] = rx.field("")
    success: rx.Field[str] = rx.field("")
    fields: rx.Field[dict[str, str]] = rx.field(default_factory=dict)

    async def _row(self, item: outbox.ReviewItem) -> Row:
        lang = await self._lang()
        return {
            "id": str(item.review_id),
            "kind": t(f"outbox.kind.{item.kind}", lang),
            "author": t("outbox.review.by", lang, name=item.author_name),
            "received": t("outbox.review.received", lang, time=_when(item.received_at)),
            "saved": t("outbox.review.saved", lang, time=_when(item.saved_at))
            if item.saved_at else "",
            "reason": t(_FOR_SUPERVISOR.get(item.reason, item.reason), lang, **item.params),
            "commune": item.commune_name,
            "client": item.client_name,
            "is_registration": "1" if item.kind == "client" else "",
        }

    async def _list(self) -> None:
        outcome = await self._run(lambda db, actor: outbox.review_items(session=db, actor=actor))
        self.loaded = True
        self.rows = [await self._row(item) for item in outcome.value or []]
        if outcome.error:
            self.error = outcome.error

    def _clear_choice(self) -> None:
        self.matches, self.searched = [], False
        self.chosen_id, self.chosen_name = 0, ""
        self.fields = {}

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        self.error = self.success = ""
        self.open_id = 0
        self._clear_choice()
        await self._list()
        return None

    @guarded(Role.SUPERVISOR)
    async def load_count(self) -> Any:
        """on_load of the supervisor's home: how many refused records wait for them."""
        outcome = await self._run(lambda db, actor: outbox.kept_count(session=db, actor=actor))
        self.waiting = outcome.value or 0
        return None

    @guarded(Role.SUPERVISOR)
    async def open_item(self, review_id: str) -> Any:
        self.error = self.success = ""
        self._clear_choice()
        found = _id(review_id)
        if found is None:
            return None
        outcome = await self._run(lambda db, actor: outbox.review_item(
            session=db, actor=actor, review_id=found))
        if outcome.value is None:
            self.error = outcome.error
            return None
        item = outcome.value
        lang = await self._lang()
        self.open_id = item.review_id
        self.detail = await self._row(item)
        messages = {name: t(key, lang, **item.params) for name, key in item.fields.items()}
        self.detail_fields = [
            {"name": name, "label": t(f"outbox.field.{name}", lang),
             "value": item.client_name if name == "client_id" and item.client_name
             else _value(item.kind, name, value, lang),
             "problem": messages.get(name, "")}
            for name, value in item.payload.items()
        ]
        return None

    @guarded(Role.SUPERVISOR)
    async def close_item(self) -> Any:
        return await self._back("")

    async def _back(self, success_key: str) -> Any:
        self.open_id = 0
        self.detail, self.detail_fields = {}, []
        self._clear_choice()
        await self._list()
        self.success = await self._text(success_key) if success_key else ""
        return None

    @guarded(Role.SUPERVISOR)
    async def search(self, form_data: dict[str, Any]) -> Any:
        query = str(form_data.get("query", ""))[:120]
        outcome = await self._run(lambda db, actor: clients.search_clients(
            session=db, actor=actor, query=query, filters=ClientFilters(), page_size=10))
        self.searched = True
        self.error = outcome.error
        self.matches = [
            {"id": str(c.id), "name": c.full_name, "birth_year": str(c.birth_year)}
            for c in (outcome.value.items if outcome.value else [])
        ]
        return None

    @guarded(Role.SUPERVISOR)
    async def choose(self, client_id: str) -> Any:
        found = _id(client_id)
        match = next((m for m in self.matches if m["id"] == str(found)), None)
        if found is None or match is None:
            return None
        self.chosen_id, self.chosen_name = found, match["name"]
        return None

    @guarded(Role.SUPERVISOR)
    async def apply(self) -> Any:
        """Apply the open record: to the chosen client if one was chosen, else as it is (a
        registration: as a new person)."""
        review_id, chosen = self.open_id, self.chosen_id or None
        is_registration = self.detail.get("is_registration") == "1"
        outcome = await self._run(lambda db, actor: outbox.apply_item(
            session=db, actor=actor, review_id=review_id,
            client_id=None if is_registration else chosen))
        if outcome.value is None:
            self.error, self.fields = outcome.error, outcome.fields
            return None
        return await self._back("outbox.review.applied")

    @guarded(Role.SUPERVISOR)
    async def link(self) -> Any:
        """A registration that is the chosen, existing client: link it, create nobody."""
        review_id, chosen = self.open_id, self.chosen_id
        if not chosen:
            self.error = await self._text("outbox.error.choose_client")
            return None
        outcome = await self._run(lambda db, actor: outbox.apply_item(
            session=db, actor=actor, review_id=review_id, link_client_id=chosen))
        if outcome.value is None:
            self.error, self.fields = outcome.error, outcome.fields
            return None
        return await self._back("outbox.review.applied")

    @guarded(Role.SUPERVISOR)
    async def dismiss(self, form_data: dict[str, Any]) -> Any:
        review_id = self.open_id
        reason = str(form_data.get("reason", ""))[:600]
        outcome = await self._run(lambda db, actor: outbox.dismiss_item(
            session=db, actor=actor, review_id=review_id, reason=reason))
        if outcome.value is None:
            self.error, self.fields = outcome.error, outcome.fields
            return None
        return await self._back("outbox.review.dismissed")


# --- the screen ------------------------------------------------------------------------------


def _card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(
                rx.badge(row["kind"], color_scheme="teal", size="2"),
                rx.text(row["commune"], size="2", color="var(--gray-11)"),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.cond(row["client"] != "", rx.text(row["client"], weight="bold", size="3")),
            rx.text(row["reason"], size="2", color="var(--red-11)"),
            rx.text(row["author"], size="2"),
            rx.text(row["received"], size="1", color="var(--gray-11)"),
            rx.button(tr("outbox.review.open"), size="3", variant="soft", width="100%",
                      on_click=ReviewState.open_item(row["id"]),
                      id="review-open-" + row["id"].to(str)),
            direction="column", spacing="1",
        ),
        id="review-item-" + row["id"].to(str), width="100%",
    )


def _list() -> rx.Component:
    s = ReviewState
    return rx.flex(
        rx.text(tr("outbox.review.intro"), size="2", color="var(--gray-11)"),
        rx.cond(
            ~s.loaded, loading_note(),
            rx.cond(s.rows.length() == 0, empty_note("outbox.review.empty"),
                    rx.flex(rx.foreach(s.rows, _card), direction="column", spacing="2",
                            id="review-list")),
        ),
        direction="column", spacing="3",
    )


def _field_row(row: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(row["label"], size="1", color="var(--gray-11)"),
        rx.text(row["value"], size="3", white_space="pre-wrap", word_break="break-word"),
        rx.cond(row["problem"] != "", rx.text(row["problem"], size="2", color="var(--red-11)")),
        padding_y="6px", border_bottom="1px solid var(--gray-4)",
    )


def _match(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.text(row["name"] + " · " + row["birth_year"], size="3", flex="1"),
        rx.button(tr("outbox.review.choose"), size="2", variant="soft",
                  on_click=ReviewState.choose(row["id"]), id="review-choose-" + row["id"]),
        align="center", spacing="2", padding_y="4px",
    )


def _choose_client() -> rx.Component:
    s = ReviewState
    return rx.flex(
        rx.form(
            rx.flex(
                rx.input(name="query", placeholder=tr("outbox.review.search"), size="3",
                         flex="1", id="review-query"),
                rx.button(tr("outbox.review.search_button"), size="3", type="submit"),
                spacing="2",
            ),
            on_submit=ReviewState.search, reset_on_submit=False,
        ),
        rx.cond(s.searched & (s.matches.length() == 0),
                rx.text(tr("outbox.review.none_found"), size="2")),
        rx.foreach(s.matches, _match),
        rx.cond(s.chosen_id != 0,
                rx.callout(rx.text(tr("outbox.review.chosen"), " ", rx.text.strong(s.chosen_name)),
                           icon="user-check", id="review-chosen")),
        rx.cond(s.fields.contains("client_id"),
                rx.text(s.fields["client_id"], size="2", color="var(--red-11)")),
        direction="column", spacing="2",
    )


def _detail() -> rx.Component:
    s = ReviewState
    d = s.detail
    return rx.flex(
        rx.button(tr("outbox.review.back"), variant="ghost", size="3",
                  on_click=ReviewState.close_item, id="review-back"),
        rx.flex(rx.badge(d["kind"], color_scheme="teal", size="2"),
                rx.text(d["commune"], size="2"), spacing="2", wrap="wrap"),
        rx.text(d["author"], size="2"),
        rx.text(d["saved"], size="1", color="var(--gray-11)"),
        rx.text(d["received"], size="1", color="var(--gray-11)"),
        rx.callout(d["reason"], icon="triangle-alert", color_scheme="red", id="review-reason"),
        rx.cond(d["client"] != "",
                rx.text(tr("outbox.review.client_named"), ": ", d["client"], size="2")),
        rx.heading(tr("outbox.review.content"), size="4", as_="h2"),
        rx.box(rx.foreach(s.detail_fields, _field_row), id="review-fields"),
        _choose_client(),
        rx.cond(
            d["is_registration"] == "1",
            rx.flex(
                rx.button(tr("outbox.review.apply_new"), size="3", on_click=ReviewState.apply,
                          id="review-apply"),
                rx.button(tr("outbox.review.link"), size="3", variant="soft",
                          on_click=ReviewState.link, disabled=s.chosen_id == 0,
                          id="review-link"),
                direction="column", spacing="2",
            ),
            rx.button(tr("outbox.review.apply"), size="3", on_click=ReviewState.apply,
                      id="review-apply", width="100%"),
        ),
        rx.form(
            rx.flex(
                rx.text(tr("outbox.review.dismiss_reason"), as_="label", html_for="review-why",
                        size="2", weight="medium"),
                rx.text_area(name="reason", id="review-why", rows="3"),
                rx.cond(s.fields.contains("reason"),
                        rx.text(s.fields["reason"], size="2", color="var(--red-11)")),
                rx.button(tr("outbox.review.dismiss"), size="3", variant="outline",
                          color_scheme="red", type="submit", id="review-dismiss"),
                direction="column", spacing="2",
            ),
            on_submit=ReviewState.dismiss, reset_on_submit=True,
        ),
        direction="column", spacing="3", id="review-detail",
    )


def refused_notice() -> rx.Component:
    """On the supervisor's home: a link to the refused records, when some wait."""
    return rx.cond(
        ReviewState.waiting > 0,
        rx.link(
            rx.callout(rx.text(tr("outbox.review.waiting"), " ",
                               rx.text.strong(ReviewState.waiting)),
                       icon="inbox", color_scheme="amber"),
            href="/review", underline="none", id="refused-notice",
        ),
    )


def review_page() -> rx.Component:
    s = ReviewState
    return app_frame(
        "outbox.review.title",
        rx.flex(
            form_message(s.error, s.success),
            rx.cond(s.open_id == 0, _list(), _detail()),
            direction="column", spacing="3", max_width="640px", width="100%",
        ),
    )

"""Record support for a volunteer's client: training, a job, a loan, school, assistance."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import (
    choice_group,
    date_field,
    money_field,
    number_field,
    parse_vnd,
    select_field,
    text_field,
    textarea_field,
)
from app.components.frame import app_frame
from app.pages.record_form import (
    RecordForm,
    client_header,
    field_text,
    not_found_screen,
    record_form,
)
from app.services import activities
from app.services.dto import SupportCreate
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role, SupportKind

KINDS = [(k.value, f"rec.support.kind.{k.value}") for k in SupportKind]
STATUSES = [(s, f"rec.support.status.{s}") for s in ("active", "completed", "cancelled")]


def support_input(
    client_id: int, form_data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw service input, and the keys of fields that could not be read at all."""
    problems: dict[str, str] = {}
    kind = field_text(form_data, "kind", 40)
    is_loan = kind == SupportKind.LOAN.value
    amount: int | None = None
    term: str | None = None
    if is_loan:  # loan fields of another kind are hidden, and ignored
        amount_text = field_text(form_data, "amount_vnd", 30)
        amount = parse_vnd(amount_text)
        if amount is None and amount_text.strip():
            problems["amount_vnd"] = "rec.error.amount_format"
        term = field_text(form_data, "term_months", 6).strip() or None
    return (
        {
            "client_id": client_id,
            "kind": kind,
            "started_on": field_text(form_data, "started_on", 10).strip(),
            "amount_vnd": amount,
            "term_months": term,
            "fund_source": field_text(form_data, "fund_source", 120) if is_loan else "",
            "notes": field_text(form_data, "notes", 500),
            "status": field_text(form_data, "status", 20).strip() or "active",
        },
        problems,
    )


class SupportState(RecordForm, AppState):
    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        await self._load_client()

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_for_client(
            form_data, support_input, activities.record_support, SupportCreate
        ):
            yield update


def _loan_fields() -> rx.Component:
    errors = SupportState.field_errors
    return rx.flex(
        rx.heading(tr("rec.support.loan_section"), size="3", as_="h3"),
        money_field("rec.support.amount", "amount_vnd", hint_key="rec.support.amount_hint",
                    error=errors.get("amount_vnd", "")),
        number_field("rec.support.term", "term_months", minimum=1, maximum=120,
                     error=errors.get("term_months", "")),
        text_field("rec.support.fund", "fund_source", max_length=120,
                   hint_key="rec.support.fund_hint", error=errors.get("fund_source", "")),
        class_name="loan-only",
        direction="column",
        spacing="3",
        padding="12px",
        border="1px solid var(--gray-6)",
        border_radius="10px",
    )


def _form() -> rx.Component:
    errors = SupportState.field_errors
    form = record_form(
        SupportState,
        SupportState.save,
        choice_group("rec.support.kind", "kind", KINDS, required=True,
                     default=SupportKind.VOCATIONAL_TRAINING.value,
                     error=errors.get("kind", "")),
        date_field(
            "rec.support.date", "started_on", default=SupportState.today,
            max_date=SupportState.today, error=errors.get("started_on", ""),
        ),
        select_field("rec.support.status", "status", STATUSES, default="active",
                     error=errors.get("status", "")),
        _loan_fields(),
        textarea_field("rec.support.notes", "notes", max_length=500,
                       error=errors.get("notes", "")),
        form_id="support-form",
        outbox="support",
    )
    # The loan block shows only while "loan" is chosen: CSS alone, no round trip to the server.
    return rx.box(
        form,
        width="100%",
        style={
            "& .loan-only": {"display": "none !important"},
            "&:has(input[name='kind'][value='loan']:checked) .loan-only": {
                "display": "flex !important"
            },
        },
    )


def support_page() -> rx.Component:
    return app_frame(
        "rec.support.title",
        rx.cond(
            SupportState.not_found,
            not_found_screen(),
            rx.flex(client_header(SupportState), _form(), direction="column", spacing="4"),
        ),
    )

"""Log a visit to one of the volunteer's clients: kind and save is enough, the rest is optional."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import (
    check_group,
    choice_group,
    date_field,
    textarea_field,
    ticked,
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
from app.services.dto import VisitCreate
from app.state.guard import guarded
from app.state.session import AppState
from models import Role, VisitKind

KINDS = [(k.value, f"rec.visit.kind.{k.value}") for k in VisitKind]
CONTENTS = list(activities.VISIT_CONTENTS)
RISKS = list(activities.VISIT_RISKS)


def visit_input(
    client_id: int, form_data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw service input from the submitted form (types are checked by `parse`); every
    field can be read, so no field is refused here."""
    next_appointment = field_text(form_data, "next_appointment", 10).strip()
    raw = {
        "client_id": client_id,
        "visit_date": field_text(form_data, "visit_date", 10).strip(),
        "kind": field_text(form_data, "kind", 40),
        "content": ",".join(ticked(form_data, "content", CONTENTS)),
        "notes": field_text(form_data, "notes"),
        "risk_flags": ",".join(ticked(form_data, "risk", RISKS)),
        "next_appointment": next_appointment or None,
    }
    return raw, {}


class VisitState(RecordForm, AppState):
    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        await self._load_client()

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_for_client(
            form_data, visit_input, activities.log_visit, VisitCreate
        ):
            yield update


def _form() -> rx.Component:
    errors = VisitState.field_errors
    return record_form(
        VisitState,
        VisitState.save,
        choice_group(
            "rec.visit.kind", "kind", KINDS, default=VisitKind.HOME.value, required=True,
            error=errors.get("kind", ""),
        ),
        date_field(
            "rec.visit.date", "visit_date", default=VisitState.today, max_date=VisitState.today,
            error=errors.get("visit_date", ""),
        ),
        check_group(
            "rec.visit.content", "content", [(c, f"rec.visit.content.{c}") for c in CONTENTS],
            defaults=("counselling",), error=errors.get("content", ""), columns="1",
        ),
        textarea_field("rec.visit.notes", "notes", max_length=2000,
                       error=errors.get("notes", "")),
        check_group(
            "rec.visit.risks", "risk", [(r, f"rec.visit.risk.{r}") for r in RISKS],
            error=errors.get("risk_flags", ""), columns="2",
        ),
        date_field(
            "rec.visit.next", "next_appointment", required=False,
            min_date=None, max_date=VisitState.max_appointment,
            hint_key="rec.visit.next_hint", error=errors.get("next_appointment", ""),
        ),
        form_id="visit-form",
        outbox="visit",
    )


def visit_page() -> rx.Component:
    return app_frame(
        "rec.visit.title",
        rx.cond(
            VisitState.not_found,
            not_found_screen(),
            rx.flex(client_header(VisitState), _form(), direction="column", spacing="4"),
        ),
    )


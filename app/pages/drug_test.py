"""Record a drug test of one of the volunteer's clients."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import check_group, choice_group, date_field, text_field, ticked
from app.components.frame import app_frame
from app.pages.record_form import (
    RecordForm,
    client_header,
    field_text,
    not_found_screen,
    record_form,
)
from app.services import activities
from app.services.dto import DrugTestCreate
from app.state.guard import guarded
from app.state.session import AppState
from models import Role, TestResult

SAMPLES = list(activities.TEST_SAMPLES)
METHODS = list(activities.TEST_METHODS)
SUBSTANCES = list(activities.TEST_SUBSTANCES)
RESULTS = [(r.value, f"rec.test.result.{r.value}") for r in TestResult]


def drug_test_input(
    client_id: int, form_data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw service input, and the choices left unmade (or not among those offered)."""
    sample = field_text(form_data, "sample", 20)
    method = field_text(form_data, "method", 40)
    raw = {
        "client_id": client_id,
        "tested_on": field_text(form_data, "tested_on", 10).strip(),
        "result": field_text(form_data, "result", 20),
        # Only the offered codes are stored: the timeline translates them.
        "sample": sample if sample in SAMPLES else "!",
        "method": method if method in METHODS else "!",
        "substances": ",".join(ticked(form_data, "substance", SUBSTANCES)),
        "performed_by": field_text(form_data, "performed_by", 120),
        # The time of the test, when typed: the 24-hour management decision counts from it.
        "tested_time": field_text(form_data, "tested_time", 8).strip() or None,
    }
    unchosen = {
        name: "rec.error.choose_one"
        for name in ("sample", "method", "result")
        if raw[name] in ("!", "")
    }
    return raw, unchosen


class DrugTestState(RecordForm, AppState):
    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        await self._load_client()

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_for_client(
            form_data, drug_test_input, activities.record_drug_test, DrugTestCreate
        ):
            yield update


def _form() -> rx.Component:
    errors = DrugTestState.field_errors
    return record_form(
        DrugTestState,
        DrugTestState.save,
        date_field(
            "rec.test.date", "tested_on", default=DrugTestState.today,
            max_date=DrugTestState.today, error=errors.get("tested_on", ""),
        ),
        # The time starts the 24-hour clock of a positive test (the device sends it too:
        # assets/device/src/forms.js).
        text_field("rec.test.time", "tested_time", type="time",
                   error=errors.get("tested_time", "")),
        choice_group(
            "rec.test.sample", "sample", [(s, f"rec.test.sample.{s}") for s in SAMPLES],
            default="urine", required=True, columns="2", error=errors.get("sample", ""),
        ),
        choice_group(
            "rec.test.method", "method", [(m, f"rec.test.method.{m}") for m in METHODS],
            default="rapid", required=True, error=errors.get("method", ""),
        ),
        check_group(
            "rec.test.substances", "substance",
            [(s, f"rec.test.substance.{s}") for s in SUBSTANCES],
            columns="2", error=errors.get("substances", ""),
        ),
        choice_group(
            "rec.test.result", "result", RESULTS, required=True,
            error=errors.get("result", ""),
        ),
        text_field(
            "rec.test.performed_by", "performed_by", max_length=120,
            error=errors.get("performed_by", ""),
        ),
        form_id="test-form",
        outbox="drug_test",
    )


def drug_test_page() -> rx.Component:
    return app_frame(
        "rec.test.title",
        rx.cond(
            DrugTestState.not_found,
            not_found_screen(),
            rx.flex(client_header(DrugTestState), _form(), direction="column", spacing="4"),
        ),
    )

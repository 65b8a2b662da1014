"""Outreach contact: people reached in a commune, counted by category, never named."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import choice_group, date_field, number_field, text_field
from app.components.frame import app_frame
from app.pages.record_form import RecordForm, field_text, record_form
from app.services import activities, facilities
from app.services.dto import OutreachContactCreate
from app.services.policy import Action, role_may
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import ContactCategory, Role

CATEGORIES = [(c.value, f"rec.contact.{c.value}") for c in ContactCategory]


def contact_input(form_data: dict[str, Any]) -> dict[str, Any]:
    return {
        "contact_date": field_text(form_data, "contact_date", 10).strip(),
        "place_id": field_text(form_data, "place_id", 12).strip(),
        "category": field_text(form_data, "category", 40),
        "count": field_text(form_data, "count", 12).strip() or "1",
        "topic": field_text(form_data, "topic", 200),
    }


class OutreachState(RecordForm, AppState):
    communes: list[dict[str, str]] = []
    # True for everyone who may open this screen (its load checks again): so the page as
    # prerendered, which is what opens offline, offers the group activity too.
    records_groups: bool = True

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        self.records_groups = role_may(self._require_actor().role, Action.GROUP_CREATE)
        outcome = await self._run(
            lambda db, actor: facilities.communes_for(session=db, actor=actor)
        )
        self.communes = [{"id": str(i), "name": n} for i, n in outcome.value or []]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_record(
            form_data, contact_input(form_data), activities.log_outreach_contact,
            OutreachContactCreate,
            lambda contact: self._stay("outreach-form", "rec.outreach.saved", count=contact.count),
        ):
            yield update


def _commune_select() -> rx.Component:
    errors = OutreachState.field_errors
    return rx.flex(
        rx.el.label(tr("rec.place"), html_for="place_id", font_weight="500"),
        rx.el.select(
            rx.foreach(
                OutreachState.communes,
                lambda c: rx.el.option(c["name"], value=c["id"]),
            ),
            id="place_id",
            name="place_id",
            required=True,
            style={
                "minHeight": "44px", "fontSize": "16px", "padding": "8px",
                "borderRadius": "8px", "border": "1px solid var(--gray-7)",
                "background": "white", "width": "100%",
            },
        ),
        rx.cond(
            errors.get("place_id", "") != "",
            rx.text(errors.get("place_id", ""), id="place_id-error", color="var(--red-11)",
                    size="2", role="alert"),
        ),
        direction="column",
        spacing="1",
        width="100%",
    )


def outreach_page() -> rx.Component:
    errors = OutreachState.field_errors
    return app_frame(
        "rec.outreach.title",
        rx.el.div(
            rx.el.p(tr("rec.outreach.intro"), class_name="rt-Text dh-muted"),
            record_form(
                OutreachState,
                OutreachState.save,
                date_field(
                    "rec.date", "contact_date", default=OutreachState.today,
                    max_date=OutreachState.today, error=errors.get("contact_date", ""),
                ),
                _commune_select(),
                choice_group(
                    "rec.outreach.category", "category", CATEGORIES, required=True,
                    default=ContactCategory.PERSON_WHO_USES_DRUGS.value, columns="2",
                    error=errors.get("category", ""),
                ),
                number_field(
                    "rec.outreach.count", "count", default="1", minimum=1, maximum=10_000,
                    required=True, error=errors.get("count", ""),
                ),
                text_field(
                    "rec.outreach.topic", "topic", max_length=200,
                    error=errors.get("topic", ""),
                ),
                form_id="outreach-form",
                outbox="outreach_contact",
            ),
            rx.cond(
                OutreachState.records_groups,
                rx.link(tr("rec.group.title"), href="/group-activity", id="to-group",
                        class_name="dh-target"),
            ),
            class_name="rt-Flex rt-r-fd-column rt-r-gap-4",
        ),
    )

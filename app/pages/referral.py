"""Refer one of the volunteer's clients to a service, with their consent."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import date_field, field_error, labelled, select_field
from app.components.frame import app_frame
from app.pages.record_form import (
    RecordForm,
    client_header,
    field_text,
    not_found_screen,
    record_form,
)
from app.services import activities, facilities
from app.services.dto import ReferralCreate
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import ReferralService, Role

SERVICES = [(s.value, f"rec.service.{s.value}") for s in ReferralService]
_SELECT_STYLE = {
    "minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
    "border": "1px solid var(--gray-7)", "background": "white", "width": "100%",
}


def referral_input(
    client_id: int, form_data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw service input (consent is checked by the service); no field is refused here."""
    facility = field_text(form_data, "facility_id", 12).strip()
    raw = {
        "client_id": client_id,
        "service": field_text(form_data, "service", 40),
        "facility_id": facility or None,
        "referred_on": field_text(form_data, "referred_on", 10).strip(),
        "consent": bool(form_data.get("consent")),
    }
    return raw, {}


class ReferralState(RecordForm, AppState):
    # Every facility the actor may refer to, with the services it receives ("mmt,arv,…").
    facilities: list[dict[str, str]] = []
    service: str = SERVICES[0][0]

    @rx.var
    def offered(self) -> list[dict[str, str]]:
        """The facilities that provide the service chosen on the form."""
        return [f for f in self.facilities if self.service in f["serves"].split(",")]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        self.service = SERVICES[0][0]
        if await self._load_client() is None:
            return
        outcome = await self._run(
            lambda db, actor: facilities.referral_facilities(session=db, actor=actor)
        )
        self.facilities = [{"id": str(i), "name": name, "serves": ",".join(serves)}
                           for i, name, serves in outcome.value or []]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def pick_service(self, value: str) -> None:
        """The service select changed: offer only the facilities that provide it."""
        chosen = str(value)[:40]
        self.service = chosen if chosen in {v for v, _k in SERVICES} else SERVICES[0][0]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_for_client(
            form_data, referral_input, activities.create_referral, ReferralCreate
        ):
            yield update


def _facility_select() -> rx.Component:
    return labelled(
        "rec.referral.facility",
        rx.el.select(
            rx.el.option(tr("rec.referral.no_facility"), value=""),
            rx.foreach(
                ReferralState.offered,
                lambda f: rx.el.option(f["name"], value=f["id"]),
            ),
            id="facility_id",
            name="facility_id",
            style=_SELECT_STYLE,
        ),
        field_id="facility_id",
        error=ReferralState.field_errors.get("facility_id", ""),
    )


def _consent() -> rx.Component:
    error = ReferralState.field_errors.get("consent", "")
    return rx.flex(
        rx.el.label(
            rx.el.input(
                type="checkbox",
                name="consent",
                id="consent",
                required=True,
                aria_describedby="consent-text",
                style={"width": "24px", "height": "24px", "flexShrink": "0"},
            ),
            rx.text(tr("rec.referral.consent"), weight="bold"),
            html_for="consent",
            style={"display": "flex", "gap": "12px", "alignItems": "center",
                   "minHeight": "48px"},
        ),
        rx.text(tr("rec.referral.consent_text"), id="consent-text", size="2"),
        field_error(error, field_id="consent"),
        direction="column",
        spacing="1",
        padding="12px",
        border="1px solid var(--amber-7)",
        border_radius="10px",
        background="var(--amber-2)",
    )


def _form() -> rx.Component:
    errors = ReferralState.field_errors
    return record_form(
        ReferralState,
        ReferralState.save,
        select_field("rec.referral.service", "service", SERVICES,
                     error=errors.get("service", ""), on_change=ReferralState.pick_service),
        _facility_select(),
        date_field(
            "rec.referral.date", "referred_on", default=ReferralState.today,
            max_date=ReferralState.today, error=errors.get("referred_on", ""),
        ),
        _consent(),
        rx.text(tr("rec.referral.open_hint"), size="2", color="var(--gray-11)"),
        form_id="referral-form",
        outbox="referral",
    )


def referral_page() -> rx.Component:
    return app_frame(
        "rec.referral.title",
        rx.cond(
            ReferralState.not_found,
            not_found_screen(),
            rx.flex(client_header(ReferralState), _form(), direction="column", spacing="4"),
        ),
    )

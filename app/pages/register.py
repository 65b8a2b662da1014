"""Register a client: a short first step, optional details, named consent, duplicate check.

The form is uncontrolled (what was typed survives errors). One server-generated key per form
makes a double tap or a retry return the client already saved instead of creating another.
"""

from __future__ import annotations

import operator
import secrets
from collections.abc import AsyncIterator
from functools import reduce
from typing import Any

import reflex as rx

from app.components.client_cards import empty_note, lazy_disclosure
from app.components.forms import (
    checkbox_field,
    checked_form,
    field_error,
    focus_first_problem,
    form_message,
    labelled,
    select_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.privacy_forms import GIVER_FIELDS, giver_fields, giver_values
from app.services import clients, photos
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.clients import ADULT_AGE, DuplicateCandidates
from app.services.dto import ClientCreate, ClientRead, ConsentInput, parse
from app.services.errors import ValidationFailed
from app.services.places import get_place, place_name
from app.services.privacy.inventory import PURPOSES
from app.services.text import vi_sort_key
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

# Sensitive categories named on screen and recorded with each consent (clients.SENSITIVE_...).
CONSENT_CATEGORIES = ("drug_use", "test_results", "hiv_status", "police_records")
# Purposes the person may agree to, one checkbox each; case management is what registering is.
# The catalogue (app/services/privacy/inventory.py) but the photo's, given with the photo.
CONSENT_PURPOSES = tuple(p for p in PURPOSES if p != photos.PURPOSE)
TEXT_FIELDS = (
    "full_name", "other_names", "phone", "national_id", "address", "former_address",
    "family_contact", "priority_group", "substances", "legal_rep_name", "legal_rep_phone",
)
# Who gave the consents and how: the consent page's fields, prefixed (the device's outbox
# sends them under the same names; the service defaults them when they are absent).
GIVER_PREFIX = "consent_"
CONSENT_GIVER_FIELDS = tuple(GIVER_PREFIX + name for name in GIVER_FIELDS)
FIELDS = (*TEXT_FIELDS, "birth_year", "sex", "commune_id", "consents", "submission_key",
          *CONSENT_GIVER_FIELDS)
MAX_INPUT = 300
SEXES = ("male", "female", "other")

Registered = ClientRead | DuplicateCandidates


def _no_errors() -> dict[str, str]:
    return {name: "" for name in FIELDS}


def form_text(form_data: dict[str, Any], name: str, limit: int = MAX_INPUT) -> str:
    """A text value of a submitted form. Fields not on screen (e.g. the legal representative
    of an adult) arrive as None, never as the text "None"."""
    value = form_data.get(name)
    return "" if value is None or isinstance(value, bool) else str(value)[:limit]


def form_checked(form_data: dict[str, Any], name: str) -> bool:
    return form_data.get(name) in (True, "on", "true", "1")


def _to_int(raw: Any) -> int | None:
    text = "" if raw is None else str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def client_input(form_data: dict[str, Any]) -> ClientCreate:
    """The registration form's values as the service's input (type errors per field)."""
    raw: dict[str, Any] = {name: form_text(form_data, name) for name in TEXT_FIELDS}
    errors: dict[str, str] = {}
    birth_year = _to_int(form_data.get("birth_year"))
    if birth_year is None:
        errors["birth_year"] = "error.birth_year_range"
    commune_id = _to_int(form_data.get("commune_id"))
    if commune_id is None:
        errors["commune_id"] = "error.invalid_commune"
    sex = form_text(form_data, "sex")
    if sex not in SEXES:
        errors["sex"] = "error.invalid_choice"
    if errors:
        raise ValidationFailed(errors)
    raw.update(
        birth_year=birth_year,
        commune_id=commune_id,
        sex=sex,
        injects=form_checked(form_data, "injects"),
        national_id=raw["national_id"] or None,
        phone=raw["phone"] or None,
        consents=[
            ConsentInput(purpose=purpose, sensitive_categories=list(CONSENT_CATEGORIES),
                         given_on=today_vn())
            for purpose in CONSENT_PURPOSES
            if form_checked(form_data, f"consent_{purpose}")
        ],
        **{GIVER_PREFIX + name: value
           for name, value in giver_values(form_data, prefix=GIVER_PREFIX).items()},
    )
    return parse(ClientCreate, raw)


def register(db: Any, actor: Actor, form_data: dict[str, Any], *, confirm: bool,
             key: str) -> Registered:
    """Register, or return the possible duplicates (nothing is written before the check)."""
    try:
        return clients.register_client(
            session=db, actor=actor, data=client_input(form_data),
            confirm_duplicates=confirm, submission_key=key,
        )
    except DuplicateCandidates as found:
        return found


class RegisterState(AppState):
    communes: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    errors: rx.Field[dict[str, str]] = rx.field(default_factory=_no_errors)
    error: rx.Field[str] = rx.field("")
    working: rx.Field[bool] = rx.field(False)
    minor: rx.Field[bool] = rx.field(False)
    duplicates: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    hidden_duplicates: rx.Field[int] = rx.field(0)

    _form_key: str = ""
    _form_saved: bool = False
    _pending: dict[str, Any] = {}

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> Any:
        """on_load: the actor's communes; a new form key once the last form was saved."""
        if not self._form_key or self._form_saved:
            self._form_key = secrets.token_hex(16)
            self._form_saved = False
        self.errors, self.error, self.working = _no_errors(), "", False
        self.duplicates, self.hidden_duplicates, self._pending = [], 0, {}
        self.minor = False

        def communes(_db: Any, actor: Actor) -> list[dict[str, str]]:
            places = [get_place(_db, cid) for cid in actor.commune_ids]
            return [{"id": str(p.id), "name": p.name}
                    for p in sorted((p for p in places if p), key=lambda p: vi_sort_key(p.name))]

        outcome = await self._run(communes)
        self.communes = outcome.value or []
        self.error = outcome.error
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    def birth_year_changed(self, value: str) -> None:
        """Show the legal representative's fields as soon as the person is a minor."""
        year = _to_int(str(value)[:9])
        self.minor = year is not None and today_vn().year - year < ADULT_AGE

    async def _save(self, form_data: dict[str, Any], *, confirm: bool) -> Any:
        key = self._form_key
        self.working = True
        self.errors, self.error = _no_errors(), ""

        def call(db: Any, actor: Actor) -> tuple[Registered, dict[int, str]]:
            result = register(db, actor, form_data, confirm=confirm, key=key)
            communes: dict[int, str] = {}
            if isinstance(result, DuplicateCandidates):
                communes = {c.commune_id: place_name(db, c.commune_id)
                            for c in result.candidates}
            return result, communes

        outcome = await self._run(call)
        self.working = False
        if outcome.value is None:
            self.error = outcome.error
            self.errors = {**_no_errors(), **outcome.fields}
            if outcome.fields.get("legal_rep_name"):
                self.minor = True
            return focus_first_problem("register-form") if outcome.fields else None
        result, communes = outcome.value
        if isinstance(result, DuplicateCandidates):
            self._pending = dict(form_data)
            self.duplicates = [
                {"id": str(c.id), "full_name": c.full_name, "birth_year": str(c.birth_year),
                 "commune_name": communes.get(c.commune_id, ""), "href": f"/clients/{c.id}"}
                for c in result.candidates
            ]
            self.hidden_duplicates = result.hidden_count
            self.error = await self._text(result.key, **result.params)
            return None
        self._form_saved = True
        self._pending, self.duplicates, self.hidden_duplicates = {}, [], 0
        profile = f"/clients/{result.id}"
        return [rx.redirect(profile),
                await self._confirm_saved("vol.reg.saved", route=profile, name=result.full_name,
                                          year=result.birth_year)]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def submit(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        self._pending, self.duplicates, self.hidden_duplicates = {}, [], 0
        self.working = True
        yield  # show the spinner and disable the button while saving
        yield await self._save(dict(form_data), confirm=False)

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def confirm_new_person(self) -> AsyncIterator[Any]:
        """After the duplicate warning: save what was checked, as a new person."""
        if not self._pending:
            return
        self.working = True
        yield
        yield await self._save(self._pending, confirm=True)


def _err(name: str) -> rx.Var:
    errors: Any = RegisterState.errors  # an ObjectVar of str (mypy cannot tell)
    return errors[name]


# Layout boxes as plain elements wearing Radix's Flex classes (a column, gap 3 or 4): the
# same look as rx.flex without a React component per box.
_COLUMN_3 = "rt-Flex rt-r-fd-column rt-r-gap-3"
_COLUMN_4 = "rt-Flex rt-r-fd-column rt-r-gap-4"


def _first_step() -> rx.Component:
    s = RegisterState
    return rx.el.div(
        text_field("vol.reg.full_name", "full_name", error=_err("full_name"), required=True,
                   max_length=120, auto_complete="off"),
        text_field("vol.reg.birth_year", "birth_year", error=_err("birth_year"), required=True,
                   input_mode="numeric", max_length=4, pattern="[0-9]{4}",
                   on_change=s.birth_year_changed, hint_key="vol.reg.birth_year_hint"),
        select_field("vol.reg.sex", "sex", [(v, f"vol.sex.{v}") for v in SEXES],
                     error=_err("sex")),
        labelled(
            "vol.reg.commune",
            rx.el.select(
                rx.foreach(s.communes, lambda c: rx.el.option(c["name"], value=c["id"])),
                id="commune_id",
                name="commune_id",
                style={"minHeight": "44px", "fontSize": "16px", "padding": "8px",
                       "borderRadius": "8px", "border": "1px solid var(--gray-7)",
                       "background": "white", "width": "100%"},
            ),
            field_id="commune_id",
            error=_err("commune_id"),
        ),
        text_field("vol.reg.phone", "phone", error=_err("phone"), type="tel",
                   input_mode="tel", max_length=20),
        class_name=_COLUMN_3,
    )


def _legal_rep() -> rx.Component:
    return rx.cond(
        RegisterState.minor,
        rx.el.div(
            rx.callout(tr("vol.reg.minor_note"), icon="info", color_scheme="amber",
                       role="status"),
            text_field("vol.reg.legal_rep_name", "legal_rep_name",
                       error=_err("legal_rep_name"), max_length=120),
            text_field("vol.reg.legal_rep_phone", "legal_rep_phone",
                       error=_err("legal_rep_phone"), type="tel", input_mode="tel",
                       max_length=20),
            class_name=_COLUMN_3,
            id="legal-rep",
        ),
    )


# The optional details: drawn at the first opening (most registrations never open them), or
# when one of them has an error to show. Absent fields are read as empty (`form_text`).
DETAIL_FIELDS = ("other_names", "national_id", "address", "former_address", "family_contact",
                 "priority_group", "substances")


def _details() -> rx.Component:
    has_error = reduce(operator.or_, [_err(name) != "" for name in DETAIL_FIELDS])
    return lazy_disclosure(
        "vol.reg.more_details",
        rx.el.div(
            text_field("vol.reg.other_names", "other_names", error=_err("other_names"),
                       max_length=200),
            text_field("vol.reg.national_id", "national_id", error=_err("national_id"),
                       input_mode="numeric", max_length=14),
            text_field("vol.reg.address", "address", error=_err("address"), max_length=200),
            text_field("vol.reg.former_address", "former_address",
                       error=_err("former_address"), max_length=200,
                       hint_key="vol.reg.former_address_hint"),
            text_field("vol.reg.family_contact", "family_contact",
                       error=_err("family_contact"), max_length=200),
            text_field("vol.reg.priority_group", "priority_group",
                       error=_err("priority_group"), max_length=60),
            text_field("vol.reg.substances", "substances", error=_err("substances"),
                       max_length=200),
            checkbox_field("vol.reg.injects", "injects"),
            class_name=_COLUMN_3,
            style={"paddingTop": "12px"},
        ),
        summary_id="more-details",
        key="register-details",
        open_when=has_error,
    )


def _consent() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(tr("vol.reg.consent_title"),
                     style={"fontWeight": "600", "fontSize": "18px", "padding": "0 4px"}),
        rx.el.p(tr("vol.reg.consent_intro"), class_name="rt-Text rt-r-size-2"),
        rx.el.ul(
            *[rx.el.li(tr(f"vol.consent.category.{c}")) for c in CONSENT_CATEGORIES],
            id="sensitive-categories",
            style={"margin": "8px 0", "paddingLeft": "20px"},
        ),
        rx.el.p(tr("vol.reg.consent_ask"), class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        *[checkbox_field(f"vol.consent.purpose.{p}", f"consent_{p}") for p in CONSENT_PURPOSES],
        field_error(_err("consents"), field_id="consents"),
        rx.el.div(*giver_fields(RegisterState.errors, prefix=GIVER_PREFIX),
                  class_name=_COLUMN_3, style={"marginTop": "12px"}, id="consent-giver"),
        id="consents-group",
        style={"border": "1px solid var(--gray-6)", "borderRadius": "12px", "padding": "12px",
               "margin": "0"},
    )


def _duplicate_warning() -> rx.Component:
    s = RegisterState
    return rx.cond(
        (s.duplicates.length() > 0) | (s.hidden_duplicates > 0),
        rx.box(
            rx.heading(tr("vol.reg.duplicates_title"), size="4", as_="h2"),
            rx.text(tr("vol.reg.duplicates_intro"), size="2"),
            rx.el.ul(
                rx.foreach(
                    s.duplicates,
                    lambda d: rx.el.li(
                        # The same tab: a new one would leave the installed app.
                        rx.link(d["full_name"], href=d["href"], weight="bold",
                                class_name="dh-target"),
                        rx.text(tr("vol.reg.birth_year"), ": ", d["birth_year"], " · ",
                                d["commune_name"], size="2", color="var(--gray-11)"),
                        style={"padding": "8px 0", "borderBottom": "1px solid var(--amber-5)",
                               "listStyle": "none"},
                    ),
                ),
                id="duplicate-list",
                style={"padding": "0", "margin": "8px 0"},
            ),
            rx.cond(
                s.hidden_duplicates > 0,
                rx.text(tr("vol.reg.duplicates_hidden"), " ", s.hidden_duplicates, size="2"),
            ),
            rx.button(
                rx.icon("user-plus", size=18, aria_hidden="true"),
                tr("vol.reg.confirm_new"),
                on_click=s.confirm_new_person,
                disabled=s.working,
                size="3",
                width="100%",
                color_scheme="amber",
                high_contrast=True,
                id="confirm-new",
                type="button",
                margin_top="8px",
            ),
            padding="12px",
            border="1px solid var(--amber-7)",
            border_radius="12px",
            background="var(--amber-2)",
            id="duplicates",
            role="region",
            aria_label=tr("vol.reg.duplicates_title"),
        ),
    )


def register_page() -> rx.Component:
    s = RegisterState
    return app_frame(
        "vol.reg.title",
        checked_form(
            rx.el.div(
                rx.el.p(tr("vol.reg.intro"), class_name="rt-Text rt-r-size-2 dh-muted"),
                _first_step(),
                _legal_rep(),
                _details(),
                _consent(),
                rx.cond(s.communes.length() == 0,
                        empty_note("vol.reg.no_commune")),
                form_message(s.error, rx.Var.create("")),
                _duplicate_warning(),
                submit_button("vol.reg.save", busy=s.working, id="register-submit",
                              high_contrast=True),
                class_name=_COLUMN_4,
            ),
            on_submit=s.submit,
            form_id="register-form",
            # Volunteers register through the device outbox (assets/device/), like every
            # record form; `submit` serves the users who have none (supervisors).
            custom_attrs={"data-outbox": "client"},
        ),
    )

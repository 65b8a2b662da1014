"""A client's consents: per purpose, who gave it (the person or a legal representative with
their relation), how (on screen, or a paper form and its number), the sensitive categories
shown; withdrawal, effective at once; the printable consent form (PDF)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, dmy, empty_note, loading_note
from app.components.forms import (
    check_group,
    focus_first_problem,
    select_field,
    submit_button,
    text_field,
    ticked,
)
from app.components.frame import app_frame
from app.components.panels import form_panel
from app.components.privacy_forms import (
    card_title,
    giver_fields,
    giver_values,
    outcome_callouts,
    record_card,
)
from app.i18n import t
from app.pages.privacy_common import Row, as_date, as_id, client_id_in
from app.services import privacy
from app.services.calendar import today_vn
from app.services.errors import ValidationFailed
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

PURPOSE_OPTIONS = [(p, f"privacy.purpose.{p}") for p in privacy.PURPOSES]
CATEGORY_OPTIONS = [(c, f"privacy.category.{c}") for c in privacy.SENSITIVE_CATEGORIES]
FIELDS = ("purpose", "sensitive_categories", "given_on", "given_by", "representative_name",
          "representative_relation", "method", "form_number")


def consent_row(view: privacy.ConsentView) -> Row:
    row: Row = {"id": str(view.id), "given_on": dmy(view.given_on),
                "withdrawn_on": dmy(view.withdrawn_on), "recorded_by": view.recorded_by,
                "active": "1" if view.withdrawn_on is None else ""}
    for lang in ("vi", "en"):
        cats = ", ".join(t(f"privacy.category.{c}", lang) for c in view.sensitive_categories)
        if view.given_by == "subject":
            who = t("privacy.consent.by_subject", lang)
        elif view.representative_relation:
            who = t("privacy.consent.by_representative", lang, name=view.representative_name,
                    relation=view.representative_relation)
        else:  # registered as a minor: the relation was not asked
            who = t("privacy.consent.by_legal_rep", lang, name=view.representative_name)
        how = t("privacy.consent.on_screen", lang) if view.method == "screen" else \
            t("privacy.consent.on_paper", lang, number=view.form_number)
        row[f"purpose_{lang}"] = t(f"privacy.purpose.{view.purpose}", lang)
        row[f"categories_{lang}"] = cats or "—"
        row[f"who_{lang}"] = who
        row[f"how_{lang}"] = how
    return row


class ConsentState(AppState):
    cid: str = ""
    view: str = "loading"
    consents: list[Row] = []
    errors: dict[str, str] = {name: "" for name in FIELDS}
    error: str = ""
    saved: str = ""
    today: str = ""

    _client_id: int = 0

    async def _fetch(self) -> None:
        cid = self._client_id
        outcome = await self._run(lambda db, actor: privacy.consents_of(
            session=db, actor=actor, client_id=cid))
        if outcome.value is None:
            self.view, self.consents, self._client_id, self.cid = "missing", [], 0, ""
            return
        self.view = "found"
        self.consents = [consent_row(v) for v in outcome.value]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> Any:
        self.view, self.error, self.saved = "loading", "", ""
        self.errors = {name: "" for name in FIELDS}
        self.today = today_vn().isoformat()
        cid = client_id_in(str(self.router.url.path))
        if cid is None:
            self.view = "missing"
            return None
        self._client_id, self.cid = cid, str(cid)
        await self._fetch()
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def record(self, form_data: dict[str, Any]) -> Any:
        """Record the consent the person (or their representative) just gave."""
        cid = self._client_id
        if not cid:
            return None
        given_on = as_date(form_data.get("given_on", ""))
        cats = tuple(ticked(form_data, "cat", list(privacy.SENSITIVE_CATEGORIES)))
        giver = giver_values(form_data)

        def call(db: Any, actor: Any) -> privacy.ConsentView:
            if given_on is None:
                raise ValidationFailed({"given_on": "error.invalid_value"})
            return privacy.record_consent(session=db, actor=actor, client_id=cid,
                                          data=privacy.ConsentGiven(
                purpose=str(form_data.get("purpose", ""))[:60], sensitive_categories=cats,
                given_on=given_on, **giver))

        outcome = await self._run(call)
        self.error, self.saved = outcome.error, ""
        self.errors = {name: outcome.fields.get(name, "") for name in FIELDS}
        if outcome.value is not None:
            self.saved = await self._text("privacy.consent.saved")
            await self._fetch()
            return None
        return focus_first_problem("consent-form") if outcome.fields else None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def withdraw(self, consent_id: str) -> Any:
        """The person withdraws this consent: it stops at once."""
        cid, consent = self._client_id, as_id(consent_id)
        if not cid or consent is None:
            return None
        outcome = await self._run(lambda db, actor: privacy.withdraw_consent(
            session=db, actor=actor, client_id=cid, consent_id=consent))
        self.error, self.saved = outcome.error, ""
        if outcome.value is not None:
            self.saved = await self._text("privacy.consent.withdrawn")
            await self._fetch()
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def print_form(self) -> Any:
        """The consent form (PDF) for this person, every purpose with an empty box."""
        cid = self._client_id
        if not cid:
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.consent_form_pdf(
            session=db, actor=actor, client_id=cid, lang=lang))
        if outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=f"phieu-dong-y-{cid}.pdf",
                           mime_type="application/pdf")


def _consent_card(row: Any) -> rx.Component:
    return record_card(
        card_title(
            rx.text(bi(row, "purpose"), weight="bold", size="3"),
            rx.cond(row["active"] == "1",
                    rx.badge(tr("privacy.consent.active"), color_scheme="teal",
                             high_contrast=True),
                    rx.badge(tr("privacy.consent.withdrawn_on"), " ", row["withdrawn_on"],
                             color_scheme="gray", high_contrast=True)),
        ),
        rx.text(tr("privacy.consent.given_on"), ": ", row["given_on"], " · ", bi(row, "who"),
                size="2"),
        rx.text(bi(row, "how"), size="2"),
        rx.text(tr("privacy.col.sensitive"), ": ", bi(row, "categories"), size="2",
                color="var(--gray-11)"),
        rx.cond(row["active"] == "1", rx.button(
            tr("privacy.consent.withdraw"), on_click=ConsentState.withdraw(row["id"]),
            color_scheme="red", variant="soft", size="3", margin_top="8px",
            id="withdraw-" + row["id"])),
        card_id="consent-" + row["id"],
    )


def _record_form() -> rx.Component:
    s = ConsentState
    e: Any = s.errors
    return form_panel(
        "privacy.consent.record",
        select_field("privacy.col.purpose", "purpose", PURPOSE_OPTIONS, error=e["purpose"]),
        check_group("privacy.consent.categories_shown", "cat", CATEGORY_OPTIONS,
                    error=e["sensitive_categories"], columns="2"),
        text_field("privacy.consent.given_on", "given_on", type="date",
                   default_value=s.today, max=s.today, error=e["given_on"]),
        *giver_fields(e),
        submit_button("privacy.consent.save", id="consent-save"),
        on_submit=s.record, form_id="consent-form", summary_id="consent-record-toggle",
    )


def consent_page() -> rx.Component:
    s = ConsentState
    return app_frame(
        "privacy.consent.title",
        rx.match(
            s.view,
            ("found", rx.fragment(
                rx.link(tr("privacy.back_to_profile"), href="/clients/" + s.cid,
                        min_height="44px", display="flex", align_items="center"),
                outcome_callouts(s.error, s.saved, "consent"),
                rx.text(tr("privacy.consent.effect"), size="2", color="var(--gray-11)",
                        margin_bottom="8px"),
                rx.cond(s.consents.length() > 0,
                        rx.box(rx.foreach(s.consents, _consent_card), id="consents"),
                        empty_note("privacy.consent.none")),
                rx.button(rx.icon("printer", size=18), tr("privacy.consent.print_form"),
                          on_click=s.print_form, variant="soft", size="3", width="100%",
                          id="consent-print"),
                _record_form(),
            )),
            ("missing", empty_note("privacy.audit.missing", note_id="consent-missing")),
            loading_note(),
        ),
    )

"""The privacy desk (/privacy): the supervisor's register of data subjects' requests with
their legal clocks, and break-glass for supervisors and clinic staff. The supervisor's home
(/caseload) shows the clocks and break-glass openings on their clients (`privacy_clocks`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, section_heading
from app.components.forms import (
    checked_form,
    choice_group,
    field_error,
    focus_first_problem,
    labelled,
    select_field,
    submit_button,
    text_field,
    ticked,
)
from app.components.frame import app_frame
from app.components.panels import form_panel
from app.components.privacy_forms import card_title, outcome_callouts, record_card
from app.pages.privacy_common import Row, as_date, as_id, local
from app.services import deployment, privacy
from app.services.calendar import today_vn
from app.services.errors import ValidationFailed
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import RequestKind, Role

KIND_OPTIONS = [(k.value, f"privacy.request_kind.{k.value}") for k in RequestKind]
REASON_OPTIONS = [(k, f"privacy.glass.reason.{k}") for k in privacy.REASONS]
REQUEST_FIELDS = ("client_id", "kind", "received_on", "requested_by", "requester_name",
                  "requester_relation", "details")
GLASS_FIELDS = ("client_id", "reason_kind", "reason")
LIMIT_OPTIONS = [(p, f"privacy.purpose.{p}") for p in privacy.LIMITABLE]
CORRECT_OPTIONS = [(f, f"privacy.field.{f}") for f in privacy.CORRECTABLE]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def clock(days: int | None) -> dict[str, str]:
    """A due date's state in working days: its words and tone (none once it is met)."""
    if days is None:
        return {**bilingual("left", None), "tone": "gray"}
    if days < 0:
        return {**bilingual("left", "privacy.clock.overdue", days=-days), "tone": "red"}
    if days == 0:
        return {**bilingual("left", "privacy.clock.today"), "tone": "red"}
    return {**bilingual("left", "privacy.clock.left", days=days),
            "tone": "amber" if days <= 2 else "teal"}


def request_row(v: privacy.RequestView) -> Row:
    ack = {f"ack_{k}": val for k, val in clock(v.ack_days_left).items()}
    answer = {f"answer_{k}": val for k, val in clock(v.answer_days_left).items()}
    return {
        "id": str(v.id), "client": str(v.client_id), "kind": v.kind.value,
        "received": dmy(v.received_on), "requester": v.requester_name,
        "ack_due": dmy(v.ack_due), "answer_due": dmy(v.answer_due),
        "open": "1" if v.answer_days_left is not None else "",
        "acknowledged": "1" if v.acknowledged_on is not None else "",
        "outcome": v.outcome, "basis": v.refusal_basis,
        # A refusal of carrying it out: the message, and the field it is shown under.
        "problem": "", "problem_at": "",
        **bilingual("kind_label", f"privacy.request_kind.{v.kind.value}"),
        **bilingual("status", f"privacy.request_status.{v.status.value}"),
        **ack, **answer,
    }


def glass_row(g: privacy.GlassView) -> Row:
    return {
        "id": str(g.id), "client": str(g.client_id), "who": g.user_name,
        "opened": local(g.opened_at), "expires": local(g.expires_at),
        "reason": g.reason, "live": "1" if g.live else "",
        **bilingual("role", f"privacy.role.{g.role}"),
        **bilingual("reason_kind", f"privacy.glass.reason.{g.reason_kind}"),
        **bilingual("mode", "privacy.glass.writable" if g.writable else "privacy.glass.read_only"),
    }


def limit_row(v: privacy.LimitView) -> Row:
    return {"id": str(v.id), "client": str(v.client_id), "since": dmy(v.started_on),
            "request": str(v.request_id or ""),
            **bilingual("kind_label", f"privacy.limit.{v.kind.value}"),
            **bilingual("purpose", f"privacy.purpose.{v.purpose}")}


class PrivacyDeskState(AppState):
    is_supervisor: bool = False
    requests: list[Row] = []
    mine: list[Row] = []  # my break-glass openings still running
    review: list[Row] = []  # openings by others on my clients
    limits: list[Row] = []  # restrictions and objections running on my clients
    dpo: str = ""  # the data-protection officer, as the privacy notice names them
    request_errors: dict[str, str] = {name: "" for name in REQUEST_FIELDS}
    glass_errors: dict[str, str] = {name: "" for name in GLASS_FIELDS}
    error: str = ""
    saved: str = ""
    today: str = ""

    async def _fetch(self) -> None:
        supervisor = self.is_supervisor

        def call(db: Any, actor: Any) -> tuple[Any, ...]:
            mine = privacy.my_openings(session=db, actor=actor)
            dpo = deployment.dpo_line(db)
            if not supervisor:
                return [], mine, [], [], dpo
            return (privacy.list_requests(session=db, actor=actor), mine,
                    privacy.openings_to_review(session=db, actor=actor),
                    privacy.running_limits(session=db, actor=actor), dpo)

        outcome = await self._run(call)
        if outcome.value is not None:
            requests, mine, review, limits, self.dpo = outcome.value
            self.requests = [request_row(v) for v in requests]
            self.mine = [glass_row(g) for g in mine]
            self.review = [glass_row(g) for g in review]
            self.limits = [limit_row(v) for v in limits]
        else:
            self.error = outcome.error

    def _reset_forms(self) -> None:
        self.error = self.saved = ""
        self.request_errors = {name: "" for name in REQUEST_FIELDS}
        self.glass_errors = {name: "" for name in GLASS_FIELDS}

    @guarded(Role.SUPERVISOR, Role.CLINIC)
    async def load(self) -> Any:
        self._reset_forms()
        self.is_supervisor = self._require_actor().role == Role.SUPERVISOR
        self.today = today_vn().isoformat()
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def load_clocks(self) -> Any:
        """on_load of the supervisor's home: the request clocks and break-glass openings."""
        self.is_supervisor = True
        await self._fetch()
        return None

    async def _after(self, outcome: Any, saved_key: str) -> None:
        self.error = outcome.error
        self.saved = await self._text(saved_key) if outcome.value is not None else ""
        if outcome.value is not None:
            await self._fetch()

    @guarded(Role.SUPERVISOR)
    async def receive(self, form_data: dict[str, Any]) -> Any:
        """Enter a request in the register (its clocks start from the day it was received)."""
        self._reset_forms()
        client_id = as_id(form_data.get("client_id", ""))
        received_on = as_date(form_data.get("received_on", ""))
        kind = str(form_data.get("kind", ""))

        def call(db: Any, actor: Any) -> Any:
            errors = {}
            if client_id is None:
                errors["client_id"] = "privacy.error.client_number"
            if received_on is None:
                errors["received_on"] = "error.invalid_value"
            if kind not in {k.value for k in RequestKind}:
                errors["kind"] = "error.invalid_choice"
            if errors or client_id is None or received_on is None:
                raise ValidationFailed(errors)
            return privacy.receive_request(session=db, actor=actor, data=privacy.RequestReceived(
                client_id=client_id, kind=RequestKind(kind), received_on=received_on,
                requested_by=str(form_data.get("requested_by", "subject"))[:20],
                requester_name=str(form_data.get("requester_name", ""))[:200],
                requester_relation=str(form_data.get("requester_relation", ""))[:100],
                details=str(form_data.get("details", ""))[:1200]))

        outcome = await self._run(call)
        self.request_errors = {name: outcome.fields.get(name, "") for name in REQUEST_FIELDS}
        await self._after(outcome, "privacy.request.saved")
        return focus_first_problem("request-form") if outcome.fields else None

    async def _on_record(self, raw_id: str, act: Any, saved_key: str) -> None:
        """One button's action on the record it names (`act(db, actor, id)`), then reload."""
        rid = as_id(raw_id)
        if rid is None:
            return
        outcome = await self._run(lambda db, actor: act(db, actor, rid))
        await self._after(outcome, saved_key)

    @guarded(Role.SUPERVISOR)
    async def acknowledge(self, request_id: str) -> Any:
        await self._on_record(request_id, lambda db, actor, rid: privacy.acknowledge(
            session=db, actor=actor, request_id=rid), "privacy.request.acknowledged")

    @guarded(Role.SUPERVISOR)
    async def answer(self, form_data: dict[str, Any]) -> Any:
        """Close a request with its outcome (a refusal gives its legal basis)."""
        rid = as_id(form_data.get("request_id", ""))
        if rid is None:
            return None
        outcome = await self._run(lambda db, actor: privacy.answer(
            session=db, actor=actor, request_id=rid,
            outcome=str(form_data.get("outcome", ""))[:1200],
            refuse_basis=str(form_data.get("basis", ""))[:400]))
        await self._after(outcome, "privacy.request.answered")
        return None

    @guarded(Role.SUPERVISOR)
    async def delete(self, request_id: str) -> Any:
        """Carry out a deletion request: anonymise, or refuse under a legal hold."""
        lang = await self._lang()
        await self._on_record(request_id, lambda db, actor, rid: privacy.execute_deletion(
            session=db, actor=actor, request_id=rid, lang=lang), "privacy.request.answered")

    @guarded(Role.SUPERVISOR)
    async def access_file(self, request_id: str, fmt: str) -> Any:
        """Everything held about the person (PDF or Excel), for an access or copy request."""
        rid = as_id(request_id)
        if rid is None or fmt not in ("pdf", "xlsx"):
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.access_export(
            session=db, actor=actor, request_id=rid, fmt=fmt, lang=lang))
        if outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=f"du-lieu-yeu-cau-{rid}.{fmt}",
                           mime_type="application/pdf" if fmt == "pdf" else XLSX)

    @guarded(Role.SUPERVISOR)
    async def letter(self, request_id: str) -> Any:
        """The written answer (PDF), with a refusal's legal basis."""
        rid = as_id(request_id)
        if rid is None:
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.answer_letter(
            session=db, actor=actor, request_id=rid, lang=lang)[1])
        if outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=f"tra-loi-yeu-cau-{rid}.pdf",
                           mime_type="application/pdf")

    async def _carry_out(self, rid: int | None, form: str, focus: str, call: Any) -> Any:
        """Run one of the register's own actions on request `rid`; a refusal's message goes
        under the form's first field (`<focus>-<rid>`), which gets the focus."""
        if rid is None:
            return None
        self.error = self.saved = ""
        outcome = await self._run(call)
        await self._after(outcome, "privacy.request.answered")
        if outcome.value is None and outcome.fields:
            self.error = ""
            message = await self._text(next(iter(outcome.fields.values())))
            self.requests = [{**r, "problem": message, "problem_at": f"{focus}-{rid}"}
                             if r["id"] == str(rid) else r for r in self.requests]
            return focus_first_problem(f"{form}-form-{rid}")
        return None

    @guarded(Role.SUPERVISOR)
    async def correct(self, form_data: dict[str, Any]) -> Any:
        """A correction request: change the named field of the record, then answer."""
        rid = as_id(form_data.get("request_id", ""))
        field = str(form_data.get("field", ""))[:40]
        value = str(form_data.get("value", ""))[:300]
        lang = await self._lang()
        return await self._carry_out(rid, "correct", "value", lambda db, actor: (
            privacy.execute_correction(session=db, actor=actor, request_id=rid or 0,
                                       changes={field: value}, lang=lang)))

    @guarded(Role.SUPERVISOR)
    async def restrict(self, form_data: dict[str, Any]) -> Any:
        """A restriction request: stop the ticked purposes for the person until lifted."""
        rid = as_id(form_data.get("request_id", ""))
        purposes = ticked(form_data, "purpose", list(privacy.LIMITABLE))
        lang = await self._lang()
        return await self._carry_out(rid, "restrict", "purpose_case_management",
                                     lambda db, actor: (
            privacy.execute_restriction(session=db, actor=actor, request_id=rid or 0,
                                        purposes=purposes, lang=lang)))

    @guarded(Role.SUPERVISOR)
    async def object_to(self, form_data: dict[str, Any]) -> Any:
        """An objection: stop the purpose objected to, like a withdrawn consent."""
        rid = as_id(form_data.get("request_id", ""))
        purpose = str(form_data.get("purpose", ""))[:40]
        lang = await self._lang()
        return await self._carry_out(rid, "object", "purpose", lambda db, actor: (
            privacy.execute_objection(session=db, actor=actor, request_id=rid or 0,
                                      purpose=purpose, lang=lang)))

    @guarded(Role.SUPERVISOR)
    async def lift(self, limit_id: str) -> Any:
        """Lift a restriction (or an objection the person took back)."""
        await self._on_record(limit_id, lambda db, actor, lid: privacy.lift_limit(
            session=db, actor=actor, limit_id=lid), "privacy.limit.lifted")

    @guarded(Role.SUPERVISOR, Role.CLINIC)
    async def open_glass(self, form_data: dict[str, Any]) -> Any:
        """Open one client outside one's scope, with a reason, for at most 3 hours."""
        self._reset_forms()
        client_id = as_id(form_data.get("glass_client_id", ""))

        def call(db: Any, actor: Any) -> Any:
            if client_id is None:
                raise ValidationFailed({"client_id": "privacy.error.client_number"})
            return privacy.open_glass(
                session=db, actor=actor, client_id=client_id,
                reason_kind=str(form_data.get("reason_kind", ""))[:40],
                reason=str(form_data.get("reason", ""))[:600])

        outcome = await self._run(call)
        self.glass_errors = {name: outcome.fields.get(name, "") for name in GLASS_FIELDS}
        await self._after(outcome, "privacy.glass.opened")
        if outcome.value is not None:
            return rx.redirect(f"/clients/{outcome.value.client_id}")
        return focus_first_problem("glass-form") if outcome.fields else None

    @guarded(Role.SUPERVISOR, Role.CLINIC)
    async def close_glass(self, glass_id: str) -> Any:
        await self._on_record(glass_id, lambda db, actor, gid: privacy.close_glass(
            session=db, actor=actor, glass_id=gid), "privacy.glass.closed")


# --- components ----------------------------------------------------------------------------


def _clock_badge(row: Any, prefix: str) -> rx.Component:
    return rx.badge(bi(row, f"{prefix}_left"), color_scheme=row[f"{prefix}_tone"],
                    high_contrast=True, size="2")


def _action_form(row: Any, name: str, on_submit: Any, *fields: rx.Component,
                 label_key: str) -> rx.Component:
    """The form that carries out an open request of one kind (correction, restriction,
    objection): its fields, then the button; checked in the page."""
    rid = row["id"]
    return checked_form(
        rx.el.input(type="hidden", name="request_id", value=rid),
        rx.flex(*fields,
                field_error(row["problem"], field_id=row["problem_at"]),
                rx.button(tr(label_key), type="submit", size="3", id=name + "-" + rid),
                direction="column", gap="6px"),
        on_submit=on_submit, form_id=name + "-form-" + rid, margin_top="8px",
    )


def _row_select(label_key: str, name: str, options: list[tuple[str, str]],
                rid: Any) -> rx.Component:
    """A labelled select inside one request's card (ids made unique by the request)."""
    field_id = f"{name}-" + rid
    return labelled(label_key, rx.el.select(
        *[rx.el.option(tr(label), value=value) for value, label in options],
        id=field_id, name=name, default_value=options[0][0],
        style={"minHeight": "44px", "fontSize": "16px", "padding": "8px",
               "borderRadius": "8px", "border": "1px solid var(--gray-7)",
               "background": "white", "width": "100%"},
    ), field_id=field_id)


def _row_checks(label_key: str, name: str, options: list[tuple[str, str]],
                rid: Any) -> rx.Component:
    """Checkboxes inside one request's card; each submits as `<name>_<value>`."""
    return rx.el.fieldset(
        rx.el.legend(tr(label_key), style={"fontWeight": "500"}),
        *[rx.el.label(
            rx.el.input(type="checkbox", name=f"{name}_{value}", id=f"{name}_{value}-" + rid,
                        style={"width": "22px", "height": "22px"}),
            tr(label), html_for=f"{name}_{value}-" + rid,
            style={"display": "flex", "alignItems": "center", "gap": "8px",
                   "minHeight": "44px"})
          for value, label in options],
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _carry_out_forms(row: Any) -> rx.Component:
    s = PrivacyDeskState
    rid = row["id"]
    return rx.match(
        row["kind"],
        ("correction", _action_form(
            row, "correct", s.correct,
            _row_select("privacy.request.correct_field", "field", CORRECT_OPTIONS, rid),
            rx.input(name="value", placeholder=tr("privacy.request.correct_value"), size="3",
                     id="value-" + rid, aria_label=tr("privacy.request.correct_value")),
            label_key="privacy.request.correct")),
        ("restriction", _action_form(
            row, "restrict", s.restrict,
            _row_checks("privacy.request.restrict_purposes", "purpose", LIMIT_OPTIONS, rid),
            label_key="privacy.request.restrict")),
        ("objection", _action_form(
            row, "object", s.object_to,
            _row_select("privacy.request.object_purpose", "purpose", LIMIT_OPTIONS, rid),
            label_key="privacy.request.object")),
        rx.fragment(),
    )


def _request_card(row: Any) -> rx.Component:
    s = PrivacyDeskState
    rid = row["id"]
    is_open = row["open"] == "1"
    carried_out = (row["kind"] == "correction") | (row["kind"] == "restriction") \
        | (row["kind"] == "objection")
    return record_card(
        card_title(rx.text("#", rid, " · ", bi(row, "kind_label"), weight="bold", size="3"),
                   rx.badge(bi(row, "status"), high_contrast=True)),
        rx.text(tr("privacy.request.client"), " ", row["client"], " · ", row["requester"],
                " · ", tr("privacy.field.received_on"), " ", row["received"], size="2"),
        rx.cond(is_open, rx.flex(
            rx.cond(row["acknowledged"] == "", rx.flex(
                rx.text(tr("privacy.request.ack_due"), " ", row["ack_due"], size="2"),
                _clock_badge(row, "ack"), gap="6px", align="center", wrap="wrap")),
            rx.flex(rx.text(tr("privacy.request.answer_due"), " ", row["answer_due"], size="2"),
                    _clock_badge(row, "answer"), gap="6px", align="center", wrap="wrap"),
            direction="column", gap="4px", margin_top="4px",
        ), rx.text(row["outcome"], " ", row["basis"], size="2", color="var(--gray-11)")),
        rx.flex(
            rx.cond(is_open & (row["acknowledged"] == ""), rx.button(
                tr("privacy.request.acknowledge"), on_click=s.acknowledge(rid), size="2",
                variant="soft", id="ack-" + rid)),
            rx.cond((row["kind"] == "access") | (row["kind"] == "copy"), rx.fragment(
                rx.button("PDF", on_click=s.access_file(rid, "pdf"), size="2", variant="soft",
                          id="access-pdf-" + rid),
                rx.button("Excel", on_click=s.access_file(rid, "xlsx"), size="2",
                          variant="soft", id="access-xlsx-" + rid))),
            rx.cond(is_open & (row["kind"] == "deletion"), rx.button(
                tr("privacy.request.delete"), on_click=s.delete(rid), size="2",
                color_scheme="red", variant="soft", id="delete-" + rid)),
            rx.cond(row["open"] == "", rx.button(
                tr("privacy.request.letter"), on_click=s.letter(rid), size="2",
                variant="soft", id="letter-" + rid)),
            gap="6px", wrap="wrap", margin_top="8px",
        ),
        rx.cond(is_open, _carry_out_forms(row)),
        rx.cond(is_open & (row["kind"] != "deletion"), rx.form(
            rx.el.input(type="hidden", name="request_id", value=rid),
            rx.flex(
                rx.cond(carried_out, rx.text(tr("privacy.request.refuse_only"), size="2",
                                             color="var(--gray-11)")),
                rx.input(name="outcome", placeholder=tr("privacy.request.outcome"), size="3",
                         id="outcome-" + rid, aria_label=tr("privacy.request.outcome")),
                rx.input(name="basis", placeholder=tr("privacy.request.refuse_basis"),
                         size="3", id="basis-" + rid,
                         aria_label=tr("privacy.request.refuse_basis")),
                rx.button(tr("privacy.request.close"), type="submit", size="3",
                          id="answer-" + rid),
                direction="column", gap="6px",
            ),
            on_submit=s.answer, no_validate=True, margin_top="8px",
        )),
        card_id="request-" + rid,
    )


def _glass_card(row: Any, closable: bool) -> rx.Component:
    return record_card(
        rx.text(tr("privacy.request.client"), " ", row["client"], " · ", row["who"], " (",
                bi(row, "role"), ")", weight="bold", size="2"),
        rx.text(bi(row, "reason_kind"), " · ", bi(row, "mode"), size="2"),
        rx.text(row["reason"], size="2", color="var(--gray-11)"),
        rx.text(row["opened"], " → ", row["expires"], size="2", color="var(--gray-11)"),
        rx.flex(
            rx.link(tr("privacy.glass.open_record"), href="/clients/" + row["client"],
                    min_height="44px", display="flex", align_items="center"),
            rx.button(tr("privacy.glass.close"),
                      on_click=PrivacyDeskState.close_glass(row["id"]),
                      size="2", variant="soft", id="glass-close-" + row["id"]),
            gap="12px", align="center",
        ) if closable else rx.fragment(),
        card_id="glass-" + row["id"], tone="amber", padding="10px 12px",
    )


def _limit_card(row: Any) -> rx.Component:
    return record_card(
        card_title(rx.text(tr("privacy.request.client"), " ", row["client"], " · ",
                           bi(row, "purpose"), weight="bold", size="2"),
                   rx.badge(bi(row, "kind_label"), color_scheme="amber", high_contrast=True)),
        rx.text(tr("privacy.limit.since"), " ", row["since"], " · #", row["request"], size="2",
                color="var(--gray-11)"),
        rx.button(tr("privacy.limit.lift"), on_click=PrivacyDeskState.lift(row["id"]),
                  size="2", variant="soft", margin_top="6px", id="lift-" + row["id"]),
        card_id="limit-" + row["id"],
    )


def _receive_form() -> rx.Component:
    s = PrivacyDeskState
    e: Any = s.request_errors
    return form_panel(
        "privacy.request.new",
        text_field("privacy.request.client_number", "client_id", input_mode="numeric",
                   error=e["client_id"]),
        select_field("privacy.col.kind", "kind", KIND_OPTIONS, error=e["kind"]),
        text_field("privacy.field.received_on", "received_on", type="date",
                   default_value=s.today, max=s.today, error=e["received_on"]),
        choice_group("privacy.request.asked_by", "requested_by",
                     [("subject", "privacy.consent.subject"),
                      ("representative", "privacy.consent.representative")],
                     default="subject", columns="2", error=e["requested_by"]),
        text_field("privacy.request.requester_name", "requester_name", max_length=120,
                   error=e["requester_name"]),
        text_field("privacy.field.representative_relation", "requester_relation",
                   max_length=60, error=e["requester_relation"]),
        text_field("privacy.request.details", "details", max_length=1000,
                   error=e["details"]),
        submit_button("privacy.request.save", id="request-save"),
        on_submit=s.receive, form_id="request-form", summary_id="request-new-toggle",
    )


def _glass_form() -> rx.Component:
    s = PrivacyDeskState
    e: Any = s.glass_errors
    return form_panel(
        "privacy.glass.new",
        rx.callout(tr("privacy.glass.warning"), icon="shield-alert",
                   color_scheme="amber", high_contrast=True),
        text_field("privacy.request.client_number", "glass_client_id",
                   input_mode="numeric", error=e["client_id"]),
        select_field("privacy.glass.reason_kind", "reason_kind", REASON_OPTIONS,
                     error=e["reason_kind"]),
        text_field("privacy.glass.reason", "reason", max_length=500, error=e["reason"]),
        submit_button("privacy.glass.submit", id="glass-submit", color_scheme="amber",
                      high_contrast=True),
        on_submit=s.open_glass, form_id="glass-form", summary_id="glass-new-toggle",
        reset_on_submit=True,
    )


def _dpo_note() -> rx.Component:
    s = PrivacyDeskState
    return rx.cond(s.dpo != "", rx.text(tr("privacy.dpo.label"), ": ", s.dpo, size="2",
                                        color="var(--gray-11)", id="desk-dpo"))


def privacy_desk_page() -> rx.Component:
    s = PrivacyDeskState
    return app_frame(
        "privacy.desk.title",
        outcome_callouts(s.error, s.saved, "desk"),
        _dpo_note(),
        rx.cond(s.is_supervisor, rx.fragment(
            section_heading("privacy.request.register"),
            rx.cond(s.requests.length() > 0, rx.box(rx.foreach(s.requests, _request_card),
                                                    id="requests"),
                    empty_note("privacy.request.none", note_id="requests-empty")),
            _receive_form(),
            rx.cond(s.limits.length() > 0, rx.fragment(
                section_heading("privacy.limit.title"),
                rx.box(rx.foreach(s.limits, _limit_card), id="limits"),
            )),
        )),
        section_heading("privacy.glass.title"),
        rx.cond(s.mine.length() > 0,
                rx.box(rx.foreach(s.mine, lambda r: _glass_card(r, True)), id="glass-mine")),
        _glass_form(),
        rx.cond(s.is_supervisor & (s.review.length() > 0), rx.fragment(
            section_heading("privacy.glass.review"),
            rx.box(rx.foreach(s.review, lambda r: _glass_card(r, False)), id="glass-review"),
        )),
    )


def privacy_clocks() -> rx.Component:
    """On the supervisor's home: open requests with their clocks, break-glass on their clients."""
    s = PrivacyDeskState
    open_rows = s.requests.length() > 0
    return rx.box(
        rx.cond(open_rows | (s.review.length() > 0), rx.fragment(
            section_heading("privacy.clocks.title"),
            rx.foreach(s.requests, lambda row: rx.cond(row["open"] == "1", rx.link(
                rx.flex(
                    rx.text("#", row["id"], " ", bi(row, "kind_label"), " · ",
                            tr("privacy.request.client"), " ", row["client"], size="2",
                            weight="medium"),
                    rx.flex(rx.cond(row["acknowledged"] == "", _clock_badge(row, "ack")),
                            _clock_badge(row, "answer"), gap="4px"),
                    justify="between", align="center", wrap="wrap", gap="4px",
                ),
                href="/privacy", underline="none", display="block", padding="8px 12px",
                border="1px solid var(--gray-5)", border_radius="10px",
                background="white", margin_bottom="6px", color="var(--gray-12)",
                id="clock-" + row["id"],
            ))),
            rx.foreach(s.review, lambda r: _glass_card(r, False)),
        )),
        rx.link(rx.icon("shield-check", size=18, aria_hidden="true"), tr("privacy.desk.title"),
                href="/privacy", min_height="44px", display="flex", align_items="center",
                gap="6px", id="privacy-desk-link"),
        id="privacy-clocks",
    )

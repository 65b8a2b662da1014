"""A client's legal records (/clients/<id>/law): addiction determinations, electronic
monitoring and its device faults, a change of residence, and (supervisors) a term reduction.

Each form calls one service of `app/services/law`; the services decide access and scope. The
episodes offered in the selects are the client's live episodes as the timeline returns them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from app.components.client_cards import (
    bi,
    bilingual,
    dmy,
    empty_note,
    loading_note,
    section_heading,
)
from app.components.forms import (
    date_field,
    field_error,
    focus_first_problem,
    labelled,
    number_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.native_fields import SELECT_STYLE
from app.components.panels import form_panel
from app.pages.record_form import client_id_in, not_found_screen
from app.pages.register import form_checked, form_text
from app.services import caseload, clients, law
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.dto import parse
from app.services.errors import ValidationFailed
from app.services.law.dto import (
    DeterminationCreate,
    EpisodeReductionCreate,
    FaultCreate,
    MonitoringCreate,
    ResidenceChangeCreate,
)
from app.services.law.records import MONITORED_TYPES
from app.services.policy import Action, role_may
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import EpisodeStatus, EpisodeType, Role

Row = dict[str, str]
_LIVE = {EpisodeStatus.OPEN.value, EpisodeStatus.CLOSURE_PROPOSED.value}


# Each form: its id, and the service's field names -> the form's field names. A message for a
# field the form does not show is the form's own (under its submit button).
FORMS: dict[str, dict[str, str]] = {
    "determination-form": {"determined_on": "determined_on", "facility_name": "facility_name",
                           "facility_id": "facility_name", "dependent": "dependent"},
    "monitoring-form": {"episode_id": "monitor_episode_id",
                        "decision_number": "monitor_decision_number",
                        "decision_date": "monitor_decision_date",
                        "decision_signer": "monitor_decision_signer", "device": "device",
                        "start_on": "monitor_start_on", "end_on": "monitor_end_on"},
    "fault-form": {"monitoring_id": "fault_monitoring_id", "occurred_on": "fault_on",
                   "description": "fault_description"},
    "move-form": {"to_commune_id": "to_commune_id", "moved_on": "moved_on",
                  "moved_time": "moved_time", "notice_sent_on": "notice_sent_on",
                  "notice_sent_time": "notice_sent_time"},
    "reduction-form": {"episode_id": "reduce_episode_id", "months": "reduce_months",
                       "decision_number": "reduce_decision_number",
                       "decision_date": "reduce_decision_date",
                       "decision_authority": "reduce_decision_authority",
                       "decision_signer": "reduce_decision_authority"},
}


def _no_errors() -> dict[str, str]:
    names = {name for fields in FORMS.values() for name in fields.values()}
    return {name: "" for name in sorted({*names, *FORMS})}


def _id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 else None


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class LawRecordsState(AppState):
    cid: str = ""
    view: str = "loading"  # loading | found | missing
    name: str = ""
    determinations: list[Row] = []
    monitorings: list[Row] = []
    monitorable: list[Row] = []  # live episodes monitoring may apply to
    reducible: list[Row] = []  # live episodes with an end
    communes: list[Row] = []
    can_reduce: bool = False
    today: str = ""
    # Field name -> its message; a form's id -> the form's own message (see FORMS).
    errors: rx.Field[dict[str, str]] = rx.field(default_factory=_no_errors)
    _client_id: int = 0

    async def _fetch(self) -> None:
        client_id = self._client_id

        def call(db: Any, actor: Actor) -> Any:
            client = clients.get_client(session=db, actor=actor, client_id=client_id)
            items = clients.client_timeline(session=db, actor=actor, client_id=client_id)
            return (client, items,
                    law.determinations(session=db, actor=actor, client_id=client_id),
                    law.monitorings(session=db, actor=actor, client_id=client_id),
                    caseload.places_in_scope(session=db, actor=actor), actor)

        got = await self._run(call)
        if got.value is None:
            self._client_id = 0  # no form of this screen may reach that client
            self.view, self.cid, self.name = "missing", "", ""
            self.determinations = self.monitorings = self.monitorable = self.reducible = []
            return
        client, items, found, monitored, places, actor = got.value
        self.view, self.cid, self.name = "found", str(client_id), client.full_name
        self.today = today_vn().isoformat()
        self.can_reduce = role_may(actor.role, Action.EPISODE_DECIDE)
        self.determinations = [
            {"id": str(d.id), "on": dmy(d.determined_on), "facility": d.facility_name,
             "valid": dmy(d.valid_until),
             **bilingual("result", "law.determination.dependent" if d.dependent
                         else "law.determination.not_dependent")}
            for d in found
        ]
        self.monitorings = [
            {"id": str(m.id), "device": m.device, "decision": m.decision_number,
             "period": f"{dmy(m.start_on)} – {dmy(m.end_on)}", "faults": str(m.faults),
             **bilingual("type", f"report.episode_type.{m.episode_type.value}")}
            for m in monitored
        ]
        live = [i for i in items if i.kind == "episode"
                and str(getattr(i.fields.get("status"), "value", i.fields.get("status")))
                in _LIVE]

        def option(i: Any) -> Row:
            kind = getattr(i.fields.get("episode_type"), "value", i.fields.get("episode_type"))
            return {"id": str(i.record_id), "start": dmy(i.on),
                    **bilingual("type", f"report.episode_type.{kind}")}

        self.monitorable = [option(i) for i in live
                            if EpisodeType(i.fields.get("episode_type")) in MONITORED_TYPES]
        self.reducible = [option(i) for i in live if i.fields.get("expected_end")]
        self.communes = [{"id": str(p.place_id), "name": p.name} for p in places
                         if not p.is_province and p.place_id != client.commune_id]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> Any:
        self.view, self.errors = "loading", _no_errors()
        client_id = client_id_in(str(self.router.url.path))
        if client_id is None:
            self.view = "missing"
            return None
        self._client_id = client_id
        await self._fetch()
        return None

    async def _save(self, call: Any, saved_key: str, form_id: str) -> Any:
        """Save one form: its problems under its fields (the focus on the first), or the
        shared saved notice and an emptied form."""
        self.errors = _no_errors()
        if not self._client_id:
            self.view = "missing"
            return None
        got = await self._run(call)
        if got.value is None:
            names = FORMS[form_id]
            errors = _no_errors()
            rest = []
            for field, message in got.fields.items():
                if field in names and message:
                    errors[names[field]] = message
                elif message:
                    rest.append(message)
            if rest or not any(errors[n] for n in names.values()):
                errors[form_id] = "; ".join(rest) or got.error
            self.errors = errors
            return focus_first_problem(form_id)
        await self._fetch()
        return [rx.call_script(f"document.getElementById('{form_id}')?.reset()"),
                await self._confirm_saved(saved_key)]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def add_determination(self, form_data: dict[str, Any]) -> Any:
        """Record an addiction determination (dependence ends illegal-use management)."""
        cid = self._client_id
        raw = {"determined_on": form_text(form_data, "determined_on", 10) or None,
               "dependent": form_checked(form_data, "dependent"),
               "facility_name": form_text(form_data, "facility_name", 200)}
        return await self._save(lambda db, actor: law.record_determination(
            session=db, actor=actor, client_id=cid, data=parse(DeterminationCreate, raw)),
            "law.determination.saved", "determination-form")

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def start_monitoring(self, form_data: dict[str, Any]) -> Any:
        """Record a decision to monitor the person electronically during an episode."""
        episode = _id(form_text(form_data, "monitor_episode_id", 10))
        allowed = {int(r["id"]) for r in self.monitorable}
        raw = {"episode_id": episode if episode in allowed else 0,
               "decision_number": form_text(form_data, "monitor_decision_number", 60),
               "decision_date": form_text(form_data, "monitor_decision_date", 10) or None,
               "decision_signer": form_text(form_data, "monitor_decision_signer", 120),
               "device": form_text(form_data, "device", 80),
               "start_on": form_text(form_data, "monitor_start_on", 10) or None,
               "end_on": form_text(form_data, "monitor_end_on", 10) or None}

        def call(db: Any, actor: Actor) -> Any:
            if not raw["episode_id"]:
                raise ValidationFailed({"episode_id": "error.monitoring_episode"})
            return law.start_monitoring(session=db, actor=actor,
                                        data=parse(MonitoringCreate, raw))

        return await self._save(call, "law.monitoring.saved", "monitoring-form")

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def add_fault(self, form_data: dict[str, Any]) -> Any:
        """A monitoring device failed: when and what."""
        monitoring = _id(form_text(form_data, "fault_monitoring_id", 10))
        shown = {int(r["id"]) for r in self.monitorings}
        raw = {"occurred_on": form_text(form_data, "fault_on", 10) or None,
               "description": form_text(form_data, "fault_description", 200)}

        def call(db: Any, actor: Actor) -> Any:
            if monitoring not in shown or monitoring is None:
                raise ValidationFailed({"monitoring_id": "error.invalid_choice"})
            return law.record_fault(session=db, actor=actor, monitoring_id=monitoring,
                                    data=parse(FaultCreate, raw))

        return await self._save(call, "law.monitoring.fault_saved", "fault-form")

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def record_move(self, form_data: dict[str, Any]) -> Any:
        """The person moved to another commune (the 24-hour notices follow)."""
        cid = self._client_id
        to = _id(form_text(form_data, "to_commune_id", 10))
        raw = {"to_commune_id": to or 0,
               "moved_on": form_text(form_data, "moved_on", 10) or None,
               "moved_time": form_text(form_data, "moved_time", 8) or None,
               "notice_sent_on": form_text(form_data, "notice_sent_on", 10) or None,
               "notice_sent_time": form_text(form_data, "notice_sent_time", 8) or None}

        def call(db: Any, actor: Actor) -> Any:
            if to is None:
                raise ValidationFailed({"to_commune_id": "error.invalid_commune"})
            return law.record_move(session=db, actor=actor, client_id=cid,
                                   data=parse(ResidenceChangeCreate, raw))

        return await self._save(call, "law.move.saved", "move-form")

    @guarded(Role.SUPERVISOR)
    async def add_reduction(self, form_data: dict[str, Any]) -> Any:
        """A decision shortened an episode's term by some months."""
        episode = _id(form_text(form_data, "reduce_episode_id", 10))
        allowed = {int(r["id"]) for r in self.reducible}
        months = form_text(form_data, "reduce_months", 4)
        raw = {"months": months or None,
               "decision_number": form_text(form_data, "reduce_decision_number", 60),
               "decision_date": form_text(form_data, "reduce_decision_date", 10) or None,
               "decision_authority": form_text(form_data, "reduce_decision_authority", 120)}

        def call(db: Any, actor: Actor) -> Any:
            if episode is None or episode not in allowed:
                raise ValidationFailed({"episode_id": "error.invalid_choice"})
            return law.add_reduction(session=db, actor=actor, episode_id=episode,
                                     data=parse(EpisodeReductionCreate, raw))

        return await self._save(call, "law.reduction.saved", "reduction-form")


# ---- view ---------------------------------------------------------------------------------------


def _err(name: str) -> rx.Var:
    errors: Any = LawRecordsState.errors  # an ObjectVar of str (mypy cannot tell)
    return errors[name]


def _select(label_key: str, name: str, rows: rx.Var, label: Any) -> rx.Component:
    return labelled(label_key, rx.el.select(rx.foreach(rows, lambda r: rx.el.option(
        label(r), value=r["id"])), id=name, name=name, style=SELECT_STYLE,
        aria_invalid=rx.cond(_err(name) != "", "true", "false"),
        aria_describedby=f"{name}-error"), field_id=name, error=_err(name))


def _card(*children: Any, card_id: str) -> rx.Component:
    return rx.flex(*children, direction="column", spacing="1", padding="12px",
                   border="1px solid var(--gray-5)", border_radius="12px", background="white",
                   id=card_id)


def _form(label_key: str, handler: Any, summary_id: str, *fields: rx.Component) -> rx.Component:
    """A form answered in the page (`checked_form`): problems under their fields, the form's
    own under it; what was typed stays until it is saved."""
    form_id = f"{summary_id}-form"
    return form_panel(label_key, *fields, field_error(_err(form_id), field_id=form_id),
                      submit_button(label_key, high_contrast=True, id=f"{summary_id}-submit"),
                      on_submit=handler, form_id=form_id, summary_id=summary_id)


def _date(label_key: str, name: str, **props: Any) -> rx.Component:
    return date_field(label_key, name, error=_err(name), **props)


def _text(label_key: str, name: str, **props: Any) -> rx.Component:
    return text_field(label_key, name, error=_err(name), **props)


def _determinations() -> rx.Component:
    s = LawRecordsState
    return rx.box(
        section_heading("law.determination.title"),
        rx.cond(s.determinations.length() > 0, rx.flex(rx.foreach(s.determinations, lambda d: _card(
            rx.text(bi(d, "result"), weight="bold"),
            rx.text(d["on"], " · ", d["facility"], size="2", color="var(--gray-11)"),
            rx.text(tr("law.determination.valid_until"), " ", d["valid"], size="2"),
            card_id="determination-" + d["id"])), direction="column", spacing="2"),
            empty_note("law.determination.none")),
        _form("law.determination.add", s.add_determination, "determination",
              _date("law.determination.on", "determined_on", max_date=s.today),
              _text("law.determination.facility", "facility_name", max_length=200),
              rx.el.label(rx.el.input(type="checkbox", name="dependent", id="dependent",
                                      style={"width": "22px", "height": "22px"}),
                          tr("law.determination.dependent"), html_for="dependent",
                          style={"display": "flex", "gap": "10px", "alignItems": "center",
                                 "minHeight": "44px"})),
    )


def _monitoring() -> rx.Component:
    s = LawRecordsState
    return rx.box(
        section_heading("law.monitoring.title"),
        rx.text(tr("law.monitoring.explain"), size="2", color="var(--gray-11)"),
        rx.cond(s.monitorings.length() > 0, rx.flex(rx.foreach(s.monitorings, lambda m: _card(
            rx.text(m["device"], " · ", bi(m, "type"), weight="bold"),
            rx.text(m["decision"], " · ", m["period"], size="2", color="var(--gray-11)"),
            rx.text(tr("law.monitoring.faults"), " ", m["faults"], size="2"),
            card_id="monitoring-" + m["id"])), direction="column", spacing="2"),
            empty_note("law.monitoring.none")),
        rx.cond(s.monitorable.length() > 0, _form(
            "law.monitoring.add", s.start_monitoring, "monitoring",
            _select("law.monitoring.episode", "monitor_episode_id", s.monitorable,
                    lambda r: rx.fragment(bi(r, "type"), " · ", r["start"])),
            _text("law.monitoring.decision_number", "monitor_decision_number", max_length=60),
            _date("law.monitoring.decision_date", "monitor_decision_date",
                  max_date=s.today, min_date="2026-07-01"),
            _text("law.monitoring.signer", "monitor_decision_signer", max_length=120),
            _text("law.monitoring.device", "device", max_length=80),
            _date("law.monitoring.start_on", "monitor_start_on"),
            _date("law.monitoring.end_on", "monitor_end_on", required=False))),
        rx.cond(s.monitorings.length() > 0, _form(
            "law.monitoring.add_fault", s.add_fault, "fault",
            _select("law.monitoring.device", "fault_monitoring_id", s.monitorings,
                    lambda r: r["device"]),
            _date("law.monitoring.fault_on", "fault_on", max_date=s.today),
            _text("law.monitoring.fault_description", "fault_description", max_length=200))),
    )


def _move() -> rx.Component:
    s = LawRecordsState
    return rx.box(
        section_heading("law.move.title"),
        rx.text(tr("law.move.explain"), size="2", color="var(--gray-11)"),
        _form("law.move.add", s.record_move, "move",
              _select("law.move.to", "to_commune_id", s.communes, lambda r: r["name"]),
              _date("law.move.moved_on", "moved_on", max_date=s.today),
              _text("law.move.moved_time", "moved_time", type="time"),
              _date("law.move.notice_sent_on", "notice_sent_on", max_date=s.today,
                    required=False),
              _text("law.move.notice_sent_time", "notice_sent_time", type="time")),
    )


def _reduction() -> rx.Component:
    s = LawRecordsState
    return rx.cond(s.can_reduce & (s.reducible.length() > 0), rx.box(
        section_heading("law.reduction.title"),
        _form("law.reduction.add", s.add_reduction, "reduction",
              _select("law.reduction.episode", "reduce_episode_id", s.reducible,
                      lambda r: rx.fragment(bi(r, "type"), " · ", r["start"])),
              number_field("law.reduction.months", "reduce_months", minimum=1, maximum=60,
                           error=_err("reduce_months")),
              _text("law.reduction.decision_number", "reduce_decision_number", max_length=60),
              _date("law.reduction.decision_date", "reduce_decision_date", max_date=s.today),
              _text("law.reduction.authority", "reduce_decision_authority", max_length=120)),
    ))


def law_records_page() -> rx.Component:
    s = LawRecordsState
    return app_frame(
        "law.records.title",
        rx.match(
            s.view,
            ("found", rx.flex(
                rx.link(rx.icon("arrow-left", size=18, aria_hidden="true"), s.name,
                        href="/clients/" + s.cid, display="flex", gap="8px",
                        align_items="center", min_height="44px", id="back-to-profile"),
                _determinations(), _monitoring(), _move(), _reduction(),
                direction="column", spacing="3")),
            ("missing", not_found_screen()),
            loading_note(),
        ),
    )

"""The law's term rules (/admin/rules), for administrators: every row with its keys, bounds,
effective dates, legal basis, source and review flag; add a row or close one.

A change is two steps: "check" shows which open episodes the rules would then give another
end (no client names: administrators see no client records), "save" writes it (audited). A
change never rewrites an episode's end: supervisors confirm those on /caseload/terms.
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
    number_field,
    select_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.panels import form_column
from app.pages.law_deadlines import action_error
from app.pages.register import form_checked, form_text
from app.services import law
from app.services.dto import DurationRuleCreate, DurationRuleRead, parse
from app.services.law.dto import RuleImpact
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import EpisodeType, Role

Row = dict[str, str]
TYPES = [(t.value, f"report.episode_type.{t.value}") for t in EpisodeType]
PREVIOUS = [("", "law.rules.any"), *TYPES]
BANDS = [("any", "law.rules.any"), ("minor", "law.rules.band.minor"),
         ("adult", "law.rules.band.adult")]
ORDERS = [("any", "law.rules.any"), ("first", "law.rules.order.first"),
          ("repeat", "law.rules.order.repeat")]
COUNTS_FROM = [("start", "law.rules.from.start"), ("decision", "law.rules.from.decision")]
MAX_IMPACT_ROWS = 100
ADD_FIELDS = ("episode_type", "age_band", "rehab_order", "previous_type", "months",
              "min_months", "max_months", "reduction_min_months", "reduction_max_months",
              "counts_from", "effective_from", "effective_to", "legal_basis", "source")
CLOSE_FIELDS = ("rule_id", "close_effective_to")
ADD_FORM, CLOSE_FORM = "rule-add-form", "rule-close-form"


def _no_errors() -> dict[str, str]:
    return {name: "" for name in (*ADD_FIELDS, *CLOSE_FIELDS, ADD_FORM, CLOSE_FORM)}


def rule_row(r: DurationRuleRead) -> Row:
    prev = f"report.episode_type.{r.previous_type.value}" if r.previous_type else "law.rules.any"
    return {
        "id": str(r.id), "from": dmy(r.effective_from), "to": dmy(r.effective_to) or "—",
        "bounds": f"{r.min_months}–{r.max_months}", "months": str(r.months),
        "reduction": (f"{r.reduction_min_months}–{r.reduction_max_months}"
                      if r.reduction_max_months is not None else "—"),
        "basis": r.legal_basis, "source": r.source, "review": "1" if r.needs_review else "",
        **bilingual("type", f"report.episode_type.{EpisodeType(r.episode_type).value}"),
        **bilingual("band", "law.rules.any" if r.age_band == "any"
                    else f"law.rules.band.{r.age_band}"),
        **bilingual("order", "law.rules.any" if r.rehab_order == "any"
                    else f"law.rules.order.{r.rehab_order}"),
        **bilingual("previous", prev),
    }


def impact_row(i: RuleImpact) -> Row:
    return {"id": str(i.episode_id), "commune": i.commune_name, "start": dmy(i.start_date),
            "current": dmy(i.current_end) or "—", "new": dmy(i.new_end) or "—",
            **bilingual("type", f"report.episode_type.{i.episode_type.value}")}


def overlap_row(o: law.rules.OverlapRead) -> Row:
    return {"id": str(o.id), "from": dmy(o.effective_from), "to": dmy(o.effective_to) or "—",
            "basis": o.legal_basis, "review": "1" if o.needs_review else "",
            **bilingual("new", f"report.episode_type.{o.new_type.value}"),
            **bilingual("live", f"report.episode_type.{o.live_type.value}"),
            **bilingual("outcome", f"law.rules.overlap.{o.outcome}")}


class AdminRulesState(AppState):
    rules: list[Row] = []
    overlaps: list[Row] = []
    loaded: bool = False
    error: str = ""  # what went wrong with "save" (the forms' problems are under their fields)
    errors: rx.Field[dict[str, str]] = rx.field(default_factory=_no_errors)
    impact: list[Row] = []
    impact_total: int = 0
    pending: str = ""  # "" | "add" | "close": a checked change waiting for "save"
    _add: dict[str, Any] = {}
    _close: tuple[int, str] = (0, "")
    _rule_ids: set[int] = set()

    async def _fetch(self) -> None:
        got = await self._run(lambda db, actor: (law.list_rules(session=db, actor=actor),
                                                 law.rules.list_overlaps(session=db,
                                                                         actor=actor)))
        self.loaded = True
        if got.value is None:
            self.error, self.rules, self.overlaps = got.error, [], []
            return
        found, overlaps = got.value
        self.rules = [rule_row(r) for r in found]
        self.overlaps = [overlap_row(o) for o in overlaps]
        self._rule_ids = {r.id for r in found}

    def _clear_pending(self) -> None:
        self.pending, self.impact, self.impact_total = "", [], 0
        self._add, self._close = {}, (0, "")

    @guarded(Role.ADMIN)
    async def load(self) -> Any:
        self.error, self.errors = "", _no_errors()
        self._clear_pending()
        await self._fetch()
        return None

    async def _show_impact(self, call: Any, pending: str, form_id: str,
                           fields: tuple[str, ...]) -> bool:
        got = await self._run(call)
        if got.value is None:
            errors = _no_errors()
            rest = []
            for name, message in got.fields.items():
                if name in fields and message:
                    errors[name] = message
                elif message:
                    rest.append(message)
            if rest or not got.fields:
                errors[form_id] = "; ".join(rest) or got.error
            self.errors = errors
            return False
        self.impact_total = len(got.value)
        self.impact = [impact_row(i) for i in got.value[:MAX_IMPACT_ROWS]]
        self.pending = pending
        return True

    @guarded(Role.ADMIN)
    async def check_add(self, form_data: dict[str, Any]) -> Any:
        """Step 1 of adding a row: which open episodes it would give another end."""
        self.error, self.errors = "", _no_errors()
        self._clear_pending()
        raw: dict[str, Any] = {
            "episode_type": form_text(form_data, "episode_type", 40),
            "age_band": form_text(form_data, "age_band", 10) or "any",
            "rehab_order": form_text(form_data, "rehab_order", 10) or "any",
            "previous_type": form_text(form_data, "previous_type", 40) or None,
            "months": form_text(form_data, "months", 4) or None,
            "min_months": form_text(form_data, "min_months", 4) or None,
            "max_months": form_text(form_data, "max_months", 4) or None,
            "effective_from": form_text(form_data, "effective_from", 10) or None,
            "effective_to": form_text(form_data, "effective_to", 10) or None,
            "legal_basis": form_text(form_data, "legal_basis", 200),
            "source": form_text(form_data, "source", 200),
            "counts_from": form_text(form_data, "counts_from", 10) or "start",
            "needs_review": form_checked(form_data, "needs_review"),
            "reduction_min_months": form_text(form_data, "reduction_min_months", 4) or None,
            "reduction_max_months": form_text(form_data, "reduction_max_months", 4) or None,
        }
        if await self._show_impact(lambda db, actor: law.rule_change_impact(
                session=db, actor=actor, add=parse(DurationRuleCreate, raw)), "add",
                ADD_FORM, ADD_FIELDS):
            self._add = raw
            return rx.scroll_to("rule-impact")
        return focus_first_problem(ADD_FORM)

    @guarded(Role.ADMIN)
    async def check_close(self, form_data: dict[str, Any]) -> Any:
        """Step 1 of closing a row: which open episodes would then get another end."""
        self.error, self.errors = "", _no_errors()
        self._clear_pending()
        text = form_text(form_data, "rule_id", 10)
        rule_id = int(text) if text.isascii() and text.isdigit() else 0
        problems: dict[str, str] = {}
        until: date | None = None
        try:
            until = date.fromisoformat(form_text(form_data, "close_effective_to", 10))
        except ValueError:
            problems["close_effective_to"] = await self._text("error.invalid_value")
        if rule_id not in self._rule_ids:
            problems["rule_id"] = await self._text("error.not_found")
        if problems or until is None:
            self.errors = {**_no_errors(), **problems}
            return focus_first_problem(CLOSE_FORM)
        day = until
        if await self._show_impact(lambda db, actor: law.rule_change_impact(
                session=db, actor=actor, close_rule_id=rule_id, close_from=day), "close",
                CLOSE_FORM, ("effective_to",)):
            self._close = (rule_id, day.isoformat())
            return rx.scroll_to("rule-impact")
        if self.errors.get("effective_to"):
            self.errors = {**self.errors, "close_effective_to": self.errors["effective_to"]}
        return focus_first_problem(CLOSE_FORM)

    @guarded(Role.ADMIN)
    async def save(self) -> Any:
        """Step 2: write the checked change (existing episodes keep their ends)."""
        self.error = ""
        if self.pending == "add" and self._add:
            data = dict(self._add)
            got = await self._run(lambda db, actor: law.add_rule(
                session=db, actor=actor, data=parse(DurationRuleCreate, data)))
        elif self.pending == "close" and self._close[0]:
            rule_id, until = self._close[0], date.fromisoformat(self._close[1])
            got = await self._run(lambda db, actor: law.close_rule(
                session=db, actor=actor, rule_id=rule_id, effective_to=until))
        else:
            return None
        if got.value is None:
            self.error = "; ".join(v for v in got.fields.values() if v) or got.error
            return None
        self._clear_pending()
        await self._fetch()
        return await self._confirm_saved("law.rules.saved")

    @guarded(Role.ADMIN)
    async def cancel(self) -> Any:
        self._clear_pending()
        return None


def _rule(r: Any) -> rx.Component:
    return rx.flex(
        rx.flex(rx.text(bi(r, "type"), weight="bold"),
                rx.cond(r["review"] != "", rx.badge(tr("law.rules.needs_review"),
                                                    color_scheme="amber", high_contrast=True)),
                spacing="2", align="center", wrap="wrap"),
        rx.text(tr("law.rules.band"), ": ", bi(r, "band"), " · ", tr("law.rules.order"), ": ",
                bi(r, "order"), " · ", tr("law.rules.previous"), ": ", bi(r, "previous"),
                size="2"),
        rx.text(tr("law.rules.months"), ": ", r["months"], " (", r["bounds"], ") · ",
                r["from"], " → ", r["to"], size="2"),
        rx.text(tr("law.rules.reduction"), ": ", r["reduction"], size="2"),
        rx.text(r["basis"], size="1", color="var(--gray-11)"),
        rx.text(tr("law.rules.source"), ": ", r["source"], size="1", color="var(--gray-11)"),
        rx.text("#", r["id"], size="1", color="var(--gray-11)"),
        direction="column", spacing="1", padding="12px", border_bottom="1px solid var(--gray-4)",
        id="rule-" + r["id"],
    )


def _impact() -> rx.Component:
    s = AdminRulesState
    return rx.cond(s.pending != "", rx.box(
        rx.heading(tr("law.rules.impact_title"), size="4", as_="h3"),
        rx.text(tr("law.rules.impact_count"), " ", s.impact_total, id="impact-total",
                weight="bold"),
        rx.foreach(s.impact, lambda i: rx.text(
            "#", i["id"], " · ", bi(i, "type"), " · ", i["commune"], " · ", i["start"], ": ",
            i["current"], " → ", i["new"], size="2")),
        rx.text(tr("law.rules.impact_note"), size="2", color="var(--gray-11)"),
        rx.flex(rx.button(tr("law.rules.save"), on_click=s.save, size="3", color_scheme="green",
                          id="rule-save"),
                rx.button(tr("law.rules.cancel"), on_click=s.cancel, size="3", variant="soft",
                          id="rule-cancel"),
                spacing="2", margin_top="8px"),
        padding="12px", border="1px solid var(--amber-7)", border_radius="12px",
        background="var(--amber-2)", id="rule-impact",
        style={"scrollMarginTop": "96px"},  # below the sticky top bar when scrolled to
    ))


def _err(name: str) -> rx.Var:
    errors: Any = AdminRulesState.errors  # an ObjectVar of str (mypy cannot tell)
    return errors[name]


def _add_form() -> rx.Component:
    return form_column(
        select_field("law.rules.type", "episode_type", TYPES, error=_err("episode_type")),
        select_field("law.rules.band", "age_band", BANDS, error=_err("age_band")),
        select_field("law.rules.order", "rehab_order", ORDERS, error=_err("rehab_order")),
        select_field("law.rules.previous", "previous_type", PREVIOUS,
                     error=_err("previous_type")),
        number_field("law.rules.months", "months", minimum=0, maximum=120,
                     error=_err("months")),
        number_field("law.rules.min_months", "min_months", minimum=0, maximum=120,
                     error=_err("min_months")),
        number_field("law.rules.max_months", "max_months", minimum=0, maximum=120,
                     error=_err("max_months")),
        number_field("law.rules.reduction_min", "reduction_min_months", minimum=1,
                     maximum=120, error=_err("reduction_min_months")),
        number_field("law.rules.reduction_max", "reduction_max_months", minimum=1,
                     maximum=120, error=_err("reduction_max_months")),
        select_field("law.rules.counts_from", "counts_from", COUNTS_FROM,
                     error=_err("counts_from")),
        date_field("law.rules.effective_from", "effective_from",
                   error=_err("effective_from")),
        date_field("law.rules.effective_to", "effective_to", required=False,
                   hint_key="law.rules.effective_to_hint", error=_err("effective_to")),
        text_field("law.rules.basis", "legal_basis", max_length=200,
                   error=_err("legal_basis")),
        text_field("law.rules.source", "source", max_length=200, error=_err("source")),
        rx.el.label(rx.el.input(type="checkbox", name="needs_review", id="needs_review",
                                style={"width": "22px", "height": "22px"}),
                    tr("law.rules.needs_review"), html_for="needs_review",
                    style={"display": "flex", "gap": "10px", "alignItems": "center",
                           "minHeight": "44px"}),
        field_error(_err(ADD_FORM), field_id=ADD_FORM),
        submit_button("law.rules.check", id="rule-check-add"),
        on_submit=AdminRulesState.check_add,
        form_id=ADD_FORM,
    )


def _close_form() -> rx.Component:
    return form_column(
        number_field("law.rules.rule_id", "rule_id", minimum=1, maximum=10**9,
                     error=_err("rule_id")),
        date_field("law.rules.effective_to", "close_effective_to",
                   hint_key="law.rules.effective_to_hint",
                   error=_err("close_effective_to")),
        field_error(_err(CLOSE_FORM), field_id=CLOSE_FORM),
        submit_button("law.rules.check_close", id="rule-check-close"),
        on_submit=AdminRulesState.check_close,
        form_id=CLOSE_FORM,
    )


def _overlap(o: Any) -> rx.Component:
    return rx.flex(
        rx.flex(rx.text(bi(o, "new"), " + ", bi(o, "live"), ": ", bi(o, "outcome"),
                        weight="bold", size="2"),
                rx.cond(o["review"] != "", rx.badge(tr("law.rules.needs_review"),
                                                    color_scheme="amber", high_contrast=True)),
                spacing="2", align="center", wrap="wrap"),
        rx.text(o["basis"], " · ", o["from"], " → ", o["to"], size="1",
                color="var(--gray-11)"),
        direction="column", spacing="1", padding="8px 12px",
        border_bottom="1px solid var(--gray-4)", id="overlap-" + o["id"],
    )


def admin_rules_page() -> rx.Component:
    s = AdminRulesState
    return app_frame(
        "law.rules.title",
        rx.flex(
            rx.text(tr("law.rules.explain"), size="2", color="var(--gray-11)"),
            action_error(s.error, "rules"),
            _impact(),
            section_heading("law.rules.add"),
            _add_form(),
            section_heading("law.rules.close"),
            _close_form(),
            section_heading("law.rules.list"),
            rx.cond(s.rules.length() > 0,
                    rx.box(rx.foreach(s.rules, _rule), border="1px solid var(--gray-5)",
                           border_radius="12px", id="rules"),
                    rx.cond(s.loaded, empty_note("law.rules.none"), loading_note())),
            section_heading("law.rules.overlaps"),
            rx.box(rx.foreach(s.overlaps, _overlap), border="1px solid var(--gray-5)",
                   border_radius="12px", id="overlaps"),
            direction="column", spacing="3",
        ),
    )

"""The administrator's data-protection screen (/admin/privacy): breaches with the 72-hour
countdown and the printable record; what one account read in a period; the audit of a record
by its number (metadata only); break-glass openings; the retention dry run; holidays and
terms; the processing inventory. Administrators never see a client's content here."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, disclosure, dmy, empty_note, section_heading
from app.components.forms import (
    focus_first_problem,
    select_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.panels import form_column, form_panel
from app.components.privacy_forms import (
    card_title,
    download_buttons,
    outcome_callouts,
    record_card,
)
from app.pages.privacy_audit import KIND_OPTIONS, audit_list
from app.pages.privacy_common import Row, as_date, as_id, audit_row, local
from app.pages.privacy_desk import glass_row
from app.services import calendar, privacy
from app.services.calendar import LOCAL_TZ, today_vn
from app.services.errors import ValidationFailed
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

SEVERITY_OPTIONS = [(s, f"privacy.severity.{s}") for s in ("medium", "high", "low")]
BREACH_FIELDS = ("discovered_at", "description", "severity", "data_categories",
                 "subjects_count", "consequences", "measures", "contact")
# The other forms' fields (names unique on the screen) -> the form they are in.
FORM_FIELDS = {"username": "account-form", "start": "account-form", "end": "account-form",
               "client_id": "record-form", "code": "term-form", "amount": "term-form",
               "legal_basis": "term-form", "on": "holiday-form", "name": "holiday-form"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def breach_row(v: privacy.BreachView) -> Row:
    row: Row = {"id": str(v.id), "discovered": local(v.discovered_at),
                "due": local(v.notify_due_at), "notified": local(v.notified_at),
                "ref": v.notification_ref, "description": v.description[:200],
                **bilingual("severity", f"privacy.severity.{v.severity}")}
    if v.minutes_left is None:
        row.update(bilingual("countdown", "privacy.breach.done"), tone="gray", open="")
    elif v.minutes_left < 0:
        late = -v.minutes_left
        row.update(bilingual("countdown", "privacy.breach.late", hours=late // 60,
                             minutes=late % 60), tone="red", open="1")
    else:
        row.update(bilingual("countdown", "privacy.breach.left", hours=v.minutes_left // 60,
                             minutes=v.minutes_left % 60),
                   tone="red" if v.minutes_left < 12 * 60 else "amber", open="1")
    return row


class AdminPrivacyState(AppState):
    breaches: list[Row] = []
    breach_errors: dict[str, str] = {name: "" for name in BREACH_FIELDS}
    errors: dict[str, str] = dict.fromkeys(FORM_FIELDS, "")
    account_rows: list[Row] = []
    account_shown: str = ""
    glass: list[Row] = []
    retention: Row = {}
    holidays: list[Row] = []
    terms: list[Row] = []
    error: str = ""
    saved: str = ""
    today: str = ""
    month_ago: str = ""

    async def _fetch(self) -> None:
        year = today_vn().year

        def call(db: Any, actor: Any) -> tuple[Any, ...]:
            return (privacy.list_breaches(session=db, actor=actor),
                    privacy.openings_to_review(session=db, actor=actor),
                    calendar.list_holidays(session=db, actor=actor, year=year),
                    privacy.list_terms(session=db, actor=actor))

        outcome = await self._run(call)
        if outcome.value is None:
            self.error = outcome.error
            return
        breaches, glass, holidays, terms = outcome.value
        self.breaches = [breach_row(b) for b in breaches]
        self.glass = [glass_row(g) for g in glass]
        self.holidays = [{"on": dmy(h.on), "name": h.name, "source": h.source}
                         for h in holidays]
        self.terms = [{"code": tm.code, "amount": str(tm.amount), "basis": tm.legal_basis,
                       "review": "1" if tm.needs_review else "",
                       **bilingual("unit", f"privacy.unit.{tm.unit.value}")} for tm in terms]

    @guarded(Role.ADMIN)
    async def load(self) -> Any:
        self.error = self.saved = ""
        self.breach_errors = {name: "" for name in BREACH_FIELDS}
        self.errors = dict.fromkeys(FORM_FIELDS, "")
        today = today_vn()
        self.today, self.month_ago = today.isoformat(), (today - timedelta(days=30)).isoformat()
        self.account_rows, self.account_shown, self.retention = [], "", {}
        await self._fetch()
        return None

    async def _after(self, outcome: Any, key: str) -> Any:
        """Show the outcome; a refusal's messages go under their fields and the focus to the
        first of them (the event to return)."""
        self.error = outcome.error
        self.saved = await self._text(key) if outcome.value is not None else ""
        self.errors = {name: outcome.fields.get(name, "") for name in FORM_FIELDS}
        if outcome.value is not None:
            await self._fetch()
        forms = [FORM_FIELDS[name] for name in outcome.fields if name in FORM_FIELDS]
        return focus_first_problem(forms[0]) if forms else None

    @guarded(Role.ADMIN)
    async def record_breach(self, form_data: dict[str, Any]) -> Any:
        """Log a breach from the time it was discovered (local time)."""
        day = as_date(form_data.get("discovered_on", ""))
        clock = str(form_data.get("discovered_time", ""))[:5]
        count = str(form_data.get("subjects_count", "")).strip()

        def call(db: Any, actor: Any) -> Any:
            try:
                at = datetime.combine(day, time.fromisoformat(clock or "00:00"), LOCAL_TZ) \
                    if day else None
            except ValueError:
                at = None
            if at is None:
                raise ValidationFailed({"discovered_at": "error.invalid_value"})
            if count and not (count.isascii() and count.isdigit() and len(count) <= 8):
                raise ValidationFailed({"subjects_count": "error.invalid_value"})
            return privacy.record_breach(session=db, actor=actor, data=privacy.BreachInput(
                discovered_at=at.astimezone(UTC),
                description=str(form_data.get("description", ""))[:2100],
                severity=str(form_data.get("severity", "medium"))[:10],
                data_categories=str(form_data.get("data_categories", ""))[:400],
                subjects_count=int(count) if count else None,
                consequences=str(form_data.get("consequences", ""))[:1100],
                measures=str(form_data.get("measures", ""))[:1100],
                contact=str(form_data.get("contact", ""))[:300]))

        outcome = await self._run(call)
        self.breach_errors = {name: outcome.fields.get(name, "") for name in BREACH_FIELDS}
        await self._after(outcome, "privacy.breach.saved")
        return focus_first_problem("breach-form") if outcome.fields else None

    @guarded(Role.ADMIN)
    async def mark_notified(self, form_data: dict[str, Any]) -> Any:
        bid = as_id(form_data.get("breach_id", ""))
        if bid is None:
            return None
        outcome = await self._run(lambda db, actor: privacy.mark_notified(
            session=db, actor=actor, breach_id=bid,
            reference=str(form_data.get("reference", ""))[:100]))
        await self._after(outcome, "privacy.breach.notified")
        return None

    @guarded(Role.ADMIN)
    async def print_breach(self, breach_id: str) -> Any:
        bid = as_id(breach_id)
        if bid is None:
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.breach_record_pdf(
            session=db, actor=actor, breach_id=bid, lang=lang))
        if outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=f"bien-ban-su-co-{bid}.pdf",
                           mime_type="application/pdf")

    @guarded(Role.ADMIN)
    async def account_audit(self, form_data: dict[str, Any]) -> Any:
        """Everything one account did in a period (records by number, no content)."""
        username = str(form_data.get("username", ""))[:64]
        start, end = as_date(form_data.get("start", "")), as_date(form_data.get("end", ""))
        kind = str(form_data.get("kind", ""))[:20]

        def call(db: Any, actor: Any) -> list[privacy.AuditRow]:
            if start is None or end is None:
                raise ValidationFailed({"start" if start is None else "end":
                                        "error.invalid_value"})
            uid = privacy.find_account(session=db, actor=actor, username=username)
            return privacy.account_audit(session=db, actor=actor, user_id=uid, start=start,
                                         end=end, kind=kind if kind in privacy.KINDS else "")

        outcome = await self._run(call)
        self.error, self.saved = outcome.error, ""
        self.errors = {name: outcome.fields.get(name, "") for name in FORM_FIELDS}
        self.account_rows = [audit_row(i, r) for i, r in enumerate(outcome.value or [])]
        self.account_shown = username if outcome.value is not None else ""
        return focus_first_problem("account-form") if outcome.fields else None

    @guarded(Role.ADMIN)
    async def open_record_audit(self, form_data: dict[str, Any]) -> Any:
        cid = as_id(form_data.get("client_id", ""))
        if cid is None:
            self.error = ""
            self.errors = {**dict.fromkeys(FORM_FIELDS, ""),
                           "client_id": await self._text("privacy.error.client_number")}
            return focus_first_problem("record-form")
        return rx.redirect(f"/clients/{cid}/audit")

    @guarded(Role.ADMIN)
    async def retention_plan(self) -> Any:
        """The dry run of the retention schedule (record numbers only)."""
        outcome = await self._run(lambda db, actor: privacy.plan(session=db, actor=actor))
        self.error = outcome.error
        if outcome.value is not None:
            p = outcome.value
            self.retention = {
                "clients": str(len(p.client_ids)),
                "ids": ", ".join(str(i) for i in p.client_ids[:50]) or "—",
                "held": ", ".join(str(i) for i in p.held_ids[:50]) or "—",
                "notes": str(p.visit_notes), "client_cutoff": dmy(p.client_cutoff),
                "notes_cutoff": dmy(p.notes_cutoff)}
        return None

    @guarded(Role.ADMIN)
    async def add_holiday(self, form_data: dict[str, Any]) -> Any:
        on = as_date(form_data.get("on", ""))

        def call(db: Any, actor: Any) -> Any:
            if on is None:
                raise ValidationFailed({"on": "error.invalid_value"})
            return calendar.add_holiday(session=db, actor=actor, on=on,
                                        name=str(form_data.get("name", ""))[:200])

        outcome = await self._run(call)
        return await self._after(outcome, "privacy.holiday.saved")

    @guarded(Role.ADMIN)
    async def update_term(self, form_data: dict[str, Any]) -> Any:
        amount = str(form_data.get("amount", "")).strip()

        def call(db: Any, actor: Any) -> Any:
            if not (amount.isascii() and amount.isdigit() and len(amount) <= 4):
                raise ValidationFailed({"amount": "error.invalid_value"})
            return privacy.update_term(session=db, actor=actor,
                                       code=str(form_data.get("code", ""))[:60],
                                       amount=int(amount),
                                       legal_basis=str(form_data.get("legal_basis", ""))[:400])

        outcome = await self._run(call)
        return await self._after(outcome, "privacy.term.saved")

    @guarded(Role.ADMIN)
    async def inventory(self, fmt: str) -> Any:
        """The processing inventory (Excel or PDF) for the impact-assessment file."""
        if fmt not in ("xlsx", "pdf"):
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.inventory_export(
            session=db, actor=actor, fmt=fmt, lang=lang))
        if outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=f"danh-muc-xu-ly-du-lieu.{fmt}",
                           mime_type="application/pdf" if fmt == "pdf" else XLSX)


# --- components ----------------------------------------------------------------------------


def _breach_card(row: Any) -> rx.Component:
    s = AdminPrivacyState
    bid = row["id"]
    return record_card(
        card_title(rx.text("#", bid, " · ", bi(row, "severity"), weight="bold", size="3"),
                   rx.badge(bi(row, "countdown"), color_scheme=row["tone"], high_contrast=True,
                            size="2", id="countdown-" + bid)),
        rx.text(row["description"], size="2"),
        rx.text(tr("privacy.breach.discovered_at"), ": ", row["discovered"], " · ",
                tr("privacy.breach.notify_due_at"), ": ", row["due"], size="2",
                color="var(--gray-11)"),
        rx.cond(row["open"] == "", rx.text(tr("privacy.breach.notified_at"), ": ",
                                           row["notified"], " · ", row["ref"], size="2")),
        rx.cond(row["open"] == "1", rx.form(
            rx.el.input(type="hidden", name="breach_id", value=bid),
            rx.flex(rx.input(name="reference", placeholder=tr("privacy.breach.notification_ref"),
                             size="3", id="ref-" + bid,
                             aria_label=tr("privacy.breach.notification_ref")),
                    rx.button(tr("privacy.breach.mark_notified"), type="submit", size="3",
                              id="notified-" + bid),
                    gap="6px", wrap="wrap"),
            on_submit=s.mark_notified, no_validate=True, margin_top="6px",
        )),
        rx.button(rx.icon("printer", size=16), tr("privacy.breach.print"),
                  on_click=s.print_breach(bid), size="2", variant="soft", margin_top="6px",
                  id="breach-print-" + bid),
        card_id="breach-" + bid,
    )


def _breach_form() -> rx.Component:
    s = AdminPrivacyState
    e: Any = s.breach_errors
    return form_panel(
        "privacy.breach.new",
        rx.grid(
            text_field("privacy.breach.discovered_on", "discovered_on", type="date",
                       default_value=s.today, max=s.today, error=e["discovered_at"]),
            text_field("privacy.breach.discovered_time", "discovered_time", type="time"),
            columns="2", gap="8px"),
        text_field("privacy.breach.description", "description", max_length=2000,
                   error=e["description"]),
        select_field("privacy.breach.severity", "severity", SEVERITY_OPTIONS,
                     error=e["severity"]),
        text_field("privacy.breach.data_categories", "data_categories", max_length=300,
                   error=e["data_categories"]),
        text_field("privacy.breach.subjects_count", "subjects_count", input_mode="numeric",
                   error=e["subjects_count"]),
        text_field("privacy.breach.consequences", "consequences", max_length=1000,
                   error=e["consequences"]),
        text_field("privacy.breach.measures", "measures", max_length=1000,
                   error=e["measures"]),
        text_field("privacy.breach.contact", "contact", max_length=200, error=e["contact"]),
        submit_button("privacy.breach.save", id="breach-save"),
        on_submit=s.record_breach, form_id="breach-form", summary_id="breach-new-toggle",
    )


def _account_view() -> rx.Component:
    s = AdminPrivacyState
    e: Any = s.errors
    return disclosure(
        "privacy.admin.account_audit",
        form_column(
            text_field("privacy.admin.username", "username", max_length=64,
                       error=e["username"]),
            rx.grid(
                text_field("privacy.audit.from", "start", type="date",
                           default_value=s.month_ago, error=e["start"]),
                text_field("privacy.audit.to", "end", type="date", default_value=s.today,
                           error=e["end"]),
                columns="2", gap="8px"),
            select_field("privacy.col.kind", "kind", KIND_OPTIONS),
            submit_button("privacy.audit.show", id="account-audit-submit"),
            on_submit=s.account_audit,
            form_id="account-form",
            padding_top="12px",
        ),
        rx.cond(s.account_shown != "", rx.box(
            rx.text(tr("privacy.admin.account_of"), " ", s.account_shown, weight="bold",
                    margin_y="8px"),
            audit_list(s.account_rows, "account-audit", "privacy.audit.none"))),
        summary_id="account-audit-toggle",
        style={"marginTop": "12px"},
    )


def _record_view() -> rx.Component:
    e: Any = AdminPrivacyState.errors
    return form_panel(
        "privacy.admin.record_audit",
        rx.text(tr("privacy.admin.record_hint"), size="2", color="var(--gray-11)"),
        text_field("privacy.request.client_number", "client_id", input_mode="numeric",
                   error=e["client_id"]),
        submit_button("privacy.audit.show", id="record-audit-submit"),
        on_submit=AdminPrivacyState.open_record_audit, form_id="record-form",
        summary_id="record-audit-toggle",
    )


def _glass_list() -> rx.Component:
    s = AdminPrivacyState
    return disclosure(
        "privacy.glass.review",
        rx.cond(s.glass.length() > 0, rx.box(rx.foreach(s.glass, lambda r: rx.box(
            rx.text(tr("privacy.request.client"), " ", r["client"], " · ", r["who"], " (",
                    bi(r, "role"), ") · ", bi(r, "reason_kind"), size="2", weight="bold"),
            rx.text(r["reason"], size="2"),
            rx.text(r["opened"], " → ", r["expires"], size="2", color="var(--gray-11)"),
            padding="8px 0", border_bottom="1px solid var(--gray-4)")), id="admin-glass"),
            empty_note("privacy.glass.none")),
        summary_id="admin-glass-toggle",
        style={"marginTop": "12px"},
    )


def _retention() -> rx.Component:
    s = AdminPrivacyState
    r: Any = s.retention
    return disclosure(
        "privacy.retention.title",
        rx.text(tr("privacy.retention.hint"), size="2", color="var(--gray-11)"),
        rx.button(tr("privacy.retention.dry_run"), on_click=s.retention_plan, size="3",
                  variant="soft", margin_top="8px", id="retention-dry-run"),
        rx.cond(s.retention.contains("clients"), rx.box(
            rx.text(tr("privacy.retention.clients"), " (", r["client_cutoff"], "): ",
                    r["clients"], " — ", r["ids"], size="2"),
            rx.text(tr("privacy.retention.held"), ": ", r["held"], size="2"),
            rx.text(tr("privacy.retention.notes"), " (", r["notes_cutoff"], "): ", r["notes"],
                    size="2"),
            rx.text(tr("privacy.retention.command"), size="2", color="var(--gray-11)"),
            rx.code("python -m app.cli retention --apply"),
            id="retention-result", margin_top="8px")),
        summary_id="retention-toggle",
        style={"marginTop": "12px"},
    )


def _calendar_and_terms() -> rx.Component:
    s = AdminPrivacyState
    e: Any = s.errors
    return disclosure(
        "privacy.terms.title",
        rx.el.ul(rx.foreach(s.terms, lambda tm: rx.el.li(
            rx.text(tm["code"], ": ", tm["amount"], " ", bi(tm, "unit"),
                    rx.cond(tm["review"] == "1", rx.badge(tr("privacy.terms.needs_review"),
                                                          color_scheme="amber", margin_left="6px")),
                    size="2", weight="medium"),
            rx.text(tm["basis"], size="1", color="var(--gray-11)"),
            padding_y="4px")), style={"paddingLeft": "0", "listStyle": "none"}, id="terms"),
        form_column(
            text_field("privacy.terms.code", "code", max_length=60, error=e["code"]),
            text_field("privacy.terms.amount", "amount", input_mode="numeric",
                       error=e["amount"]),
            text_field("privacy.terms.basis", "legal_basis", max_length=300,
                       error=e["legal_basis"]),
            submit_button("privacy.terms.save", id="term-save"),
            spacing="2",
            on_submit=s.update_term,
            form_id="term-form",
            margin_top="8px",
        ),
        section_heading("privacy.holiday.title"),
        rx.el.ul(rx.foreach(s.holidays, lambda h: rx.el.li(
            rx.text(h["on"], " — ", h["name"], size="2"), padding_y="2px")),
            style={"paddingLeft": "0", "listStyle": "none"}, id="holidays"),
        form_column(
            text_field("privacy.holiday.on", "on", type="date", error=e["on"]),
            text_field("privacy.holiday.name", "name", max_length=120, error=e["name"]),
            submit_button("privacy.holiday.add", id="holiday-add"),
            spacing="2",
            on_submit=s.add_holiday,
            form_id="holiday-form",
            margin_top="8px",
        ),
        summary_id="terms-toggle",
        style={"marginTop": "12px"},
    )


def admin_privacy_page() -> rx.Component:
    s = AdminPrivacyState
    return app_frame(
        "privacy.admin.title",
        outcome_callouts(s.error, s.saved, "admin-privacy"),
        section_heading("privacy.breach.title"),
        rx.cond(s.breaches.length() > 0, rx.box(rx.foreach(s.breaches, _breach_card),
                                                id="breaches"),
                empty_note("privacy.breach.none", note_id="breaches-empty")),
        _breach_form(),
        section_heading("privacy.admin.audit"),
        _account_view(),
        _record_view(),
        _glass_list(),
        section_heading("privacy.admin.records"),
        _retention(),
        _calendar_and_terms(),
        download_buttons(s.inventory, "inventory", "privacy.inventory.xlsx",
                         "privacy.inventory.pdf", margin_top="16px"),
    )

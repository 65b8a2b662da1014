""""Ai đã xem hồ sơ này": the audit of one client's records, for supervisors (their scope)
and administrators (any record, by its number; the screen shows no field of the record).
Volunteers and clinic staff cannot call it (guard) and the service refuses them too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx

from app.components.client_cards import bi, empty_note, loading_note, section_heading
from app.components.forms import select_field, submit_button, text_field
from app.components.frame import app_frame
from app.components.privacy_forms import download_buttons
from app.pages.privacy_common import Row, as_date, audit_row, client_id_in
from app.services import privacy
from app.services.calendar import today_vn
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

KIND_OPTIONS = [("", "privacy.kind.all"), *[(k, f"privacy.kind.{k}") for k in privacy.KINDS]]


class ClientAuditState(AppState):
    number: str = ""
    view: str = "loading"  # loading | found | missing
    rows: list[Row] = []
    start: str = ""
    end: str = ""
    kind: str = ""
    error: str = ""

    _client_id: int = 0

    async def _fetch(self) -> None:
        cid = self._client_id
        start, end = as_date(self.start), as_date(self.end)
        kind = self.kind
        if start is None or end is None:
            self.error = await self._text("error.invalid_value")
            return
        outcome = await self._run(lambda db, actor: privacy.client_audit(
            session=db, actor=actor, client_id=cid, start=start, end=end, kind=kind))
        self.error = outcome.error
        if outcome.value is None:
            if not outcome.fields:
                self.view, self.rows, self._client_id, self.number = "missing", [], 0, ""
            return
        self.view = "found"
        self.rows = [audit_row(i, r) for i, r in enumerate(outcome.value)]

    @guarded(Role.SUPERVISOR, Role.ADMIN)
    async def load(self) -> Any:
        """on_load: the last 30 days of the record in the address."""
        self.view, self.rows, self.error = "loading", [], ""
        cid = client_id_in(str(self.router.url.path))
        if cid is None:
            self.view = "missing"
            return None
        today = today_vn()
        self._client_id, self.number = cid, str(cid)
        self.start, self.end, self.kind = (today - timedelta(days=30)).isoformat(), \
            today.isoformat(), ""
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR, Role.ADMIN)
    async def filter(self, form_data: dict[str, Any]) -> Any:
        """Show another period or kind."""
        if not self._client_id:
            return None
        self.start = str(form_data.get("start", ""))[:10]
        self.end = str(form_data.get("end", ""))[:10]
        kind = str(form_data.get("kind", ""))[:20]
        self.kind = kind if kind in privacy.KINDS else ""
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR, Role.ADMIN)
    async def download(self, fmt: str) -> Any:
        """The list on screen as Excel or PDF (audited as an export)."""
        cid, kind = self._client_id, self.kind
        start, end = as_date(self.start), as_date(self.end)
        if not cid or start is None or end is None or fmt not in ("xlsx", "pdf"):
            return None
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: privacy.client_audit_export(
            session=db, actor=actor, client_id=cid, start=start, end=end, kind=kind, fmt=fmt,
            lang=lang))
        if outcome.value is None:
            self.error = outcome.error
            return None
        mime = "application/pdf" if fmt == "pdf" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return rx.download(data=outcome.value, filename=f"nhat-ky-ho-so-{cid}.{fmt}",
                           mime_type=mime)


def audit_item(row: Any) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.text(row["when"], " · ", bi(row, "kind_label"), weight="bold", size="3"),
            rx.text(row["who"], " (", bi(row, "role"), ")", size="2"),
            rx.text(bi(row, "screen"), " · ", row["record"], " · ", bi(row, "outcome"),
                    size="2", color="var(--gray-11)"),
            direction="column",
            spacing="1",
        ),
        padding="10px 12px",
        border_bottom="1px solid var(--gray-4)",
        list_style="none",
        id=row["id"],
    )


def audit_list(rows: rx.Var, list_id: str, empty_key: str) -> rx.Component:
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.ul(rx.foreach(rows, audit_item), id=list_id,
                 style={"padding": "0", "margin": "0", "background": "white",
                        "borderRadius": "12px", "border": "1px solid var(--gray-5)"}),
        empty_note(empty_key, note_id=f"{list_id}-empty"),
    )


def client_audit_page() -> rx.Component:
    s = ClientAuditState
    return app_frame(
        "privacy.audit.title",
        rx.match(
            s.view,
            ("found", rx.fragment(
                rx.text(tr("privacy.audit.record"), " ", s.number, size="3", weight="bold",
                        id="audit-record"),
                rx.text(tr("privacy.audit.hint"), size="2", color="var(--gray-11)"),
                rx.form(
                    rx.grid(
                        text_field("privacy.audit.from", "start", type="date",
                                   default_value=s.start, key=s.start),
                        text_field("privacy.audit.to", "end", type="date",
                                   default_value=s.end, key=s.end),
                        columns="2", gap="8px",
                    ),
                    select_field("privacy.col.kind", "kind", KIND_OPTIONS),
                    rx.box(submit_button("privacy.audit.show", id="audit-filter"),
                           margin_top="8px"),
                    on_submit=s.filter,
                    margin_top="12px",
                ),
                rx.cond(s.error != "", rx.callout(s.error, color_scheme="red", role="alert",
                                                 id="audit-error", margin_top="8px")),
                section_heading("privacy.audit.events"),
                audit_list(s.rows, "audit-list", "privacy.audit.none"),
                download_buttons(s.download, "audit", "privacy.download_xlsx",
                                 "privacy.download_pdf", margin_top="12px"),
            )),
            ("missing", empty_note("privacy.audit.missing", note_id="audit-missing")),
            loading_note(),
        ),
    )

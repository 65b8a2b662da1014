"""What the privacy screens share: reading ids and dates from the browser, rows for lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.components.client_cards import bilingual
from app.services.calendar import LOCAL_TZ
from app.services.privacy import AuditRow

Row = dict[str, str]


def as_id(raw: Any) -> int | None:
    """A record id from the browser (ints may arrive as strings), or None."""
    text = str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 9 else None


def as_date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        return None


def client_id_in(path: str) -> int | None:
    """The id in '/clients/<id>/...' (anything else: None)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    return as_id(parts[1]) if len(parts) >= 2 and parts[0] == "clients" else None


def local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if moment else ""


def audit_row(index: int, row: AuditRow) -> Row:
    """One audit event for a list: when, who and role, screen, kind, record, outcome."""
    return {
        "id": f"audit-{index}",
        "when": local(row.at),
        "who": row.actor_name or "—",
        "record": f"{row.target_type} #{row.target_id}" if row.target_id is not None
        else row.target_type,
        "kind": row.kind,
        **bilingual("role", f"privacy.role.{row.role}" if row.role else None),
        **bilingual("screen", row.screen_key),
        **bilingual("kind_label", f"privacy.kind.{row.kind}"),
        **bilingual("outcome", f"privacy.outcome.{row.outcome}"),
    }

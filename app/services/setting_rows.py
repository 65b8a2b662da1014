"""The deployment's setting rows (`Setting`: one text value a key), read and written one way."""

from __future__ import annotations

from sqlmodel import Session

from models import Setting


def setting_text(session: Session, key: str) -> str:
    """The row's value without surrounding blanks; "" when there is no row."""
    row = session.get(Setting, key)
    return row.value.strip() if row is not None else ""


def write_setting(session: Session, key: str, value: str) -> bool:
    """Set the row (made when missing); True if its value changed."""
    row = session.get(Setting, key)
    if row is not None and row.value == value:
        return False
    if row is None:
        row = Setting(key=key, value=value)
    row.value = value
    session.add(row)
    return True

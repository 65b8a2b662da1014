"""A form's usual shape: its fields one under another, checked in the page (`checked_form`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import checked_form


def form_column(*fields: rx.Component, on_submit: Any, form_id: str, spacing: str = "3",
                **form_props: Any) -> rx.Component:
    """A form checked in the page, its fields (and its button) in one column."""
    return checked_form(rx.flex(*fields, direction="column", spacing=spacing),
                        on_submit=on_submit, form_id=form_id, **form_props)

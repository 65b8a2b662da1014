"""A form's usual shapes: its fields one under another, checked in the page (`checked_form`);
the same folded under its title."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import disclosure
from app.components.forms import checked_form


def form_column(*fields: rx.Component, on_submit: Any, form_id: str, spacing: str = "3",
                **form_props: Any) -> rx.Component:
    """A form checked in the page, its fields (and its button) in one column."""
    return checked_form(rx.flex(*fields, direction="column", spacing=spacing),
                        on_submit=on_submit, form_id=form_id, **form_props)


def form_panel(title_key: str, *fields: rx.Component, on_submit: Any, form_id: str,
               summary_id: str, before: tuple[rx.Component, ...] = (),
               spacing: str = "3", **form_props: Any) -> rx.Component:
    """A form folded under its title: fields in a column, checked in the page."""
    return disclosure(
        title_key,
        *before,
        form_column(*fields, on_submit=on_submit, form_id=form_id, spacing=spacing,
                    padding_top="12px", **form_props),
        summary_id=summary_id,
        style={"marginTop": "12px"},
    )

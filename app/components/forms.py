"""Form pieces for one-hand phone use: labelled fields with their error, big targets."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.state.lang import tr


def field_error(message: rx.Var | str, *, field_id: str) -> rx.Component:
    """The error under a field: announced to screen readers, shown only when non-empty."""
    return rx.cond(
        message != "",
        rx.text(message, id=f"{field_id}-error", color="var(--red-11)", size="2", role="alert"),
    )


def labelled(
    label_key: str,
    control: rx.Component,
    *,
    field_id: str,
    error: rx.Var | str = "",
    hint_key: str | None = None,
) -> rx.Component:
    """A label above its control, an optional hint, and the field's error below."""
    return rx.flex(
        rx.el.label(tr(label_key), html_for=field_id, font_weight="500"),
        *([rx.text(tr(hint_key), size="1", color="var(--gray-11)")] if hint_key else []),
        control,
        field_error(error, field_id=field_id),
        direction="column",
        gap="1",
        width="100%",
    )


def text_field(
    label_key: str,
    name: str,
    *,
    error: rx.Var | str = "",
    hint_key: str | None = None,
    **props: Any,
) -> rx.Component:
    """An uncontrolled input submitted with its form (`name`); what was typed survives errors."""
    props.setdefault("size", "3")
    props.setdefault("width", "100%")
    return labelled(
        label_key,
        rx.input(id=name, name=name, aria_invalid=rx.cond(error != "", "true", "false"), **props),
        field_id=name,
        error=error,
        hint_key=hint_key,
    )


def select_field(
    label_key: str,
    name: str,
    options: list[tuple[str, str]],
    *,
    error: rx.Var | str = "",
    default: str | None = None,
    **props: Any,
) -> rx.Component:
    """A native select (fast and accessible on cheap phones). options: (value, label key)."""
    return labelled(
        label_key,
        rx.el.select(
            *[rx.el.option(tr(label), value=value) for value, label in options],
            id=name,
            name=name,
            default_value=default or (options[0][0] if options else ""),
            style={
                "minHeight": "44px",
                "fontSize": "16px",
                "padding": "8px",
                "borderRadius": "8px",
                "border": "1px solid var(--gray-7)",
                "background": "white",
                "width": "100%",
            },
            **props,
        ),
        field_id=name,
        error=error,
    )


def checkbox_field(label_key: str, name: str, *, default: bool = False) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            name=name,
            id=name,
            default_checked=default,
            style={"width": "22px", "height": "22px"},
        ),
        tr(label_key),
        html_for=name,
        style={"display": "flex", "gap": "10px", "alignItems": "center", "minHeight": "44px"},
    )


def submit_button(label_key: str, *, busy: rx.Var | bool = False, **props: Any) -> rx.Component:
    return rx.button(
        rx.cond(busy, rx.spinner(size="2"), rx.fragment()),
        tr(label_key),
        type="submit",
        size="3",
        width="100%",
        disabled=busy,
        **props,
    )


def form_message(error: rx.Var, success: rx.Var) -> rx.Component:
    """The form-level outcome: an error (with the fields highlighted) or a confirmation."""
    return rx.fragment(
        rx.cond(
            error != "",
            rx.callout(
                error, icon="triangle-alert", color_scheme="red", role="alert", id="form-error"
            ),
        ),
        rx.cond(
            success != "",
            rx.callout(
                success, icon="circle-check", color_scheme="green", role="status", id="form-success"
            ),
        ),
    )

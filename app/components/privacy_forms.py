"""What the privacy screens (consent, the requests desk, the administrator's privacy page) and
the registration form share: who gave a consent and how, a record card and the outcome callouts
(their folded forms are `app.components.panels.form_panel`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.forms import choice_group, text_field
from app.state.lang import tr

# The consent-giver fields, by their name on the consent page; a form that has other fields
# of these names (registration) prefixes them (`giver_fields(prefix=...)`).
GIVER_FIELDS = ("given_by", "representative_name", "representative_relation", "method",
                "form_number")


def giver_fields(errors: Any, *, prefix: str = "") -> list[rx.Component]:
    """Who gave the consent (the person, or a representative named with their relation) and
    how (on screen, or a paper form and its number). `errors` maps the fields' names (with
    the prefix) to their messages."""
    return [
        choice_group("privacy.consent.given_by", f"{prefix}given_by",
                     [("subject", "privacy.consent.subject"),
                      ("representative", "privacy.consent.representative")],
                     default="subject", error=errors[f"{prefix}given_by"], columns="2"),
        text_field("privacy.field.representative_name", f"{prefix}representative_name",
                   max_length=120, error=errors[f"{prefix}representative_name"]),
        text_field("privacy.field.representative_relation",
                   f"{prefix}representative_relation", max_length=60,
                   error=errors[f"{prefix}representative_relation"]),
        choice_group("privacy.field.method", f"{prefix}method",
                     [("screen", "privacy.consent.screen"), ("paper", "privacy.consent.paper")],
                     default="screen", error=errors[f"{prefix}method"], columns="2"),
        text_field("privacy.field.form_number", f"{prefix}form_number", max_length=40,
                   error=errors[f"{prefix}form_number"]),
    ]


def giver_values(form_data: dict[str, Any], *, prefix: str = "") -> dict[str, str]:
    """The giver fields of a submitted form, bounded, by their unprefixed names (a field
    not on screen arrives as None: its default)."""
    def text(name: str, limit: int, default: str = "") -> str:
        value = form_data.get(prefix + name)
        return str(value)[:limit] if value not in (None, "") else default

    return {
        "given_by": text("given_by", 20, "subject"),
        "representative_name": text("representative_name", 200),
        "representative_relation": text("representative_relation", 100),
        "method": text("method", 20, "screen"),
        "form_number": text("form_number", 60),
    }


def outcome_callouts(error: rx.Var, saved: rx.Var, prefix: str) -> rx.Component:
    """A screen's last outcome: the refusal (`<prefix>-error`) or what was saved."""
    return rx.fragment(
        rx.cond(error != "", rx.callout(error, color_scheme="red", role="alert",
                                        id=f"{prefix}-error", high_contrast=True)),
        rx.cond(saved != "", rx.callout(saved, color_scheme="green", role="status",
                                        id=f"{prefix}-saved", high_contrast=True)),
    )


def record_card(*children: rx.Component, card_id: Any, tone: str = "gray",
                **props: Any) -> rx.Component:
    """One record of a list (a consent, a request, a breach, a break-glass opening)."""
    border, background = (("var(--amber-7)", "var(--amber-2)") if tone == "amber"
                          else ("var(--gray-5)", "white"))
    props.setdefault("padding", "12px")
    return rx.box(*children, border=f"1px solid {border}", border_radius="12px",
                  background=background, margin_bottom="8px", id=card_id, **props)


def card_title(title: rx.Component, badge: rx.Component) -> rx.Component:
    """A card's first line: what it is, and its state as a badge on the right."""
    return rx.flex(title, badge, justify="between", align="center", wrap="wrap", gap="4px")


def download_buttons(download: Any, prefix: str, xlsx_key: str, pdf_key: str,
                     **props: Any) -> rx.Component:
    """The same list as a spreadsheet and as a PDF, side by side: `download` is the handler
    taking the format; the buttons are `<prefix>-xlsx` and `<prefix>-pdf`."""
    return rx.grid(
        *[rx.button(rx.icon(icon, size=18), tr(key), on_click=download(fmt), variant="soft",
                    size="3", id=f"{prefix}-{fmt}")
          for fmt, icon, key in (("xlsx", "sheet", xlsx_key), ("pdf", "file-text", pdf_key))],
        columns="2", gap="8px", **props,
    )

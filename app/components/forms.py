"""Form pieces for one-hand phone use: labelled fields with their error, big targets; forms
checked in the page (no browser bubbles); the confirmation shown after a save."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex_base.components.component import Component
from reflex_base.constants.compiler import MemoizationMode
from reflex_components_core.core.upload import Upload
from reflex_components_core.el.elements.forms import Fieldset, _is_form_control_component

from app.components.client_cards import drawn_together
from app.state.lang import tr
from app.state.session import AppState

# --- forms answered in the page ---------------------------------------------------------------
# A form is `checked_form(...)`: `novalidate`, so the browser never answers with its own bubble
# (in the phone's language, gone in seconds). Its handler checks every field on the server and
# puts each problem next to its field (`field_error`, in the app's language); on a refusal it
# returns `focus_first_problem(form_id)`, which moves the focus to the first field in trouble.

# Waits for the errors to be drawn, then focuses the first field that has one (a group of
# choices: its first choice) and scrolls it to the middle of the screen. The page draws the
# server's state in slices (app/frontend_build.py: defer_state_reads), so one field's error can
# be drawn before another's above it: the errors count as drawn once two looks 50 ms apart
# find the same ones (after 5 s, whatever is there).
_FOCUS_FIRST_PROBLEM_JS = (
    "(() => {{ let n = 0, seen = ''; const go = () => {{"
    " const form = document.getElementById('{form_id}'); if (!form) return;"
    " const errs = form.querySelectorAll('[data-field-error]');"
    " const now = Array.from(errs, (e) => e.getAttribute('data-field-error')).join(' ');"
    " if (!now || now !== seen) {{ seen = now; if (n++ < 100) {{ setTimeout(go, 50); return; }}"
    " if (!now) return; }}"
    " const err = errs[0];"
    " const name = err.getAttribute('data-field-error');"
    " const group = document.getElementById(name + '-group');"
    " const field = (group && group.querySelector('input, select, textarea'))"
    " || document.getElementById(name) || form.querySelector('[name=\"' + name + '\"]');"
    " const target = field || err;"
    " if (!field) target.setAttribute('tabindex', '-1');"
    " target.scrollIntoView({{block: 'center'}}); target.focus({{preventScroll: true}});"
    " }}; go(); }})()"
)


def focus_first_problem(form_id: str) -> Any:
    """The event a handler returns when it refused a form: focus on its first problem."""
    return rx.call_script(_FOCUS_FIRST_PROBLEM_JS.format(form_id=form_id))


def checked_form(*children: rx.Component, on_submit: Any, form_id: str,
                 **props: Any) -> rx.Component:
    """A form checked by us, not by the browser (see above). What was typed survives errors."""
    props.setdefault("reset_on_submit", False)
    return rx.form(*children, on_submit=on_submit, no_validate=True, id=form_id, **props)


# --- fields ------------------------------------------------------------------------------------
# A form draws a label, a hint, a control and an error slot per field, a few dozen per page.
# They are plain elements wearing Radix Themes' classes and the app's (assets/forms.css): the
# look of Radix's Flex, Grid and TextField without a React component and a run-time style
# (Emotion) per element, which a trace showed to be most of a record form's components.
# A field is also one memoised React component (client_cards.drawn_together), not one per
# translated label, hint and option and one for its error.


class _FieldGroup(Fieldset):
    """A group's `fieldset`, drawn with all its choices by one memoised component."""

    _memoization_mode = MemoizationMode(recursive=False)


def field_error(message: rx.Var | str, *, field_id: str) -> rx.Component:
    """The error under a field: announced to screen readers, shown only when non-empty."""
    return rx.cond(
        message != "",
        rx.text(message, id=_no_ref(f"{field_id}-error"), color="var(--red-11)", size="2",
                role="alert", custom_attrs={"data-field-error": field_id}),
    )


def _no_ref(element_id: str) -> rx.Var[str]:
    """An id that stays an attribute only: Reflex gives a static id a React ref (a hook and a
    prop in the screen's code) for `rx.set_focus`/`set_value`, which these never need; a
    field's error and a group's fieldset are ~100 ids on the offline screens (issue 20)."""
    return rx.Var.create(element_id)


def without_unused_refs(screen: rx.Component) -> rx.Component:
    """`screen` with every static id kept as an attribute only (`_no_ref`), except on form
    controls and drop zones. Reflex gives each static id a React ref, a hook and a prop in
    the screen's code, ~300 on the offline screens; only three things here read one: a form's
    submit (its controls' values, by ref), `rx.set_focus`/`set_value` (not used: a refused
    form is focused by `getElementById`) and a drop zone (`rx.upload`, by its id). Everything
    else, the device's code and the browser tests included, finds an element by its id in the
    page, which stays. Each screen's code: ~1.4 KB less in the service worker's pack (issue
    20)."""
    seen: set[int] = set()
    pending: list[Any] = [screen]
    while pending:
        node = pending.pop()
        if id(node) in seen or not isinstance(node, Component) or isinstance(node, Upload):
            continue  # a drop zone, with what it draws inside, stays as rx.upload made it
        seen.add(id(node))
        if isinstance(node.id, str) and not _is_form_control_component(node):
            node.id = _no_ref(node.id)
            node._clear_compile_caches()  # its ref hook, already collected by a form's create
        pending.extend(node.children)
        pending.extend(node._get_components_in_props())
    return screen


# A drop zone (rx.upload) draws its own file input, without a label: once it is on the page,
# it is named after the zone's button (the user's way to it).
_NAME_FILE_INPUT_JS = (
    "(() => {{ let n = 0; const go = () => {{"
    " const input = document.querySelector('#{upload_id} input[type=file]');"
    " if (input) input.setAttribute('aria-label', {label});"
    " else if (n++ < 100) setTimeout(go, 50); }}; go(); }})()"
)


def name_file_input(upload_id: str, label: str) -> Any:
    """The event naming a drop zone's file input `label` (in the user's language)."""
    return rx.call_script(_NAME_FILE_INPUT_JS.format(upload_id=upload_id,
                                                     label=json.dumps(label)))


def name_file_input_after_button(upload_id: str) -> Any:
    """`name_file_input` with the zone's button's own text (already in the user's language):
    for a zone drawn later, in the browser alone (e.g. in a `lazy_disclosure`)."""
    label = (f"(document.querySelector('#{upload_id} button')?.textContent || '')"
             ".trim()")
    return rx.call_script(_NAME_FILE_INPUT_JS.format(upload_id=upload_id, label=label))


# --- after a save -------------------------------------------------------------------------------


def saved_notice() -> rx.Component:
    """What the last save saved, at the top of the screen (the app frame draws it above the
    content, so a form that stays open has it above the form). A live region that is always
    there, so that its new text is announced; focusable, so that it can take the focus.
    Handlers set it with `AppState._confirm_saved(key, route=...)`."""
    return rx.box(
        rx.cond(
            AppState.saved_message != "",
            rx.callout(AppState.saved_message, icon="circle-check", color_scheme="green",
                       high_contrast=True, size="2", margin_bottom="12px"),
        ),
        id="saved-notice",
        role="status",
        aria_live="polite",
        tab_index=-1,
        # Below the sticky top bar when scrolled into view.
        scroll_margin_top="72px",
        outline="none",
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
    return drawn_together(
        rx.el.label(tr(label_key), html_for=field_id, class_name="dh-label"),
        *([rx.el.p(tr(hint_key), class_name="rt-Text rt-r-size-1 dh-hint")] if hint_key else []),
        control,
        field_error(error, field_id=field_id),
        class_name="rt-Flex rt-r-fd-column rt-r-gap-1 dh-field",
    )


# Props of Radix's TextField that the plain input below does not take: with any of them the
# field stays a Radix TextField.
_RADIX_ONLY = {"variant", "radius", "color_scheme", "high_contrast", "color"}


def text_input(*, input_class: str = "", **props: Any) -> rx.Component:
    """What `rx.input(size=…, width="100%")` draws (Radix's TextField.Root: a box wearing
    `rt-TextFieldRoot` around an `rt-TextFieldInput`), as two plain elements."""
    size = props.pop("size", "3")
    width = props.pop("width", "100%")
    if width != "100%" or _RADIX_ONLY & props.keys():
        return rx.input(size=size, width=width, **props)
    props.setdefault("spell_check", False)
    return rx.el.div(
        rx.el.input(class_name=f"rt-reset rt-TextFieldInput {input_class}".strip(), **props),
        class_name=f"rt-TextFieldRoot rt-r-size-{size} rt-variant-surface dh-input",
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
        text_input(id=name, name=name, aria_invalid=rx.cond(error != "", "true", "false"),
                   aria_describedby=f"{name}-error", **props),
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
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{name}-error",
            class_name="dh-select",
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
            class_name="dh-check-box",
        ),
        tr(label_key),
        html_for=name,
        class_name="dh-check",
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


# --- record-form fields (visits, tests, referrals, support, outreach, group activities) ------



def _group(
    label_key: str,
    name: str,
    items: list[rx.Component],
    *,
    error: rx.Var | str,
    hint_key: str | None,
    columns: str,
) -> rx.Component:
    """A fieldset whose legend labels the group; the error sits right under the choices."""
    return _FieldGroup.create(
        rx.el.legend(tr(label_key), class_name="dh-legend"),
        *([rx.el.p(tr(hint_key), class_name="rt-Text rt-r-size-1 dh-hint")] if hint_key else []),
        rx.el.div(*items, class_name=f"dh-choices dh-cols-{columns}"),
        field_error(error, field_id=name),
        id=_no_ref(f"{name}-group"),
        aria_describedby=f"{name}-error",
        class_name="dh-fieldset",
    )


def choice_group(
    label_key: str,
    name: str,
    options: list[tuple[str, str]],
    *,
    default: str | None = None,
    required: bool = False,
    error: rx.Var | str = "",
    hint_key: str | None = None,
    columns: str = "1",
) -> rx.Component:
    """Big radio buttons, one choice. options: (value, label key). Uncontrolled: survive errors."""
    items = [
        rx.el.label(
            rx.el.input(
                type="radio",
                name=name,
                value=value,
                id=f"{name}-{value}",
                default_checked=value == default,
                required=required,
                class_name="dh-tick",
            ),
            tr(label),
            html_for=f"{name}-{value}",
            class_name="dh-choice",
        )
        for value, label in options
    ]
    return _group(label_key, name, items, error=error, hint_key=hint_key, columns=columns)


def check_group(
    label_key: str,
    name: str,
    options: list[tuple[str, str]],
    *,
    defaults: tuple[str, ...] = (),
    error: rx.Var | str = "",
    hint_key: str | None = None,
    columns: str = "1",
) -> rx.Component:
    """Several checkboxes; each submits as `<name>_<value>` (present only when ticked)."""
    items = [
        rx.el.label(
            rx.el.input(
                type="checkbox",
                name=f"{name}_{value}",
                id=f"{name}_{value}",
                default_checked=value in defaults,
                class_name="dh-tick",
            ),
            tr(label),
            html_for=f"{name}_{value}",
            class_name="dh-choice",
        )
        for value, label in options
    ]
    return _group(label_key, name, items, error=error, hint_key=hint_key, columns=columns)


def ticked(form_data: dict[str, Any], name: str, values: list[str]) -> list[str]:
    """The values of a `check_group` that were ticked, in the order of `values`."""
    return [value for value in values if form_data.get(f"{name}_{value}")]


def date_field(
    label_key: str,
    name: str,
    *,
    default: rx.Var | str = "",
    max_date: rx.Var | str | None = None,
    min_date: rx.Var | str | None = "2000-01-01",
    required: bool = True,
    error: rx.Var | str = "",
    hint_key: str | None = None,
) -> rx.Component:
    """A native date picker (value yyyy-mm-dd); the browser shows it as the phone's locale."""
    props: dict[str, Any] = {"type": "date", "required": required, "default_value": default}
    if max_date is not None:
        props["max"] = max_date
    if min_date is not None:
        props["min"] = min_date
    return text_field(label_key, name, error=error, hint_key=hint_key, **props)


def number_field(
    label_key: str,
    name: str,
    *,
    default: str = "",
    minimum: int = 0,
    maximum: int = 100_000,
    required: bool = False,
    error: rx.Var | str = "",
    hint_key: str | None = None,
) -> rx.Component:
    """A whole number with the phone's digit keypad."""
    return text_field(
        label_key,
        name,
        type="number",
        input_mode="numeric",
        min=minimum,
        max=maximum,
        step=1,
        required=required,
        default_value=default,
        error=error,
        hint_key=hint_key,
    )


# Groups digits by thousands with dots as the user leaves the field: "50000000" -> "50.000.000".
_GROUP_DIGITS_JS = (
    "(() => {{ const el = document.getElementById('{id}'); if (!el) return;"
    " const d = el.value.replace(/[^0-9]/g, '');"
    " if (d && /^[0-9 .]*$/.test(el.value.trim()))"
    " el.value = d.replace(/^0+(?=[0-9])/, '')"
    ".replace(/\\B(?=([0-9]{{3}})+(?![0-9]))/g, '.'); }})()"
)


def money_field(
    label_key: str,
    name: str,
    *,
    error: rx.Var | str = "",
    hint_key: str | None = None,
) -> rx.Component:
    """An amount in whole đồng, typed with or without dots ("50.000.000" or "50000000")."""
    return text_field(
        label_key,
        name,
        type="text",
        input_mode="numeric",
        pattern="[0-9][0-9. ]*",
        max_length=20,
        auto_complete="off",
        on_blur=rx.call_script(_GROUP_DIGITS_JS.format(id=name)),
        error=error,
        hint_key=hint_key,
    )


def parse_vnd(raw: str) -> int | None:
    """Whole đồng from "50.000.000", "50 000 000", "50000000" or "50.000.000 đ"; else None."""
    text = raw.strip().lower().removesuffix("đ").removesuffix("vnd").strip()
    if not text or not all(c.isdigit() or c in ". " for c in text) or not text[0].isdigit():
        return None
    digits = text.replace(".", "").replace(" ", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        return None
    return int(digits)


def format_vnd(amount: int) -> str:
    """50000000 -> "50.000.000 đ" (dots group thousands, as written in Vietnam)."""
    return f"{amount:,}".replace(",", ".") + " đ"


def textarea_field(
    label_key: str,
    name: str,
    *,
    max_length: int,
    error: rx.Var | str = "",
    hint_key: str | None = None,
    rows: str = "3",
) -> rx.Component:
    return labelled(
        label_key,
        rx.text_area(
            id=name,
            name=name,
            max_length=max_length,
            rows=rows,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        field_id=name,
        error=error,
        hint_key=hint_key,
    )

"""A field's error slot and a group's fieldset keep their ids as attributes, without a React
ref each (forms._no_ref): only the controls' refs, which fill a form's data, are left (issue 20)."""

from __future__ import annotations

import reflex as rx

from app.components.forms import checked_form, choice_group, text_field


def test_only_the_controls_of_a_form_have_refs_and_every_id_is_on_the_page() -> None:
    form = checked_form(
        text_field("common.loading", "phone", error="x"),
        choice_group("common.loading", "kind", [("home", "common.loading")], error="y"),
        on_submit=rx.console_log("saved"),
        form_id="visit-form",
    )
    refs = set(form._get_all_refs())
    assert {"ref_phone", "ref_kind_home"} <= refs
    assert not refs & {"ref_phone_error", "ref_kind_group", "ref_kind_error"}
    assert {"phone", "kind_home"} <= set(form._get_form_refs())  # the form still reads them
    page = str(form.render())
    for element_id in ("phone", "phone-error", "kind-group", "kind-home", "kind-error"):
        assert f'"{element_id}"' in page, element_id

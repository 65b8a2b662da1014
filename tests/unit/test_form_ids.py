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


def test_a_screen_keeps_refs_only_on_its_form_controls_and_drop_zones() -> None:
    """`without_unused_refs`, as every screen's frame applies it: a button, a link, a box or a
    form's own id lose their React ref (nothing reads one) and keep their id on the page."""
    from app.components.forms import without_unused_refs

    screen = without_unused_refs(rx.box(
        rx.button("Save", id="save-button"),
        rx.cond(rx.State.is_hydrated, rx.text("ready", id="ready-note")),
        checked_form(text_field("common.loading", "phone"), on_submit=rx.console_log("saved"),
                     form_id="visit-form"),
        rx.upload.root(rx.button("Pick", id="pick-button"), id="photo-zone"),
        id="main",
    ))
    assert set(screen._get_all_refs()) == {"ref_phone", "ref_photo_zone", "ref_pick_button"}
    page = str(screen.render())
    for element_id in ("main", "save-button", "ready-note", "visit-form", "phone", "photo-zone",
                       "pick-button"):
        assert f'"{element_id}"' in page, element_id


def test_a_form_drawn_before_the_pass_loses_the_hooks_of_the_refs_it_lost() -> None:
    """A form collects its children's hooks when it is made (for its submit handler's name),
    before a screen's pass: no `useRef` of a dropped ref may stay behind in the page."""
    from app.components.forms import submit_button, without_unused_refs

    screen = without_unused_refs(rx.box(checked_form(
        text_field("common.loading", "phone"), submit_button("common.loading", id="save"),
        on_submit=rx.console_log("saved"), form_id="f")))
    hooks = " ".join(screen._get_all_hooks())
    assert "ref_phone" in hooks and "ref_save" not in hooks

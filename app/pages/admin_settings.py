"""Deployment settings (administrator): organisation name and logo on reports, exports and
cards, the neutral programme name on cards, the public address QR cards point to, a contact
line, the data-protection officer, and which roles must sign in with a second factor. Stored
and audited by `app/services/deployment.py`."""

from __future__ import annotations

import base64
from typing import Any

import reflex as rx

from app.components.forms import (
    focus_first_problem,
    form_message,
    name_file_input,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.panels import form_column
from app.services import deployment, second_factor
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

LOGO_UPLOAD_ID = "logo-upload"
_IMAGE_TYPES = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/webp": [".webp"]}


class SettingsState(AppState):
    organisation_name: str = ""
    programme_name: str = ""
    public_url: str = ""
    contact_line: str = ""
    dpo_name: str = ""
    dpo_contact: str = ""
    logo_src: str = ""
    loaded_at: int = 0  # re-keys the uncontrolled form after a load or save
    error: str = ""
    success: str = ""
    fields: dict[str, str] = {}
    # Roles that must have a second factor (values of Role).
    second_factor_roles: list[str] = []

    def _show_second_factor(self, rule: dict[Role, bool]) -> None:
        self.second_factor_roles = [role.value for role in Role if rule.get(role)]

    def _show(self, found: deployment.DeploymentSettings, logo: bytes | None) -> None:
        self.organisation_name = found.organisation_name
        self.programme_name = found.programme_name
        self.public_url = found.public_url
        self.contact_line = found.contact_line
        self.dpo_name, self.dpo_contact = found.dpo_name, found.dpo_contact
        self.logo_src = ("data:image/png;base64," + base64.b64encode(logo).decode("ascii")
                         if logo else "")
        self.loaded_at += 1

    @guarded(Role.ADMIN)
    async def load(self) -> Any:
        self.error = self.success = ""
        self.fields = {}
        outcome = await self._run(lambda db, actor: (
            deployment.read_settings(db), deployment.logo_png(db)))
        if outcome.value is not None:
            self._show(*outcome.value)
        rule = await self._run(lambda db, actor: second_factor.requirement(db))
        self._show_second_factor(rule.value or {})
        return name_file_input(LOGO_UPLOAD_ID, await self._text("deploy.upload_logo"))

    @guarded(Role.ADMIN)
    async def set_second_factor(self, role: str, required: bool) -> None:
        """Require a second factor of a role, or make it optional (audited)."""
        if str(role) not in {r.value for r in Role}:
            return
        chosen, on = Role(str(role)), bool(required)
        outcome = await self._run(lambda db, actor: deployment.set_second_factor_requirement(
            session=db, actor=actor, role=chosen, required=on))
        self.error = outcome.error
        if outcome.value is not None:
            self._show_second_factor(outcome.value)
            self.success = await self._text("deploy.saved")

    @guarded(Role.ADMIN)
    async def save(self, form_data: dict[str, Any]) -> Any:
        data = deployment.SettingsInput(
            organisation_name=str(form_data.get("organisation_name", ""))[:400],
            programme_name=str(form_data.get("programme_name", ""))[:400],
            public_url=str(form_data.get("public_url", ""))[:400],
            contact_line=str(form_data.get("contact_line", ""))[:400],
            dpo_name=str(form_data.get("dpo_name", ""))[:400],
            dpo_contact=str(form_data.get("dpo_contact", ""))[:400],
        )
        outcome = await self._run(lambda db, actor: (
            deployment.update_settings(session=db, actor=actor, data=data),
            deployment.logo_png(db)))
        self.error, self.fields = outcome.error, outcome.fields
        self.success = ""
        if outcome.value is None:
            return focus_first_problem("settings-form") if outcome.fields else None
        self._show(*outcome.value)
        return await self._confirm_saved("deploy.saved")

    @guarded(Role.ADMIN)
    async def upload_logo(self, files: list[rx.UploadFile]) -> Any:
        self.success = ""
        if len(files) != 1:
            self.error = await self._text("deploy.error.logo_type")
            return None
        content = await files[0].read(deployment.MAX_LOGO_BYTES + 1)
        outcome = await self._run(lambda db, actor: (
            deployment.set_logo(session=db, actor=actor, content=content),
            deployment.logo_png(db)))
        self.error = outcome.fields.get("logo") or outcome.error
        if outcome.value is not None:
            self._show(*outcome.value)
            return await self._confirm_saved("deploy.logo_saved")
        return None

    @guarded(Role.ADMIN)
    async def remove_logo(self) -> Any:
        outcome = await self._run(lambda db, actor: (
            deployment.remove_logo(session=db, actor=actor), None))
        self.error = outcome.error
        if outcome.value is not None:
            self._show(*outcome.value)
            return await self._confirm_saved("deploy.logo_removed")
        return None


def _error(name: str) -> rx.Var:
    return SettingsState.fields.get(name, "")


def _form() -> rx.Component:
    s = SettingsState
    return form_column(
        text_field("deploy.organisation_name", "organisation_name",
                   default_value=s.organisation_name, error=_error("organisation_name"),
                   hint_key="deploy.organisation_hint"),
        text_field("deploy.programme_name", "programme_name",
                   default_value=s.programme_name, error=_error("programme_name"),
                   hint_key="deploy.programme_hint"),
        text_field("deploy.public_url", "public_url", default_value=s.public_url,
                   error=_error("public_url"), hint_key="deploy.public_url_hint",
                   type="url", placeholder="https://donghanh.tinh.gov.vn"),
        text_field("deploy.contact_line", "contact_line", default_value=s.contact_line,
                   error=_error("contact_line"), hint_key="deploy.contact_hint"),
        text_field("deploy.dpo_name", "dpo_name", default_value=s.dpo_name,
                   error=_error("dpo_name"), hint_key="deploy.dpo_hint", max_length=120),
        text_field("deploy.dpo_contact", "dpo_contact", default_value=s.dpo_contact,
                   error=_error("dpo_contact"), max_length=200),
        submit_button("deploy.save", id="settings-save"),
        on_submit=SettingsState.save,
        key=s.loaded_at.to_string(),
        form_id="settings-form",
        # How many loads the form has been re-keyed for: "0" = still the empty shell.
        custom_attrs={"data-loaded": s.loaded_at.to_string()},
    )


def _logo() -> rx.Component:
    s = SettingsState
    return rx.flex(
        rx.heading(tr("deploy.logo"), size="4", as_="h2"),
        rx.text(tr("deploy.logo_hint"), size="2", color="var(--gray-11)"),
        rx.cond(s.logo_src != "",
                rx.image(src=s.logo_src, alt=tr("deploy.logo"), max_height="96px",
                         width="auto", id="logo-preview"),
                rx.text(tr("deploy.no_logo"), size="2", id="no-logo")),
        rx.upload.root(
            rx.button(tr("deploy.choose_logo"), type="button", size="3", variant="soft"),
            id=LOGO_UPLOAD_ID, accept=_IMAGE_TYPES, max_files=1, multiple=False,
            max_size=deployment.MAX_LOGO_BYTES,
        ),
        rx.flex(
            rx.button(tr("deploy.upload_logo"), size="3", id="logo-save",
                      on_click=SettingsState.upload_logo(
                          rx.upload_files(upload_id=LOGO_UPLOAD_ID))),
            rx.cond(s.logo_src != "",
                    rx.button(tr("deploy.remove_logo"), size="3", variant="outline",
                              color_scheme="red", on_click=SettingsState.remove_logo,
                              id="logo-remove")),
            spacing="2", wrap="wrap",
        ),
        direction="column", spacing="2", margin_top="16px",
    )


_ROLE_KEYS = (("supervisor", "role.supervisor"), ("admin", "role.admin"),
              ("clinic", "role.clinic"), ("volunteer", "role.volunteer"))


def _second_factor_rule() -> rx.Component:
    s = SettingsState
    return rx.flex(
        rx.heading(tr("deploy.second_factor"), size="4", as_="h2"),
        rx.text(tr("deploy.second_factor_hint"), size="2", color="var(--gray-11)"),
        *[
            rx.el.label(
                rx.el.input(
                    type="checkbox",
                    checked=s.second_factor_roles.contains(role),
                    on_click=SettingsState.set_second_factor(
                        role, ~s.second_factor_roles.contains(role)),
                    read_only=True,
                    id=f"second-factor-{role}",
                    style={"width": "22px", "height": "22px", "flexShrink": "0"},
                ),
                rx.text(tr(key)),
                style={"display": "flex", "gap": "12px", "alignItems": "center",
                       "minHeight": "44px"},
            )
            for role, key in _ROLE_KEYS
        ],
        direction="column", spacing="2", margin_top="16px", id="second-factor-rule",
    )


def admin_settings_page() -> rx.Component:
    s = SettingsState
    return app_frame(
        "nav.settings",
        rx.flex(
            rx.cond(s.public_url == "",
                    rx.callout(tr("deploy.public_url_missing"), icon="triangle-alert",
                               color_scheme="amber", high_contrast=True,
                               id="public-url-missing")),
            form_message(s.error, s.success),
            _form(),
            _logo(),
            _second_factor_rule(),
            direction="column", spacing="3",
        ),
    )

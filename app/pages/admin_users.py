"""User administration within the administrator's scope: find, create, edit, roles, sessions,
and resetting a lost second factor (with a reason).

Every handler is for administrators only and goes through `accounts`, which re-checks the
scope on each call; what this page offers (places, facilities, users) is only what the
services would accept anyway.
"""

from __future__ import annotations

import math
from typing import Any

import reflex as rx

from app.components.forms import (
    checked_form,
    focus_first_problem,
    form_message,
    labelled,
    select_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame, greeting
from app.components.native_fields import SELECT_STYLE
from app.components.panels import form_column
from app.i18n import t
from app.pages.account import role_label, session_rows
from app.services import accounts, admin_scopes
from app.services.account_dto import RoleScopeRead, UserCreate, UserPage, UserRead, UserUpdate
from app.state.guard import guarded
from app.state.lang import IN_ENGLISH, tr
from app.state.session import AppState, Outcome
from models import Role

ROLE_OPTIONS: tuple[tuple[str, str], ...] = (
    (Role.VOLUNTEER.value, "role.volunteer"),
    (Role.SUPERVISOR.value, "role.supervisor"),
    (Role.CLINIC.value, "role.clinic"),
    (Role.ADMIN.value, "role.admin"),
)
LANGUAGE_OPTIONS = [("vi", "account_ui.language_vi"), ("en", "account_ui.language_en")]
CREATE_FIELDS = ("username", "full_name", "phone", "language", "scope")
EDIT_FIELDS = ("full_name", "phone", "language")
_TEXT_MAX = 200


def _as_id(raw: Any) -> int | None:
    """A record id from the browser (ints may arrive as strings), or None if it is not one."""
    text = str(raw).strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _role(raw: Any) -> Role | None:
    try:
        return Role(str(raw))
    except ValueError:
        return None


def _field(form_data: dict[str, Any], name: str) -> str:
    return str(form_data.get(name, ""))[:_TEXT_MAX]


class AdminUsersState(AppState):
    # the list
    query: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    users: list[dict[str, str]] = []
    list_error: str = ""

    # the role + scope picker shared by "create" and "add a role" (only one is open at a time)
    grant_role: str = Role.VOLUNTEER.value
    grant_province: str = ""
    provinces: list[dict[str, str]] = []
    scope_options: list[dict[str, str]] = []

    # create
    create_open: bool = False
    create_errors: dict[str, str] = {}
    create_error: str = ""
    create_working: bool = False

    # a one-time password, shown once until acknowledged
    otp: str = ""
    otp_for: str = ""

    # the user being managed
    user_open: bool = False
    selected: dict[str, str] = {}
    selected_roles: list[dict[str, str]] = []
    # Roles asked for this user that wait for a second administrator (id = the request's).
    selected_pending: list[dict[str, str]] = []
    selected_sessions: list[dict[str, str]] = []
    edit_errors: dict[str, str] = {}
    grant_error: str = ""  # under the scope of "add a role"
    user_error: str = ""
    user_done: str = ""

    # resetting the managed user's lost second factor: the confirmation, its reason's error
    tfa_reset_open: bool = False
    tfa_reset_error: str = ""  # under the reason
    tfa_reset_message: str = ""  # anything else the service refused

    _page_users: dict[int, UserRead] = {}
    _selected_user: UserRead | None = None

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _message(outcome: Outcome[Any]) -> str:
        """A form-less action's error: the specific field message when there is one."""
        return next(iter(outcome.fields.values()), "") or outcome.error

    async def _load_page(self) -> None:
        query, page = self.query, self.page

        def fetch(db: Any, actor: Any) -> tuple[UserPage, dict[Any, str]]:
            result = accounts.list_users(session=db, actor=actor, query=query, page=page)
            scopes = [(r.place_id, r.facility_id) for u in result.items for r in u.roles]
            return result, admin_scopes.scope_names(session=db, scopes=scopes)

        outcome = await self._run(fetch)
        if outcome.value is None:
            self.list_error = outcome.error
            return
        result, names = outcome.value
        self.list_error = ""
        self.total = result.total
        self.pages = max(1, math.ceil(result.total / result.page_size))
        self._page_users = {u.id: u for u in result.items}
        self.users = [self._row(u, names) for u in result.items]

    @staticmethod
    def _roles_text(roles: list[RoleScopeRead], names: dict[Any, str], lang: str) -> str:
        parts = []
        for r in roles:
            where = names.get((r.place_id, r.facility_id), "") or t(
                "admin_ui.scope_everywhere", lang
            )
            parts.append(f"{t('role.' + r.role.value, lang)} · {where}")
        return "; ".join(parts) if parts else t("admin_ui.no_role", lang)

    def _row(self, user: UserRead, names: dict[Any, str]) -> dict[str, str]:
        return {
            "id": str(user.id),
            "username": user.username,
            "full_name": user.full_name,
            "phone": user.phone or "",
            "active": "1" if user.is_active else "",
            "must_change": "1" if user.must_change_password else "",
            "roles_vi": self._roles_text(user.roles, names, "vi"),
            "roles_en": self._roles_text(user.roles, names, "en"),
        }

    async def _load_provinces(self) -> None:
        outcome = await self._run(lambda db, a: admin_scopes.grant_provinces(session=db, actor=a))
        found = outcome.value or []
        self.provinces = [{"value": str(p.id), "label": p.name} for p in found]
        if self.grant_province not in {p["value"] for p in self.provinces}:
            self.grant_province = self.provinces[0]["value"] if self.provinces else ""

    async def _load_scope_options(self) -> None:
        role = _role(self.grant_role) or Role.VOLUNTEER
        province_id = _as_id(self.grant_province)
        outcome = await self._run(
            lambda db, a: admin_scopes.grant_choices(
                session=db, actor=a, role=role, province_id=province_id
            )
        )
        self.scope_options = [
            {"value": c.value, "label": c.name, "kind": c.kind} for c in outcome.value or []
        ]

    async def _reset_picker(self) -> None:
        self.grant_role = Role.VOLUNTEER.value
        await self._load_provinces()
        await self._load_scope_options()

    def _scope_of(self, form_data: dict[str, Any]) -> tuple[int | None, int | None] | None:
        return admin_scopes.parse_scope(_field(form_data, "scope"))

    async def _show_user(self, user: UserRead) -> None:
        """Refresh the managed user's panel (and the list behind it) from a service result."""
        self._selected_user = user
        outcome = await self._run(
            lambda db, a: admin_scopes.scope_names(
                session=db, scopes=[(r.place_id, r.facility_id) for r in user.roles]
            )
        )
        pending_names = await self._run(
            lambda db, a: admin_scopes.scope_names(
                session=db, scopes=[(r.place_id, r.facility_id) for r in user.pending]
            )
        )
        self.selected_pending = [
            {
                "id": str(r.id),
                "role": r.role.value,
                "scope": (pending_names.value or {}).get((r.place_id, r.facility_id), ""),
            }
            for r in user.pending
        ]
        names = outcome.value or {}
        self.selected = {
            "id": str(user.id),
            "key": f"{user.id}-{user.version}",
            "username": user.username,
            "full_name": user.full_name,
            "phone": user.phone or "",
            "language": user.language,
            "active": "1" if user.is_active else "",
            "must_change": "1" if user.must_change_password else "",
            "second_factor": "1" if user.second_factor else "",
        }
        self.selected_roles = [
            {
                "id": str(r.id),
                "role": r.role.value,
                "scope": names.get((r.place_id, r.facility_id), ""),
            }
            for r in user.roles
        ]
        await self._load_user_sessions()

    async def _load_user_sessions(self) -> None:
        user = self._selected_user
        if user is None:
            return
        outcome = await self._run(
            lambda db, a: accounts.list_sessions(session=db, actor=a, user_id=user.id)
        )
        self.selected_sessions = session_rows(outcome.value or [])

    async def _after_change(self, outcome: Outcome[UserRead], done_key: str) -> None:
        if outcome.value is None:
            self.user_error = self._message(outcome)
            return
        self.user_error = ""
        self.user_done = await self._text(done_key)
        await self._show_user(outcome.value)
        await self._load_page()

    def _target_id(self) -> int | None:
        return self._selected_user.id if self._selected_user is not None else None

    # ---- the list --------------------------------------------------------------------------

    @guarded(Role.ADMIN)
    async def load(self) -> None:
        self.create_open = self.user_open = False
        self.otp = self.otp_for = ""
        self.page = 1
        await self._load_page()

    @guarded(Role.ADMIN)
    async def search(self, form_data: dict[str, Any]) -> None:
        self.query = _field(form_data, "q").strip()
        self.page = 1
        await self._load_page()

    @guarded(Role.ADMIN)
    async def go_to_page(self, page: int | str) -> None:
        wanted = _as_id(page)
        if wanted is None:
            return
        self.page = min(max(1, wanted), self.pages)
        await self._load_page()

    # ---- the role + scope picker -----------------------------------------------------------

    @guarded(Role.ADMIN)
    async def pick_role(self, role: str) -> None:
        if _role(role) is None:
            return
        self.grant_role = str(role)
        await self._load_scope_options()

    @guarded(Role.ADMIN)
    async def pick_province(self, province_id: str) -> None:
        if str(province_id) not in {p["value"] for p in self.provinces}:
            return
        self.grant_province = str(province_id)
        await self._load_scope_options()

    # ---- create ----------------------------------------------------------------------------

    @guarded(Role.ADMIN)
    async def open_create(self) -> None:
        self.create_errors = dict.fromkeys(CREATE_FIELDS, "")
        self.create_error = ""
        self.user_open = False
        await self._reset_picker()
        self.create_open = True

    @guarded(Role.ADMIN)
    async def toggle_create(self, is_open: bool) -> None:
        if not is_open:
            self.create_open = False

    @guarded(Role.ADMIN)
    async def create_user(self, form_data: dict[str, Any]) -> Any:
        """A new account with its first role; its one-time password is shown once."""
        errors = dict.fromkeys(CREATE_FIELDS, "")
        role = _role(form_data.get("role"))
        scope = self._scope_of(form_data)
        if role is None or scope is None:
            errors["scope"] = await self._text("account.scope_invalid")
            self.create_errors = errors
            self.create_error = await self._text("error.validation")
            yield focus_first_problem("create-form")
            return
        phone = _field(form_data, "phone").strip()
        data = UserCreate(
            username=_field(form_data, "username"),
            full_name=_field(form_data, "full_name"),
            phone=phone or None,
            language=_field(form_data, "language"),
            role=role,
            place_id=scope[0],
            facility_id=scope[1],
        )
        self.create_working = True
        yield
        outcome = await self._run(
            lambda db, a: accounts.create_user(session=db, actor=a, data=data)
        )
        self.create_working = False
        if outcome.value is None:
            errors.update({k: v for k, v in outcome.fields.items() if k in errors})
            self.create_errors = errors
            self.create_error = outcome.error
            if any(errors.values()):
                yield focus_first_problem("create-form")
            return
        created = outcome.value
        self.create_open = False
        self.otp = created.one_time_password or ""
        self.otp_for = created.username
        self.query = created.username
        self.page = 1
        await self._load_page()

    @guarded(Role.ADMIN)
    async def acknowledge_password(self) -> None:
        """The administrator has noted the one-time password: it is forgotten for good."""
        self.otp = self.otp_for = ""

    # ---- one user --------------------------------------------------------------------------

    @guarded(Role.ADMIN)
    async def open_user(self, user_id: int | str) -> None:
        uid = _as_id(user_id)
        user = self._page_users.get(uid) if uid is not None else None
        if user is None:
            return
        self.create_open = self.tfa_reset_open = False
        self.user_error = self.user_done = self.grant_error = ""
        self.edit_errors = dict.fromkeys(EDIT_FIELDS, "")
        await self._reset_picker()
        await self._show_user(user)
        self.user_open = True

    @guarded(Role.ADMIN)
    async def toggle_user(self, is_open: bool) -> None:
        if not is_open:
            self.user_open = self.tfa_reset_open = False
            self._selected_user = None
            self.selected_sessions = []

    @guarded(Role.ADMIN)
    async def save_user(self, form_data: dict[str, Any]) -> Any:
        """Name, phone and language, if nobody changed the user since it was shown."""
        user = self._selected_user
        if user is None:
            return None
        self.user_done = ""
        self.edit_errors = dict.fromkeys(EDIT_FIELDS, "")
        data = UserUpdate(
            full_name=_field(form_data, "edit_full_name"),
            phone=_field(form_data, "edit_phone").strip(),
            language=_field(form_data, "edit_language"),
        )
        outcome = await self._run(
            lambda db, a: accounts.update_user(
                session=db, actor=a, user_id=user.id, data=data, expected_version=user.version
            )
        )
        if outcome.value is None:
            self.edit_errors = {k: outcome.fields.get(k, "") for k in EDIT_FIELDS}
            self.user_error = outcome.error
            # After a conflict, show what the other person saved (the form remounts with it).
            await self._load_page()
            fresh = self._page_users.get(user.id)
            if fresh is not None and fresh.version != user.version:
                await self._show_user(fresh)
            return focus_first_problem("edit-form") if outcome.fields else None
        await self._after_change(outcome, "admin_ui.saved")
        return None

    @guarded(Role.ADMIN)
    async def disable_user(self) -> None:
        uid = self._target_id()
        if uid is None:
            return
        outcome = await self._run(
            lambda db, a: accounts.disable_user(session=db, actor=a, user_id=uid)
        )
        await self._after_change(outcome, "admin_ui.disabled_done")

    @guarded(Role.ADMIN)
    async def enable_user(self) -> None:
        uid = self._target_id()
        if uid is None:
            return
        outcome = await self._run(
            lambda db, a: accounts.enable_user(session=db, actor=a, user_id=uid)
        )
        await self._after_change(outcome, "admin_ui.enabled_done")

    @guarded(Role.ADMIN)
    async def reset_password(self) -> None:
        """A new one-time password, shown once; the user's sessions end."""
        user = self._selected_user
        if user is None:
            return
        outcome = await self._run(
            lambda db, a: accounts.reset_password(session=db, actor=a, user_id=user.id)
        )
        if outcome.value is None:
            self.user_error = self._message(outcome)
            return
        self.user_error = ""
        self.user_done = await self._text("admin_ui.reset_done")
        self.otp = outcome.value
        self.otp_for = user.username
        self.user_open = False
        self._selected_user = None
        await self._load_page()

    @guarded(Role.ADMIN)
    async def open_tfa_reset(self) -> None:
        """The confirmation of a second-factor reset, which asks for the reason."""
        if self._selected_user is None:
            return
        self.user_done = self.tfa_reset_error = self.tfa_reset_message = ""
        self.tfa_reset_open = True

    @guarded(Role.ADMIN)
    async def toggle_tfa_reset(self, is_open: bool) -> None:
        if not is_open:
            self.tfa_reset_open = False
            self.tfa_reset_error = self.tfa_reset_message = ""

    @guarded(Role.ADMIN)
    async def reset_second_factor(self, form_data: dict[str, Any]) -> Any:
        """The user lost their phone and recovery codes: their second factor is removed, their
        sessions end, and they set it up again at their next sign-in."""
        user = self._selected_user
        if user is None:
            return None
        self.user_done = self.tfa_reset_error = self.tfa_reset_message = ""
        # Longer than the field allows, so that the service (not a cut) refuses a long one.
        reason = str(form_data.get("tfa_reason", ""))[:1000]
        outcome = await self._run(
            lambda db, a: accounts.reset_second_factor(
                session=db, actor=a, user_id=user.id, reason=reason
            )
        )
        if outcome.value is None:
            self.tfa_reset_error = outcome.fields.get("reason", "")
            if not self.tfa_reset_error:
                self.tfa_reset_message = self._message(outcome)
            return focus_first_problem("tfa-reset-form") if self.tfa_reset_error else None
        self.tfa_reset_open = False
        await self._after_change(outcome, "admin_ui.tfa_reset_done")
        return None

    @guarded(Role.ADMIN)
    async def add_role(self, form_data: dict[str, Any]) -> Any:
        uid = self._target_id()
        if uid is None:
            return None
        self.user_done = self.user_error = self.grant_error = ""
        role = _role(form_data.get("role"))
        scope = self._scope_of(form_data)
        if role is None or scope is None:
            self.grant_error = await self._text("account.scope_invalid")
            return focus_first_problem("add-role-form")
        place_id, facility_id = scope
        outcome = await self._run(
            lambda db, a: accounts.assign_role(
                session=db,
                actor=a,
                user_id=uid,
                role=role,
                place_id=place_id,
                facility_id=facility_id,
            )
        )
        granted = outcome.value is not None and any(
            r.role == role and (r.place_id, r.facility_id) == (place_id, facility_id)
            for r in outcome.value.roles
        )
        if outcome.value is None and outcome.fields:
            self.grant_error = self._message(outcome)
            return focus_first_problem("add-role-form")
        await self._after_change(
            outcome, "admin_ui.role_added" if granted else "admin_ui.role_pending"
        )
        return None

    @guarded(Role.ADMIN)
    async def decide_request(self, request_id: int | str, approve: bool) -> None:
        """A second administrator approves or rejects a pending role (never the one who asked:
        the service refuses and audits it)."""
        rid = _as_id(request_id)
        user = self._selected_user
        if rid is None or user is None or rid not in {r.id for r in user.pending}:
            return
        self.user_done = ""
        yes = approve is True
        outcome = await self._run(
            lambda db, a: accounts.decide_role_request(
                session=db, actor=a, request_id=rid, approve=yes
            )
        )
        await self._after_change(
            outcome, "admin_ui.role_approved" if yes else "admin_ui.role_rejected"
        )

    @guarded(Role.ADMIN)
    async def remove_role(self, assignment_id: int | str) -> None:
        user = self._selected_user
        rid = _as_id(assignment_id)
        row = next((r for r in user.roles if r.id == rid), None) if user is not None else None
        if user is None or row is None:
            return
        self.user_done = ""
        outcome = await self._run(
            lambda db, a: accounts.remove_role(
                session=db,
                actor=a,
                user_id=user.id,
                role=row.role,
                place_id=row.place_id,
                facility_id=row.facility_id,
            )
        )
        await self._after_change(outcome, "admin_ui.role_removed")

    @guarded(Role.ADMIN)
    async def end_user_session(self, session_id: int | str) -> None:
        sid = _as_id(session_id)
        if sid is None or self._selected_user is None:
            return
        outcome = await self._run(
            lambda db, a: accounts.end_session(session=db, actor=a, session_id=sid)
        )
        self.user_error = self._message(outcome) if not outcome.ok else ""
        self.user_done = "" if not outcome.ok else await self._text("admin_ui.session_ended")
        await self._load_user_sessions()


# ---- layout ---------------------------------------------------------------------------------

def _role_select(name: str) -> rx.Component:
    """Controlled: choosing a role reloads the scopes that fit it."""
    return labelled(
        "admin_ui.role",
        rx.el.select(
            *[rx.el.option(tr(label), value=value) for value, label in ROLE_OPTIONS],
            id=name,
            name="role",
            value=AdminUsersState.grant_role,
            on_change=AdminUsersState.pick_role,
            style=SELECT_STYLE,
        ),
        field_id=name,
    )


def _scope_picker(prefix: str, error: rx.Var | str = "") -> rx.Component:
    province_id = f"{prefix}province"
    scope_id = f"{prefix}scope"
    return rx.fragment(
        _role_select(f"{prefix}role"),
        rx.cond(
            AdminUsersState.provinces.length() > 1,
            labelled(
                "admin_ui.province",
                rx.el.select(
                    rx.foreach(
                        AdminUsersState.provinces,
                        lambda p: rx.el.option(p["label"], value=p["value"]),
                    ),
                    id=province_id,
                    name="province",
                    value=AdminUsersState.grant_province,
                    on_change=AdminUsersState.pick_province,
                    style=SELECT_STYLE,
                ),
                field_id=province_id,
            ),
        ),
        labelled(
            "admin_ui.scope",
            rx.el.select(
                rx.foreach(
                    AdminUsersState.scope_options,
                    lambda o: rx.el.option(
                        rx.cond(
                            o["kind"] == "everywhere", tr("admin_ui.scope_everywhere"), o["label"]
                        ),
                        value=o["value"],
                    ),
                ),
                id=scope_id,
                name="scope",
                style=SELECT_STYLE,
                aria_invalid=rx.cond(error != "", "true", "false"),
                aria_describedby=f"{scope_id}-error",
            ),
            field_id=scope_id,
            error=error,
            hint_key="admin_ui.scope_hint",
        ),
    )


def _user_row(row: rx.Var) -> rx.Component:
    """A card on phones, a table row on wide screens."""
    roles = rx.cond(IN_ENGLISH, row["roles_en"], row["roles_vi"])
    return rx.flex(
        rx.flex(
            rx.text(row["full_name"], weight="bold"),
            rx.text(row["username"], size="2", color="var(--gray-11)", font_family="monospace"),
            direction="column",
            flex="2",
            min_width="0",
        ),
        rx.text(row["phone"], size="2", flex="1"),
        rx.text(roles, size="2", flex="3", min_width="0"),
        rx.flex(
            rx.cond(
                row["active"] == "1",
                rx.badge(tr("admin_ui.active"), color_scheme="green"),
                rx.badge(tr("admin_ui.disabled"), color_scheme="red"),
            ),
            rx.cond(
                row["must_change"] == "1",
                rx.badge(tr("admin_ui.must_change_badge"), color_scheme="amber"),
            ),
            spacing="1",
            wrap="wrap",
            flex="1",
        ),
        rx.button(
            tr("admin_ui.manage"),
            on_click=AdminUsersState.open_user(row["id"]),
            variant="soft",
            size="3",
            id="manage-" + row["username"].to(str),
            width=["100%", "100%", "auto"],
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="stretch", sm="center"),
        spacing="2",
        padding="12px",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        background="white",
        class_name="user-row",
    )


def _list_header() -> rx.Component:
    def cell(key: str, flex: str) -> rx.Component:
        return rx.text(tr(key), size="2", weight="bold", color="var(--gray-11)", flex=flex)

    return rx.flex(
        cell("admin_ui.col_name", "2"),
        cell("admin_ui.col_phone", "1"),
        cell("admin_ui.col_roles", "3"),
        cell("admin_ui.col_status", "1"),
        rx.box(width="96px"),
        spacing="2",
        padding_x="12px",
        display=["none", "none", "flex"],
    )


def _toolbar() -> rx.Component:
    return rx.flex(
        checked_form(
            rx.flex(
                rx.input(
                    name="q",
                    id="user-search",
                    placeholder=tr("admin_ui.search_placeholder"),
                    aria_label=tr("admin_ui.search_label"),
                    default_value=AdminUsersState.query,
                    key=AdminUsersState.query,
                    size="3",
                    flex="1",
                    max_length=100,
                    type="search",
                ),
                rx.button(
                    rx.icon("search", size=18, aria_hidden="true"),
                    type="submit",
                    size="3",
                    aria_label=tr("admin_ui.search_label"),
                    id="search-submit",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=AdminUsersState.search,
            form_id="search-form",
            flex="1",
        ),
        rx.button(
            rx.icon("user-plus", size=18, aria_hidden="true"),
            tr("admin_ui.create"),
            on_click=AdminUsersState.open_create,
            size="3",
            id="create-user",
        ),
        spacing="2",
        direction=rx.breakpoints(initial="column", xs="row"),
        width="100%",
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("chevron-left", size=18, aria_hidden="true"),
            on_click=AdminUsersState.go_to_page(AdminUsersState.page - 1),
            disabled=AdminUsersState.page <= 1,
            variant="outline",
            size="3",
            aria_label=tr("admin_ui.previous"),
        ),
        rx.text(
            tr("admin_ui.page"),
            " ",
            AdminUsersState.page,
            "/",
            AdminUsersState.pages,
            " · ",
            AdminUsersState.total,
            " ",
            tr("admin_ui.users_count"),
            size="2",
            id="user-count",
        ),
        rx.button(
            rx.icon("chevron-right", size=18, aria_hidden="true"),
            on_click=AdminUsersState.go_to_page(AdminUsersState.page + 1),
            disabled=AdminUsersState.page >= AdminUsersState.pages,
            variant="outline",
            size="3",
            aria_label=tr("admin_ui.next"),
        ),
        align="center",
        justify="center",
        spacing="3",
    )


def _dialog(
    is_open: rx.Var, on_open_change: Any, title: rx.Component, *children: rx.Component, **props: Any
) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            *children,
            max_width="560px",
            width="calc(100vw - 24px)",
            max_height="90vh",
            overflow_y="auto",
            padding="16px",
            **props,
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def _create_dialog() -> rx.Component:
    errors = AdminUsersState.create_errors
    return _dialog(
        AdminUsersState.create_open,
        AdminUsersState.toggle_create,
        tr("admin_ui.create_title"),
        form_column(
            text_field(
                "admin_ui.username",
                "username",
                error=errors["username"],
                hint_key="admin_ui.username_hint",
                auto_complete="off",
                auto_capitalize="none",
                max_length=64,
            ),
            text_field(
                "admin_ui.full_name", "full_name", error=errors["full_name"], max_length=120
            ),
            text_field(
                "admin_ui.phone", "phone", error=errors["phone"], type="tel", max_length=20
            ),
            select_field(
                "admin_ui.language", "language", LANGUAGE_OPTIONS, error=errors["language"]
            ),
            _scope_picker("create_", errors["scope"]),
            form_message(AdminUsersState.create_error, rx.Var.create("")),
            rx.flex(
                rx.dialog.close(
                    rx.button(
                        tr("common.cancel"),
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        type="button",
                    )
                ),
                rx.box(
                    submit_button(
                        "admin_ui.create_submit",
                        busy=AdminUsersState.create_working,
                        id="create-submit",
                    ),
                    flex="1",
                ),
                spacing="3",
            ),
            on_submit=AdminUsersState.create_user,
            form_id="create-form",
        ),
        id="create-dialog",
    )


def _otp_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tr("admin_ui.otp_title")),
            rx.flex(
                rx.text(tr("admin_ui.otp_for"), " ", rx.el.strong(AdminUsersState.otp_for)),
                rx.code(
                    AdminUsersState.otp,
                    size="7",
                    id="otp-value",
                    padding="12px",
                    text_align="center",
                    width="100%",
                    style={"userSelect": "all", "letterSpacing": "0.05em"},
                ),
                rx.callout(tr("admin_ui.otp_once"), icon="eye-off", color_scheme="amber"),
                rx.button(
                    rx.icon("copy", size=18, aria_hidden="true"),
                    tr("admin_ui.copy"),
                    on_click=[
                        rx.set_clipboard(AdminUsersState.otp),
                        rx.toast.info(tr("admin_ui.copied_toast")),
                    ],
                    variant="outline",
                    size="3",
                    id="otp-copy",
                ),
                rx.button(
                    rx.icon("check", size=18, aria_hidden="true"),
                    tr("admin_ui.otp_ack"),
                    on_click=AdminUsersState.acknowledge_password,
                    size="3",
                    id="otp-ack",
                ),
                direction="column",
                spacing="3",
            ),
            max_width="480px",
            width="calc(100vw - 24px)",
            padding="16px",
            # Dismissed only by the acknowledgement: the password is not shown again.
            on_escape_key_down=rx.prevent_default,
            on_pointer_down_outside=rx.prevent_default,
            id="otp-dialog",
        ),
        open=AdminUsersState.otp != "",
    )


def _details_form() -> rx.Component:
    errors = AdminUsersState.edit_errors
    sel = AdminUsersState.selected
    return form_column(
        rx.heading(tr("admin_ui.details"), size="3", as_="h3"),
        text_field(
            "admin_ui.full_name",
            "edit_full_name",
            default_value=sel["full_name"],
            error=errors["full_name"],
            max_length=120,
        ),
        text_field(
            "admin_ui.phone",
            "edit_phone",
            default_value=sel["phone"],
            error=errors["phone"],
            type="tel",
            max_length=20,
        ),
        labelled(
            "admin_ui.language",
            rx.el.select(
                *[rx.el.option(tr(label), value=value) for value, label in LANGUAGE_OPTIONS],
                id="edit_language",
                name="edit_language",
                default_value=sel["language"],
                style=SELECT_STYLE,
                aria_invalid=rx.cond(errors["language"] != "", "true", "false"),
                aria_describedby="edit_language-error",
            ),
            field_id="edit_language",
            error=errors["language"],
        ),
        submit_button("common.save", id="save-user"),
        # A new key (id + version) remounts the fields with the stored values after a change.
        key=sel["key"],
        on_submit=AdminUsersState.save_user,
        form_id="edit-form",
    )


def _roles_block() -> rx.Component:
    def item(r: rx.Var) -> rx.Component:
        return rx.flex(
            rx.flex(
                rx.text(role_label(r["role"]), weight="medium"),
                rx.text(
                    rx.cond(r["scope"] != "", r["scope"], tr("admin_ui.scope_everywhere")), size="2"
                ),
                direction="column",
                flex="1",
                min_width="0",
            ),
            rx.button(
                tr("admin_ui.remove_role"),
                on_click=AdminUsersState.remove_role(r["id"]),
                variant="soft",
                color_scheme="red",
                size="3",
                class_name="remove-role",
            ),
            align="center",
            spacing="2",
            padding_y="6px",
            border_bottom="1px solid var(--gray-4)",
        )

    def pending(r: rx.Var) -> rx.Component:
        return rx.flex(
            rx.flex(
                rx.text(role_label(r["role"]), weight="medium"),
                rx.text(r["scope"], size="2", color="var(--gray-11)"),
                direction="column",
                flex="1",
                min_width="0",
            ),
            rx.button(
                tr("admin_ui.approve"),
                on_click=AdminUsersState.decide_request(r["id"], True),
                size="3",
                class_name="approve-role",
            ),
            rx.button(
                tr("admin_ui.reject"),
                on_click=AdminUsersState.decide_request(r["id"], False),
                variant="soft",
                color_scheme="gray",
                size="3",
                class_name="reject-role",
            ),
            align="center",
            spacing="2",
            padding_y="6px",
            border_bottom="1px solid var(--gray-4)",
        )

    return rx.flex(
        rx.heading(tr("admin_ui.roles"), size="3", as_="h3"),
        rx.foreach(AdminUsersState.selected_roles, item),
        rx.cond(
            AdminUsersState.selected_pending.length() > 0,
            rx.flex(
                rx.text(tr("admin_ui.pending_title"), weight="medium"),
                rx.foreach(AdminUsersState.selected_pending, pending),
                direction="column",
                spacing="1",
                id="pending-roles",
            ),
        ),
        form_column(
            rx.text(tr("admin_ui.add_role_title"), weight="medium"),
            _scope_picker("grant_", AdminUsersState.grant_error),
            rx.button(
                rx.icon("plus", size=18, aria_hidden="true"),
                tr("admin_ui.add_role"),
                type="submit",
                size="3",
                variant="outline",
                id="add-role",
            ),
            on_submit=AdminUsersState.add_role,
            form_id="add-role-form",
            background="var(--gray-2)",
            padding="12px",
            border_radius="8px",
        ),
        direction="column",
        spacing="2",
    )


def _sessions_block() -> rx.Component:
    def item(s: rx.Var) -> rx.Component:
        return rx.flex(
            rx.flex(
                rx.text(role_label(s["role"]), weight="medium"),
                rx.text(tr("account_ui.signed_in_at"), " ", s["created"], size="2"),
                rx.text(tr("account_ui.last_seen"), " ", s["last_seen"], size="2"),
                direction="column",
                flex="1",
            ),
            rx.button(
                tr("account_ui.end_session"),
                on_click=AdminUsersState.end_user_session(s["id"]),
                variant="soft",
                color_scheme="red",
                size="3",
                class_name="end-user-session",
            ),
            align="center",
            spacing="2",
            padding_y="6px",
            border_bottom="1px solid var(--gray-4)",
            class_name="user-session",
        )

    return rx.flex(
        rx.heading(tr("account_ui.sessions_title"), size="3", as_="h3"),
        rx.cond(
            AdminUsersState.selected_sessions.length() > 0,
            rx.foreach(AdminUsersState.selected_sessions, item),
            rx.text(tr("admin_ui.no_sessions"), size="2", color="var(--gray-11)", id="no-sessions"),
        ),
        direction="column",
        spacing="2",
    )


def _actions_block() -> rx.Component:
    sel = AdminUsersState.selected
    return rx.flex(
        rx.heading(tr("admin_ui.actions"), size="3", as_="h3"),
        rx.cond(
            sel["active"] == "1",
            rx.button(
                rx.icon("user-x", size=18, aria_hidden="true"),
                tr("admin_ui.disable"),
                on_click=AdminUsersState.disable_user,
                color_scheme="red",
                variant="outline",
                size="3",
                id="disable-user",
            ),
            rx.button(
                rx.icon("user-check", size=18, aria_hidden="true"),
                tr("admin_ui.enable"),
                on_click=AdminUsersState.enable_user,
                variant="outline",
                size="3",
                id="enable-user",
            ),
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    rx.icon("key-round", size=18, aria_hidden="true"),
                    tr("admin_ui.reset_password"),
                    variant="outline",
                    size="3",
                    id="reset-password",
                ),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title(tr("admin_ui.reset_password")),
                rx.alert_dialog.description(tr("admin_ui.reset_confirm")),
                rx.flex(
                    rx.alert_dialog.cancel(
                        rx.button(
                            tr("common.cancel"), variant="soft", color_scheme="gray", size="3"
                        )
                    ),
                    rx.alert_dialog.action(
                        rx.button(
                            tr("admin_ui.reset_password"),
                            on_click=AdminUsersState.reset_password,
                            color_scheme="red",
                            size="3",
                            id="reset-confirm",
                        )
                    ),
                    spacing="3",
                    justify="end",
                    margin_top="16px",
                ),
                max_width="420px",
            ),
        ),
        rx.cond(
            sel["second_factor"] == "1",
            rx.button(
                rx.icon("shield-off", size=18, aria_hidden="true"),
                tr("admin_ui.tfa_reset"),
                on_click=AdminUsersState.open_tfa_reset,
                variant="outline",
                size="3",
                id="reset-second-factor",
            ),
        ),
        _tfa_reset_dialog(),
        direction="column",
        spacing="2",
    )


def _tfa_reset_dialog() -> rx.Component:
    """Confirm a second-factor reset, with the reason (kept in the audit event)."""
    s = AdminUsersState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr("admin_ui.tfa_reset")),
            rx.alert_dialog.description(tr("admin_ui.tfa_reset_confirm"), size="2"),
            form_column(
                rx.cond(
                    s.tfa_reset_message != "",
                    rx.callout(s.tfa_reset_message, icon="triangle-alert", color_scheme="red",
                               role="alert", id="tfa-reset-message"),
                ),
                text_field(
                    "admin_ui.tfa_reset_reason",
                    "tfa_reason",
                    error=s.tfa_reset_error,
                    hint_key="admin_ui.tfa_reset_reason_hint",
                    max_length=accounts.MAX_RESET_REASON,
                    auto_complete="off",
                ),
                rx.flex(
                    rx.alert_dialog.cancel(
                        rx.button(tr("common.cancel"), variant="soft", color_scheme="gray",
                                  size="3", type="button", id="tfa-reset-cancel")
                    ),
                    rx.button(tr("admin_ui.tfa_reset_submit"), type="submit", color_scheme="red",
                              size="3", id="tfa-reset-submit"),
                    spacing="3",
                    justify="end",
                ),
                on_submit=s.reset_second_factor,
                form_id="tfa-reset-form",
                margin_top="12px",
            ),
            max_width="420px",
            width="calc(100vw - 24px)",
            id="tfa-reset-dialog",
        ),
        open=s.tfa_reset_open,
        on_open_change=s.toggle_tfa_reset,
    )


def _user_dialog() -> rx.Component:
    sel = AdminUsersState.selected
    return _dialog(
        AdminUsersState.user_open,
        AdminUsersState.toggle_user,
        rx.flex(
            rx.text(sel["full_name"]),
            rx.text(sel["username"], size="2", color="var(--gray-11)", font_family="monospace"),
            direction="column",
        ),
        rx.flex(
            form_message(AdminUsersState.user_error, AdminUsersState.user_done),
            rx.cond(
                sel["must_change"] == "1",
                rx.badge(
                    tr("admin_ui.must_change_badge"), color_scheme="amber", width="fit-content"
                ),
            ),
            rx.cond(
                sel["second_factor"] == "1",
                rx.badge(
                    tr("admin_ui.second_factor_badge"), color_scheme="green", width="fit-content",
                    id="second-factor-badge",
                ),
            ),
            _details_form(),
            rx.separator(),
            _roles_block(),
            rx.separator(),
            _sessions_block(),
            rx.separator(),
            _actions_block(),
            rx.dialog.close(
                rx.button(
                    tr("admin_ui.close"),
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    width="100%",
                )
            ),
            direction="column",
            spacing="4",
        ),
        id="user-dialog",
    )


def admin_users_page() -> rx.Component:
    return app_frame(
        "nav.users",
        rx.flex(
            greeting(),
            _toolbar(),
            rx.cond(
                AdminUsersState.list_error != "",
                rx.callout(AdminUsersState.list_error, color_scheme="red", role="alert"),
            ),
            _list_header(),
            rx.flex(rx.foreach(AdminUsersState.users, _user_row), direction="column", spacing="2"),
            rx.cond(
                AdminUsersState.total == 0,
                rx.text(tr("admin_ui.no_users"), color="var(--gray-11)", id="no-users"),
            ),
            _pager(),
            direction="column",
            spacing="3",
        ),
        _create_dialog(),
        _user_dialog(),
        _otp_dialog(),
    )

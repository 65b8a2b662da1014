"""Client profile: who they are, the current episode and its end, the timeline, what to do next.

Case workers (the client's volunteer, supervisors in scope) enter an episode the authority
decided and propose closing one; supervisors approve closures on /caseload.

Everything shown comes from the services as the policy returns it: sensitive fields appear only
when the service included them, and a client outside the actor's scope is "not found" (the
service writes the audit event).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from app.components.client_cards import (
    action_link,
    bi,
    bilingual,
    dmy,
    drawn_together,
    empty_note,
    lazy_disclosure,
    loading_note,
    section_heading,
    timeline_item,
)
from app.components.forms import (
    checked_form,
    date_field,
    field_error,
    focus_first_problem,
    labelled,
    name_file_input_after_button,
    number_field,
    select_field,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.i18n import t
from app.icon_css import css_icon
from app.pages.register import form_text
from app.services import clients, photos
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.dto import (
    ClientRead,
    ClientReadSensitive,
    EpisodeCreate,
    TimelineItem,
    parse,
)
from app.services.errors import ValidationFailed
from app.services.law import episodes
from app.services.policy import Action, role_may
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import EndReason, EpisodeType, Role

Row = dict[str, str]
LIVE_EPISODES = ("open", "closure_proposed")
# Record forms live on their own pages; which action each needs decides whether it shows.
RECORD_ACTIONS: tuple[tuple[str, Action], ...] = (
    ("visit", Action.VISIT_CREATE),
    ("test", Action.TEST_CREATE),
    ("referral", Action.REFERRAL_CREATE),
    ("support", Action.SUPPORT_CREATE),
)
EPISODE_FIELDS = ("episode_type", "start_date", "decision_number", "decision_date",
                  "decision_authority", "decision_signer", "decided_months", "held_at")
HELD_AT = [("", "law.held_at.none"), ("family", "law.held_at.family"),
           ("facility", "law.held_at.facility")]
PHOTO_FIELDS = ("photo", "photo_consent")
PHOTO_UPLOAD = "photo-upload"
# A new photo needs its consent ticked again.
UNTICK_PHOTO_CONSENT = (
    "(() => { const box = document.getElementById('photo_consent');"
    " if (box) box.checked = false; })()"
)
CLOSURE_FIELDS = ("episode_id", "end_reason", "actual_end")
# Admission and a determination of dependence end episodes by themselves (app/services/law).
END_REASONS = [(r.value, f"sup.end_reason.{r.value}") for r in EndReason
               if r not in (EndReason.ADMITTED, EndReason.DEPENDENT)]
SELECT_STYLE = {"minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
                "border": "1px solid var(--gray-7)", "background": "white", "width": "100%"}
# The history shows its newest entries first and the rest on request: a client with years of
# weekly visits has hundreds, and drawing them all made the page slow to open on a phone.
TIMELINE_PAGE = 20
DETAIL_FIELDS = ("phone", "national_id", "other_names", "address", "former_address",
                 "family_contact", "legal_rep_name", "legal_rep_phone", "priority_group",
                 "substances")


def route_client_id(path: str) -> int | None:
    """The id in '/clients/<id>' (anything else: None)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if len(parts) == 2 and parts[0] == "clients" and parts[1].isascii() and parts[1].isdigit():
        value = int(parts[1])
        return value if 0 < value < 2**31 else None
    return None


def age_on(client: ClientRead, today: date) -> int:
    if client.birth_date is not None:
        before = (today.month, today.day) < (client.birth_date.month, client.birth_date.day)
        return today.year - client.birth_date.year - int(before)
    return today.year - client.birth_year


def header(client: ClientRead, actor: Actor, today: date) -> Row:
    assigned: dict[str, str]
    if client.assigned_volunteer_id is None:
        assigned = bilingual("assigned", "vol.profile.unassigned")
    elif client.assigned_volunteer_id == actor.user_id:
        assigned = bilingual("assigned", "vol.profile.assigned_you")
    elif client.assigned_volunteer_name:
        name = client.assigned_volunteer_name
        assigned = {"assigned_vi": name, "assigned_en": name}
    else:
        assigned = bilingual("assigned", "vol.profile.assigned_other")
    return {
        "name": client.full_name,
        "age": str(age_on(client, today)),
        "birth_year": str(client.birth_year),
        "commune": client.commune_name,
        "status": client.status.value,
        **bilingual("sex", f"vol.sex.{client.sex.value}"),
        **bilingual("status", f"vol.client_status.{client.status.value}"),
        **assigned,
    }


def detail_rows(client: ClientRead) -> list[Row]:
    """The filled-in profile fields, then the sensitive ones if the service returned them."""
    rows = [
        {"id": f"detail-{name}", "value": str(getattr(client, name)),
         **bilingual("label", f"vol.reg.{name}")}
        for name in DETAIL_FIELDS if getattr(client, name)
    ]
    if client.injects:
        rows.append({"id": "detail-injects", "value": "✓", **bilingual("label", "vol.reg.injects")})
    if isinstance(client, ClientReadSensitive):
        hiv = client.hiv_status or "none"
        rows.append({"id": "detail-hiv_status", "value": "",
                     **bilingual("label", "vol.profile.hiv_status"),
                     **bilingual("shown", f"vol.hiv.{hiv}")})
        if client.ethnicity:
            rows.append({"id": "detail-ethnicity", "value": client.ethnicity,
                         **bilingual("label", "vol.profile.ethnicity")})
    for row in rows:
        row.setdefault("shown_vi", row["value"])
        row.setdefault("shown_en", row["value"])
    return rows


def _label(prefix: str, value: Any) -> str:
    return f"{prefix}.{value.value if hasattr(value, 'value') else value}"


def timeline_row(item: TimelineItem) -> Row:
    """One timeline entry: its kind's icon, a title and a short detail, in both languages."""
    f = item.fields
    title: dict[str, str]
    detail: dict[str, str] = bilingual("detail", None)
    if item.kind == "visit":
        title = bilingual("title", _label("vol.visit_kind", f.get("kind", "")))
        if f.get("next_appointment"):
            detail = bilingual("detail", "vol.timeline.next_appointment",
                               date=dmy(f["next_appointment"]))
    elif item.kind == "test":
        title = bilingual("title", _label("vol.test_result", f.get("result", "")))
    elif item.kind == "referral":
        title = bilingual("title", _label("vol.referral_service", f.get("service", "")))
        status = _label("vol.referral_status", f.get("status", ""))
        if f.get("facility_name"):
            detail = {f"detail_{lang}": t("vol.timeline.referral_to", lang, status=t(status, lang),
                                          facility=f["facility_name"]) for lang in ("vi", "en")}
        else:
            detail = bilingual("detail", status)
    elif item.kind == "support":
        title = bilingual("title", _label("vol.support_kind", f.get("kind", "")))
        if f.get("amount_vnd"):
            detail = bilingual("detail", "vol.timeline.amount",
                               amount=f"{int(f['amount_vnd']):,}".replace(",", "."))
    else:
        title = bilingual("title", _label("vol.episode_type", f.get("episode_type", "")))
        detail = bilingual("detail", _label("vol.episode_status", f.get("status", "")))
    return {"kind": item.kind, "on": dmy(item.on), "id": f"{item.kind}-{item.record_id}",
            **title, **detail}


def _status(item: TimelineItem) -> str:
    value = item.fields.get("status")
    return str(getattr(value, "value", value))


def closable_episodes(items: list[TimelineItem]) -> tuple[list[Row], dict[int, int]]:
    """The open episodes a closure can be proposed for (choices for the form, newest first),
    and each one's version as read now (the proposal must not overwrite a newer change)."""
    rows: list[Row] = []
    versions: dict[int, int] = {}
    opened = [i for i in items if i.kind == "episode" and _status(i) == "open"]
    for item in sorted(opened, key=lambda i: (i.on, i.record_id), reverse=True):
        versions[item.record_id] = int(item.fields.get("version") or 0)
        kind = _label("vol.episode_type", item.fields.get("episode_type", ""))
        row: Row = {"id": str(item.record_id)}
        for lang in ("vi", "en"):
            row[f"label_{lang}"] = t("vol.profile.closure_choice", lang, type=t(kind, lang),
                                     start=dmy(item.on))
        rows.append(row)
    return rows, versions


def current_episode(items: list[TimelineItem], today: date) -> Row:
    """The newest live episode with its expected end and days left ({} if there is none)."""
    live = [i for i in items if i.kind == "episode" and _status(i) in LIVE_EPISODES]
    if not live:
        return {}
    item = max(live, key=lambda i: (i.on, i.record_id))
    end: date | None = item.fields.get("expected_end")
    months = (end.year - item.on.year) * 12 + end.month - item.on.month if end else 0
    row: Row = {
        "start": dmy(item.on),
        "end": dmy(end),
        "tone": "teal",
        **bilingual("term", "law.profile.term_months" if months > 0 else None, months=months),
        **bilingual("type", _label("vol.episode_type", item.fields.get("episode_type", ""))),
        **bilingual("status", _label("vol.episode_status", item.fields.get("status", ""))),
    }
    if end is None:
        row.update(bilingual("left", "vol.profile.no_end"))
    elif end >= today:
        row.update(bilingual("left", "vol.profile.days_left", days=(end - today).days))
        row["tone"] = "amber" if (end - today).days <= 30 else "teal"
    else:
        row.update(bilingual("left", "vol.profile.days_over", days=(today - end).days))
        row["tone"] = "red"
    return row


class ProfileState(AppState):
    cid: rx.Field[str] = rx.field("")
    view: rx.Field[str] = rx.field("loading")  # loading | found | missing
    head: rx.Field[Row] = rx.field(default_factory=dict)
    details: rx.Field[list[Row]] = rx.field(default_factory=list)
    episode: rx.Field[Row] = rx.field(default_factory=dict)
    has_episode: rx.Field[bool] = rx.field(False)
    timeline: rx.Field[list[Row]] = rx.field(default_factory=list)  # the rows on screen
    timeline_more: rx.Field[int] = rx.field(0)  # older rows not drawn yet
    actions: rx.Field[list[str]] = rx.field(default_factory=list)
    can_open_episode: rx.Field[bool] = rx.field(False)
    episode_error: rx.Field[str] = rx.field("")
    episode_errors: rx.Field[Row] = rx.field(
        default_factory=lambda: {name: "" for name in EPISODE_FIELDS})
    can_issue_card: rx.Field[bool] = rx.field(False)
    # Proposing the closure of an open episode (a supervisor approves it on /caseload).
    can_propose_closure: rx.Field[bool] = rx.field(False)
    closable: rx.Field[list[Row]] = rx.field(default_factory=list)
    closure_error: rx.Field[str] = rx.field("")
    closure_errors: rx.Field[Row] = rx.field(
        default_factory=lambda: {name: "" for name in CLOSURE_FIELDS})
    today: rx.Field[str] = rx.field("")
    # The client's photo (only with their consent): its address, and the form to take one.
    photo_src: rx.Field[str] = rx.field("")
    can_edit_photo: rx.Field[bool] = rx.field(False)
    photo_consent: rx.Field[bool] = rx.field(False)
    photo_errors: rx.Field[Row] = rx.field(
        default_factory=lambda: {name: "" for name in PHOTO_FIELDS})

    _client_id: int = 0
    _timeline_rows: list[Row] = []  # the whole history, newest first
    # Episode id -> version as shown: a proposal made on an outdated screen is a conflict.
    _episode_versions: dict[int, int] = {}

    async def _fetch(self, client_id: int) -> None:
        today = today_vn()

        def call(db: Any, actor: Actor) -> tuple[ClientRead, list[TimelineItem], Actor, str]:
            client = clients.get_client(session=db, actor=actor, client_id=client_id)
            items = clients.client_timeline(session=db, actor=actor, client_id=client_id)
            photo = photos.current_photo(session=db, actor=actor, client_id=client_id)
            return client, items, actor, photo

        outcome = await self._run(call)
        if outcome.value is None:
            self._missing()
            return
        client, items, actor, photo = outcome.value
        self.photo_src = f"/api/photos/{photo}" if photo else ""
        self.can_edit_photo = role_may(actor.role, Action.CLIENT_UPDATE)
        self._client_id = client_id
        self.cid = str(client_id)
        self.view = "found"
        self.head = header(client, actor, today)
        self.details = detail_rows(client)
        self._timeline_rows = [timeline_row(i) for i in items]
        self._show_timeline(TIMELINE_PAGE)
        self.episode = current_episode(items, today)
        self.has_episode = bool(self.episode)
        self.actions = [name for name, action in RECORD_ACTIONS if role_may(actor.role, action)]
        self.can_open_episode = role_may(actor.role, Action.EPISODE_OPEN)
        self.can_issue_card = role_may(actor.role, Action.CARD_ISSUE)
        self.closable, self._episode_versions = closable_episodes(items)
        self.can_propose_closure = role_may(actor.role, Action.EPISODE_PROPOSE_CLOSE)
        self.today = today.isoformat()

    def _show_timeline(self, count: int) -> None:
        self.timeline = self._timeline_rows[:count]
        self.timeline_more = len(self._timeline_rows) - len(self.timeline)

    def _missing(self) -> None:
        self._client_id = 0
        self.cid, self.view = "", "missing"
        self.head, self.details, self.episode, self.actions = {}, [], {}, []
        self._timeline_rows = []
        self._show_timeline(0)
        self.has_episode = False
        self.can_open_episode = False
        self.can_issue_card = self.can_propose_closure = False
        self.photo_src, self.can_edit_photo = "", False
        self.closable, self._episode_versions = [], {}

    # Clinic staff: a client referred to them, or one opened by break-glass (read-only).
    @guarded(Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC)
    async def load(self) -> Any:
        """on_load: the client named in the address, if the actor may open it."""
        self.view = "loading"
        self.episode_error = ""
        self.episode_errors = {name: "" for name in EPISODE_FIELDS}
        self.closure_error = ""
        self.closure_errors = {name: "" for name in CLOSURE_FIELDS}
        self.photo_errors = {name: "" for name in PHOTO_FIELDS}
        self.photo_consent = False
        client_id = route_client_id(str(self.router.url.path))
        if client_id is None:
            self._missing()
            return None
        await self._fetch(client_id)
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    def set_photo_consent(self, value: Any) -> None:
        self.photo_consent = value is True

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def upload_photo(self, files: list[rx.UploadFile]) -> Any:
        """A photo of the client on screen, kept only with their consent (ticked here)."""
        client_id = self._client_id
        if not client_id:
            self._missing()
            return None
        data = await files[0].read(photos.MAX_BYTES + 1) if len(files) == 1 else b""
        consent = self.photo_consent
        outcome = await self._run(lambda db, actor: photos.set_photo(
            session=db, actor=actor, client_id=client_id, data=data, consent_given=consent))
        self.photo_errors = {name: outcome.fields.get(name, "") for name in PHOTO_FIELDS}
        if outcome.value is None:
            if not outcome.fields:
                self.photo_errors = {**self.photo_errors, "photo": outcome.error}
            return focus_first_problem("photo-form")
        self.photo_consent = False
        await self._fetch(client_id)
        return [rx.clear_selected_files(PHOTO_UPLOAD),
                rx.call_script(UNTICK_PHOTO_CONSENT),
                await self._confirm_saved("photo.saved", name=self.head.get("name", ""))]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def withdraw_photo(self) -> Any:
        """The client withdrew their consent to the photo: deleted now, the withdrawal kept."""
        client_id = self._client_id
        if not client_id:
            self._missing()
            return None
        outcome = await self._run(lambda db, actor: photos.withdraw_photo_consent(
            session=db, actor=actor, client_id=client_id))
        await self._fetch(client_id)
        if not outcome.ok:
            self.photo_errors = {**self.photo_errors, "photo": outcome.error}
            return None
        return await self._confirm_saved("photo.removed", name=self.head.get("name", ""))

    # Clinic staff: a client referred to them, or one opened by break-glass (read-only).
    @guarded(Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC)
    def show_more_timeline(self) -> None:
        """Draw the next older entries of the history."""
        self._show_timeline(len(self.timeline) + TIMELINE_PAGE)

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def open_episode(self, form_data: dict[str, Any]) -> Any:
        """Open a management episode for the client on screen (its end comes from the rules)."""
        client_id = self._client_id
        if not client_id:
            self._missing()
            return None
        raw = {
            "episode_type": form_text(form_data, "episode_type", 40),
            "start_date": form_text(form_data, "start_date", 10) or None,
            "decision_number": form_text(form_data, "decision_number", 200),
            "decision_date": form_text(form_data, "decision_date", 10) or None,
            "decision_authority": form_text(form_data, "decision_authority", 200),
            "decision_signer": form_text(form_data, "decision_signer", 200),
            "decided_months": form_text(form_data, "decided_months", 4) or None,
            "held_at": form_text(form_data, "held_at", 10),
        }

        def call(db: Any, actor: Actor) -> Any:
            data = parse(EpisodeCreate, raw)
            if data.start_date is None:  # pragma: no cover - pydantic refuses None already
                raise ValidationFailed({"start_date": "error.invalid_value"})
            return episodes.open_episode(session=db, actor=actor, client_id=client_id, data=data)

        outcome = await self._run(call)
        self.closure_error = ""  # one outcome on screen at a time
        self.episode_error = outcome.error
        self.episode_errors = {name: outcome.fields.get(name, "") for name in EPISODE_FIELDS}
        if outcome.value is None:
            return focus_first_problem("open-episode-form") if outcome.fields else None
        await self._fetch(client_id)
        kind = await self._text(f"vol.episode_type.{raw['episode_type']}")
        return await self._confirm_saved("vol.profile.episode_opened", type=kind,
                                         name=self.head.get("name", ""))

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def propose_closure(self, form_data: dict[str, Any]) -> Any:
        """Propose closing one of the open episodes on screen, with its reason and end date."""
        client_id = self._client_id
        if not client_id:
            self._missing()
            return None
        episode_text = form_text(form_data, "episode_id", 12)
        episode_id = int(episode_text) if episode_text.isascii() and episode_text.isdigit() \
            else 0
        if episode_id not in self._episode_versions:
            # Not an open episode of this screen: already proposed (a double tap) or made up.
            return None
        expected_version = self._episode_versions[episode_id]
        raw = {
            "end_reason": form_text(form_data, "end_reason", 40),
            "actual_end": form_text(form_data, "actual_end", 10),
        }
        errors: dict[str, str] = {}
        reason = raw["end_reason"] if raw["end_reason"] in {r.value for r in EndReason} else ""
        if not reason:
            errors["end_reason"] = "error.invalid_choice"
        actual_end: date | None = None
        try:
            actual_end = date.fromisoformat(raw["actual_end"])
        except ValueError:
            errors["actual_end"] = "error.invalid_value"

        def call(db: Any, actor: Actor) -> Any:
            if errors or actual_end is None:
                raise ValidationFailed(errors)
            return episodes.propose_closure(
                session=db, actor=actor, episode_id=episode_id, end_reason=EndReason(reason),
                actual_end=actual_end, expected_version=expected_version,
            )

        outcome = await self._run(call)
        self.closure_error = outcome.error
        self.closure_errors = {name: outcome.fields.get(name, "") for name in CLOSURE_FIELDS}
        self.episode_error = ""
        if outcome.value is not None or not outcome.fields:
            # Saved, or changed by someone else meanwhile (a conflict): show it as it is now.
            await self._fetch(client_id)
        if outcome.value is not None:
            return await self._confirm_saved("vol.profile.closure_proposed",
                                             name=self.head.get("name", ""))
        return focus_first_problem("propose-closure-form") if outcome.fields else None


def _not_found() -> rx.Component:
    return rx.flex(
        rx.icon("search-x", size=40, color="var(--gray-9)", aria_hidden="true"),
        rx.heading(tr("vol.profile.not_found_title"), size="5", as_="h2"),
        rx.text(tr("vol.profile.not_found_text")),
        rx.link(tr("vol.profile.back_to_list"), href="/clients", min_height="44px",
                display="flex", align_items="center"),
        direction="column",
        align="center",
        spacing="3",
        padding_y="32px",
        text_align="center",
        id="not-found",
    )


def _header() -> rx.Component:
    h: Any = ProfileState.head  # an ObjectVar of str (mypy cannot tell from dict[str, str])
    return rx.flex(
        rx.cond(
            ProfileState.photo_src != "",
            rx.image(src=ProfileState.photo_src, alt=tr("photo.alt") + " " + h["name"].to(str),
                     width="96px", height="96px", object_fit="cover", border_radius="12px",
                     id="client-photo"),
        ),
        rx.heading(h["name"], size="6", as_="h2", id="client-name"),
        rx.text(
            h["age"], " ", tr("vol.profile.years_old"), " (", h["birth_year"], ") · ",
            bi(h, "sex"), " · ", h["commune"],
            size="3", color="var(--gray-11)", id="client-facts",
        ),
        rx.flex(
            rx.badge(bi(h, "status"), color_scheme=rx.cond(h["status"] == "active", "teal",
                                                           "gray"), size="2", high_contrast=True),
            rx.text(tr("vol.profile.assigned"), ": ",
                    rx.el.span(bi(h, "assigned"), id="assigned-to"), size="2",
                    color="var(--gray-11)"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        direction="column",
        spacing="1",
    )


def _actions() -> rx.Component:
    s = ProfileState
    base = "/clients/" + s.cid
    return rx.flex(
        rx.cond(s.actions.contains("visit"),
                action_link("vol.action.log_visit", base + "/visit", "house", primary=True,
                            link_id="action-visit")),
        rx.grid(
            rx.cond(s.actions.contains("test"),
                    action_link("vol.action.test", base + "/test", "test-tube",
                                link_id="action-test")),
            rx.cond(s.actions.contains("referral"),
                    action_link("vol.action.referral", base + "/referral", "send",
                                link_id="action-referral")),
            rx.cond(s.actions.contains("support"),
                    action_link("vol.action.support", base + "/support", "hand-heart",
                                link_id="action-support")),
            rx.cond(s.can_issue_card,
                    action_link("vol.action.card", base + "/card", "id-card",
                                link_id="action-card")),
            columns="2",
            gap="8px",
        ),
        direction="column",
        spacing="2",
        margin_top="16px",
        role="group",
        aria_label=tr("vol.profile.actions"),
    )


def _episode_card() -> rx.Component:
    e: Any = ProfileState.episode
    return rx.box(
        section_heading("vol.profile.episode"),
        drawn_together(rx.cond(
            ProfileState.has_episode,
            rx.box(
                rx.text(bi(e, "type"), weight="bold", size="3"),
                rx.text(tr("vol.profile.started"), ": ", e["start"], " · ", bi(e, "status"),
                        size="2", color="var(--gray-11)"),
                rx.cond(
                    e["end"] != "",
                    rx.text(tr("vol.profile.expected_end"), ": ", e["end"], " · ",
                            rx.el.span(bi(e, "term"), id="episode-term"), size="3",
                            id="episode-end"),
                ),
                rx.badge(bi(e, "left"), color_scheme=e["tone"], size="2", id="episode-left",
                         margin_top="4px", high_contrast=True),
                padding="12px",
                border="1px solid var(--gray-5)",
                border_radius="12px",
                background="white",
                id="episode",
            ),
            empty_note("vol.profile.no_episode", note_id="no-episode"),
        )),
        rx.cond(
            ProfileState.can_propose_closure & (ProfileState.closable.length() > 0),
            _propose_closure_form(),
        ),
        rx.cond(ProfileState.can_open_episode, _open_episode_form()),
        rx.link(css_icon("scale", 18), tr("law.records.link"),
                href="/clients/" + ProfileState.cid + "/law", display="flex", gap="8px",
                align_items="center", min_height="44px", margin_top="8px", id="law-link"),
    )


def _outcome(error: rx.Var | None, saved: rx.Var | None, prefix: str) -> rx.Component:
    """A form's outcome: what went wrong, or that it was saved (ids `<prefix>-error|saved`).
    High contrast: the theme's soft green and red text fall short of 4.5:1 on their tints."""
    parts: list[rx.Component] = []
    if isinstance(error, rx.Var):
        parts.append(rx.cond(error != "", rx.callout(
            error, icon="triangle-alert", color_scheme="red", high_contrast=True, role="alert",
            id=f"{prefix}-error")))
    if isinstance(saved, rx.Var):
        parts.append(rx.cond(saved != "", rx.callout(
            saved, icon="circle-check", color_scheme="green", high_contrast=True, role="status",
            id=f"{prefix}-saved")))
    return rx.fragment(*parts)


def _open_episode_form() -> rx.Component:
    s = ProfileState
    errors: Any = s.episode_errors
    return lazy_disclosure(
        "vol.profile.open_episode",
        checked_form(
            rx.flex(
                select_field("vol.profile.episode_type", "episode_type",
                             [(t.value, f"vol.episode_type.{t.value}") for t in EpisodeType],
                             error=errors["episode_type"]),
                text_field("vol.profile.start_date", "start_date", type="date", required=True,
                           error=errors["start_date"]),
                text_field("vol.profile.decision_number", "decision_number", max_length=60,
                           error=errors["decision_number"]),
                date_field("law.profile.decision_date", "decision_date", required=False,
                           max_date=s.today, error=errors["decision_date"],
                           hint_key="law.profile.decision_date_hint"),
                text_field("law.profile.decision_authority", "decision_authority",
                           max_length=120, error=errors["decision_authority"]),
                text_field("law.profile.decision_signer", "decision_signer", max_length=120,
                           error=errors["decision_signer"]),
                number_field("law.profile.decided_months", "decided_months", minimum=0,
                             maximum=120, error=errors["decided_months"],
                             hint_key="law.profile.decided_months_hint"),
                select_field("law.profile.held_at", "held_at", HELD_AT,
                             error=errors["held_at"]),
                _outcome(s.episode_error, None, "episode"),
                submit_button("vol.profile.open_episode", id="open-episode-submit",
                              high_contrast=True),
                direction="column",
                spacing="3",
            ),
            on_submit=s.open_episode,
            form_id="open-episode-form",
            reset_on_submit=True,
            padding_top="12px",
        ),
        summary_id="open-episode-toggle",
        key=ProfileState.cid,
        style={"marginTop": "12px"},
    )


def _propose_closure_form() -> rx.Component:
    s = ProfileState
    errors: Any = s.closure_errors
    return lazy_disclosure(
        "vol.profile.propose_closure",
        checked_form(
            rx.flex(
                labelled(
                    "vol.profile.closure_episode",
                    rx.el.select(
                        rx.foreach(s.closable,
                                   lambda e: rx.el.option(bi(e, "label"), value=e["id"])),
                        id="episode_id",
                        name="episode_id",
                        style=SELECT_STYLE,
                    ),
                    field_id="episode_id",
                    error=errors["episode_id"],
                ),
                select_field("vol.profile.end_reason", "end_reason", END_REASONS,
                             error=errors["end_reason"]),
                date_field("vol.profile.actual_end", "actual_end", default=s.today,
                           max_date=s.today, error=errors["actual_end"]),
                rx.text(tr("vol.profile.closure_hint"), size="2", color="var(--gray-11)"),
                _outcome(s.closure_error, None, "closure"),
                submit_button("vol.profile.propose_closure", id="propose-closure-submit",
                              high_contrast=True),
                direction="column",
                spacing="3",
            ),
            on_submit=s.propose_closure,
            form_id="propose-closure-form",
            padding_top="12px",
        ),
        summary_id="propose-closure-toggle",
        key=ProfileState.cid,
        style={"marginTop": "12px"},
    )


def _photo_section() -> rx.Component:
    """Take (or replace) the client's photo with their consent, or delete it when they
    withdraw it. A plain section of the page (no form: the file goes by upload)."""
    s = ProfileState
    errors: Any = s.photo_errors
    return lazy_disclosure(
        "photo.title",
        rx.flex(
            rx.cond(
                s.photo_src != "",
                rx.button(rx.icon("trash-2", size=18, aria_hidden="true"), tr("photo.withdraw"),
                          on_click=s.withdraw_photo, variant="soft", color_scheme="red",
                          size="3", width="100%", id="withdraw-photo", type="button"),
            ),
            rx.upload.root(
                rx.flex(
                    rx.button(rx.icon("camera", size=18, aria_hidden="true"),
                              tr("photo.choose"), type="button", variant="soft", size="3"),
                    rx.foreach(rx.selected_files(PHOTO_UPLOAD),
                               lambda f: rx.text(f, weight="bold", id="chosen-photo")),
                    direction="column", align="center", spacing="2",
                ),
                id=PHOTO_UPLOAD,
                accept={"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"]},
                max_files=1,
                multiple=False,
                border="2px dashed var(--gray-10)",
                border_radius="12px",
                padding="12px",
                width="100%",
            ),
            field_error(errors["photo"], field_id="photo"),
            rx.el.label(
                # Uncontrolled: ticks at once on a slow network; the server keeps its copy.
                rx.el.input(type="checkbox", id="photo_consent", default_checked=False,
                            on_change=s.set_photo_consent,
                            style={"width": "22px", "height": "22px", "flexShrink": "0"}),
                tr("photo.consent"),
                html_for="photo_consent",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            ),
            field_error(errors["photo_consent"], field_id="photo_consent"),
            rx.button(rx.icon("check", size=18, aria_hidden="true"), tr("photo.save"),
                      on_click=s.upload_photo(rx.upload_files(upload_id=PHOTO_UPLOAD)),
                      size="3", width="100%", id="save-photo", type="button"),
            direction="column",
            spacing="3",
            padding_top="12px",
            id="photo-form",
        ),
        summary_id="photo-toggle",
        key=ProfileState.cid,
        on_first_open=name_file_input_after_button(PHOTO_UPLOAD),
        style={"marginTop": "12px"},
    )


def _details() -> rx.Component:
    return lazy_disclosure(
        "vol.profile.details",
        rx.el.dl(
            rx.foreach(
                ProfileState.details,
                # Plain elements with classes (assets/lists.css): no run-time style per row.
                lambda d: rx.el.div(
                    rx.el.dt(bi(d, "label"), class_name="dh-detail-label"),
                    rx.el.dd(bi(d, "shown"), class_name="dh-detail-value"),
                    class_name="rt-Flex rt-r-fd-column dh-detail",
                    id=d["id"],
                ),
            ),
            style={"margin": "0", "padding": "4px 12px"},
        ),
        summary_id="details-toggle",
        key=ProfileState.cid,
        style={"marginTop": "20px"},
    )


def _timeline() -> rx.Component:
    s = ProfileState
    return rx.box(
        section_heading("vol.profile.timeline"),
        rx.cond(
            s.timeline.length() > 0,
            rx.el.ol(rx.foreach(s.timeline, timeline_item), id="timeline",
                     style={"padding": "0", "margin": "0"}),
            empty_note("vol.profile.no_history"),
        ),
        rx.cond(
            s.timeline_more > 0,
            rx.button(
                tr("vol.profile.timeline_more"), " (", s.timeline_more, ")",
                on_click=s.show_more_timeline,
                variant="soft",
                high_contrast=True,
                size="3",
                width="100%",
                margin_top="12px",
                id="timeline-more",
            ),
        ),
    )


def _privacy_links() -> rx.Component:
    """Consent (case workers) and "Ai đã xem hồ sơ này" (supervisors only: a volunteer never
    receives the audit of a record)."""
    base = "/clients/" + ProfileState.cid
    role = AppState.nav_role
    return rx.grid(
        rx.cond((role == "volunteer") | (role == "supervisor"),
                action_link("privacy.consent.title", base + "/consent", "file-check",
                            link_id="action-consent")),
        rx.cond(role == "supervisor",
                action_link("privacy.audit.title", base + "/audit", "eye",
                            link_id="action-audit")),
        columns="2", gap="8px", margin_top="8px",
    )


def profile_page() -> rx.Component:
    s = ProfileState
    return app_frame(
        "vol.profile.title",
        rx.match(
            s.view,
            ("found", rx.fragment(drawn_together(_header(), _actions(), _privacy_links()),
                                  _episode_card(),
                                  rx.cond(s.can_edit_photo, _photo_section()), _details(),
                                  _timeline())),
            ("missing", _not_found()),
            loading_note(),
        ),
    )

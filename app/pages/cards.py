"""A client's QR card (issue, reissue, revoke, history, the ID-1 PDF) and the A4 print sheet.

The database keeps only keyed hashes of a card's token and code, so the QR and the code are
shown (and the ID-1 PDF made) only right after a card is issued, from the issuing answer; the
tab keeps that card in a backend var until the screen is loaded again. Printing later means a
new card (the old one is revoked), and the A4 sheet reissues every card it prints. Every issue,
revoke and print is audited by `app.services.cards`.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime
from typing import Any

import reflex as rx

from app.components.forms import choice_group, select_field
from app.components.frame import BRAND, app_frame
from app.components.native_fields import SELECT_STYLE
from app.i18n import t
from app.pages.record_form import client_id_in, not_found_screen
from app.services import card_sheets, cards, clients, deployment
from app.services.calendar import LOCAL_TZ
from app.services.cards import REVOKE_REASONS, CardRead, IssuedCard
from app.services.policy import Action, role_may
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import CardStatus, Role

ISSUE_ROLES: tuple[Role, ...] = tuple(r for r in Role if role_may(r, Action.CARD_ISSUE))
REASONS: list[tuple[str, str]] = [
    (r, f"card.reason.{r}") for r in ("lost", "stolen", "damaged", "withdrawn", "other")
]
assert {r for r, _ in REASONS} == REVOKE_REASONS
_KEY = re.compile(r"[0-9a-f]{32}")


def _dmy(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y") if moment is not None else ""


def _pdf_name(layout: str) -> str:
    """Neutral file names: nothing about the person or the programme."""
    return f"the-{layout}-{datetime.now(LOCAL_TZ):%Y%m%d-%H%M}.pdf"


def base_url_for(session: Any) -> str:
    """Where the QR link points: the public address of the deployment settings, else "" (the
    bare token). Never the issuing browser's own host, which may be a private address."""
    return deployment.public_url(session)


class CardState(AppState):
    not_found: bool = False
    client_name: str = ""
    client_id: str = ""
    has_card: bool = False
    qr_src: str = ""
    short_code: str = ""
    issued_on: str = ""
    history: list[dict[str, str]] = []
    confirming: str = ""  # "" | "reissue" | "revoke"
    issue_key: str = ""
    error: str = ""
    success: str = ""
    working: bool = False
    # No public address in the deployment settings: the QR holds the bare token only.
    public_url_missing: bool = False

    _active_card_id: int | None = None
    # The card this tab has just issued (its clear token exists nowhere else): shown and
    # printable until the screen is loaded again.
    _fresh: IssuedCard | None = None

    # ---- helpers ---------------------------------------------------------------------------

    def _route_client(self) -> int | None:
        return client_id_in(self.router.url.path)

    def _reset_screen(self) -> None:
        self.not_found = False
        self.client_name = ""
        self.client_id = ""
        self.has_card = False
        self.qr_src = ""
        self.short_code = ""
        self.issued_on = ""
        self.history = []
        self.confirming = ""
        self.error = ""
        self.success = ""
        self.working = False
        self._active_card_id = None
        self._fresh = None

    async def _refresh(self, client_id: int) -> bool:
        """Reload the card, its QR and the history; False (and "not found") if out of scope."""
        fresh = self._fresh

        def read(db: Any, actor: Any) -> tuple[str, list[CardRead], str, bool]:
            base_url = base_url_for(db)
            client = clients.get_client(session=db, actor=actor, client_id=client_id)
            history = cards.card_history(session=db, actor=actor, client_id=client_id)
            shown = fresh is not None and any(
                c.id == fresh.id and c.status == CardStatus.ACTIVE for c in history)
            svg = cards.issued_qr_svg(fresh, base_url) if fresh is not None and shown else ""
            return client.full_name, history, svg, not base_url

        outcome = await self._run(read)
        if not outcome.ok or outcome.value is None:
            self._reset_screen()
            self.not_found = True
            return False
        name, history, svg, self.public_url_missing = outcome.value
        self.client_name = name
        self.client_id = str(client_id)
        active = next((c for c in history if c.status == CardStatus.ACTIVE), None)
        self.has_card = active is not None
        self._active_card_id = active.id if active is not None else None
        if not svg:
            self._fresh = None
        self.short_code = (cards.format_short_code(self._fresh.short_code)
                           if self._fresh is not None else "")
        self.issued_on = _dmy(active.issued_at) if active is not None else ""
        encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii") if svg else ""
        self.qr_src = f"data:image/svg+xml;base64,{encoded}" if svg else ""
        self.history = [
            {
                "id": str(c.id),
                "status": c.status.value,
                "issued": _dmy(c.issued_at),
                "revoked": _dmy(c.revoked_at),
                "reason": c.revoked_reason,
            }
            for c in history
        ]
        return True

    # ---- handlers --------------------------------------------------------------------------

    @guarded(*ISSUE_ROLES)
    async def load(self) -> None:
        self._reset_screen()
        self.issue_key = secrets.token_hex(16)
        client_id = self._route_client()
        if client_id is None:
            self.not_found = True
            return
        await self._refresh(client_id)

    @guarded(*ISSUE_ROLES)
    async def ask(self, what: Any) -> None:
        """Open the confirmation for "reissue" or "revoke" (anything else closes it)."""
        self.confirming = what if what in ("reissue", "revoke") else ""
        self.error = ""
        self.success = ""

    @guarded(*ISSUE_ROLES)
    async def issue(self, form_data: dict[str, Any]) -> None:
        """Issue a card (a reissue revokes the current one). A double tap sends the same key
        twice; only the first matches the current key, so only one card is made."""
        client_id = self._route_client()
        sent = str(form_data.get("issue_key", "")) if isinstance(form_data, dict) else ""
        if client_id is None or not _KEY.fullmatch(sent) or sent != self.issue_key:
            return
        self.issue_key = secrets.token_hex(16)
        outcome = await self._run(
            lambda db, actor: cards.issue_card(session=db, actor=actor, client_id=client_id)
        )
        if not outcome.ok or outcome.value is None:
            self.error = outcome.error
            self.success = ""
            return
        self._fresh = outcome.value
        if await self._refresh(client_id):
            self.success = await self._text("cardui.card.issued")

    @guarded(*ISSUE_ROLES)
    async def revoke(self, form_data: dict[str, Any]) -> None:
        client_id = self._route_client()
        card_id = self._active_card_id
        reason = str(form_data.get("reason", "")) if isinstance(form_data, dict) else ""
        if client_id is None or card_id is None:
            return
        outcome = await self._run(
            lambda db, actor: cards.revoke_card(
                session=db, actor=actor, card_id=card_id, reason=reason[:40]
            )
        )
        if not outcome.ok:
            self.error = outcome.fields.get("reason") or outcome.error
            self.success = ""
            return
        if await self._refresh(client_id):
            self.success = await self._text("cardui.card.revoked")

    @guarded(*ISSUE_ROLES)
    async def download_card(self) -> Any:
        """The card this tab has just issued as an 85.6 × 54 mm PDF (audited as a print)."""
        client_id = self._route_client()
        fresh = self._fresh
        if client_id is None:
            return None
        if fresh is None or fresh.client_id != client_id or fresh.id != self._active_card_id:
            self.error = await self._text("cardui.card.print_after_issue")
            return None
        outcome = await self._run(
            lambda db, actor: cards.print_issued(
                session=db, actor=actor, issued=[fresh], base_url=base_url_for(db),
                layout="id1",
            )
        )
        if not outcome.ok or outcome.value is None:
            self.error = outcome.error
            return None
        return rx.download(data=outcome.value, filename=_pdf_name("id1"),
                           mime_type="application/pdf")


class PrintState(AppState):
    communes: list[dict[str, str]] = []
    error: str = ""
    success: str = ""

    @guarded(Role.SUPERVISOR)
    async def load(self) -> None:
        self.error = ""
        self.success = ""
        await self._count()

    async def _count(self) -> None:
        outcome = await self._run(
            lambda db, actor: card_sheets.communes_with_cards(session=db, actor=actor)
        )
        lang = await self._lang()
        self.communes = [
            {"id": str(c.commune_id),
             "label": t("cardui.print.count", lang, name=c.name, count=c.cards,
                        without=c.without)}
            for c in outcome.value or []
        ]
        self.error = outcome.error

    @guarded(Role.SUPERVISOR)
    async def download(self, form_data: dict[str, Any]) -> Any:
        """An A4 PDF of one commune's cards: new cards for the clients without one (the cards in
        use stay valid), or every card reissued (each audited)."""
        data = form_data if isinstance(form_data, dict) else {}
        raw = str(data.get("commune_id", ""))
        sheet = str(data.get("sheet", "new"))
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 12) \
                or sheet not in ("new", "reissue"):
            self.error = await self._text("error.invalid_choice")
            self.success = ""
            return None
        commune_id = int(raw)
        chosen: card_sheets.Sheet = "new" if sheet == "new" else "reissue"

        def print_sheet(db: Any, actor: Any) -> tuple[int, bytes | None]:
            ids = card_sheets.clients_for_sheet(session=db, actor=actor, commune_id=commune_id,
                                                sheet=chosen)
            if not ids:
                return 0, None
            pdf = cards.print_cards(session=db, actor=actor, client_ids=ids,
                                    base_url=base_url_for(db), layout="a4", sheet=chosen)
            return len(ids), pdf

        outcome = await self._run(print_sheet)
        if not outcome.ok or outcome.value is None:
            self.error = outcome.error
            self.success = ""
            return None
        count, pdf = outcome.value
        if pdf is None:
            self.error = await self._text(f"cardui.print.nobody_{chosen}")
            self.success = ""
            return None
        self.error = ""
        self.success = await self._text("cardui.print.done", count=count)
        await self._count()
        return rx.download(data=pdf, filename=_pdf_name("a4"), mime_type="application/pdf")


# ---- layout ---------------------------------------------------------------------------------


# Solid buttons in colours with WCAG AA contrast for white text (Radix step 9 falls short).
_SOLID = {"teal": BRAND, "red": "#b91c1c"}


def _outcome(error: rx.Var, success: rx.Var) -> rx.Component:
    return rx.fragment(
        rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red",
                                        role="alert", id="form-error", high_contrast=True)),
        rx.cond(success != "", rx.callout(success, icon="circle-check", color_scheme="green",
                                          role="status", id="form-success", high_contrast=True)),
    )


def _big_button(icon: str, label_key: str, **props: Any) -> rx.Component:
    if props.get("variant", "solid") == "solid":
        props.setdefault("background_color", _SOLID[props.get("color_scheme", "teal")])
        props.setdefault("color", "white")
    props.setdefault("size", "4")
    props.setdefault("width", "100%")
    props.setdefault("min_height", "52px")
    return rx.button(rx.icon(icon, size=20, aria_hidden="true"), tr(label_key), **props)


def _issue_form(label_key: str, form_id: str) -> rx.Component:
    return rx.form(
        rx.el.input(type="hidden", name="issue_key", value=CardState.issue_key),
        # Disabled until the screen's load has given the form its key: a tap before then would
        # carry none and be ignored without a word.
        _big_button("badge-plus", label_key, type="submit", id=f"{form_id}-submit",
                    disabled=CardState.issue_key == ""),
        on_submit=CardState.issue,
        reset_on_submit=False,
        id=form_id,
        width="100%",
    )


def _active_card() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.heading(tr("cardui.card.active"), size="4", as_="h2"),
            rx.cond(
                CardState.qr_src != "",
                rx.fragment(
                    rx.image(
                        src=CardState.qr_src,
                        alt=tr("card.title"),
                        width="240px",
                        height="240px",
                        id="card-qr",
                        style={"imageRendering": "pixelated", "background": "white"},
                    ),
                    rx.text(CardState.short_code, font_family="monospace", size="6",
                            weight="bold", id="card-code", letter_spacing="0.06em"),
                ),
            ),
            rx.text(tr("card.issued_at"), ": ", CardState.issued_on, size="2",
                    color="var(--gray-11)"),
            rx.cond(
                CardState.qr_src != "",
                rx.text(tr("cardui.card.show_hint"), size="2", color="var(--gray-11)",
                        text_align="center"),
                rx.text(tr("cardui.card.code_once"), size="2", color="var(--gray-11)",
                        text_align="center", id="card-code-once"),
            ),
            rx.cond(CardState.public_url_missing,
                    rx.callout(tr("deploy.card_no_public_url"), icon="triangle-alert",
                               color_scheme="amber", high_contrast=True, id="no-public-url")),
            direction="column",
            align="center",
            spacing="2",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.cond(
        CardState.has_card,
        rx.flex(
            rx.cond(CardState.qr_src != "",
                    _big_button("download", "card.print_id1", on_click=CardState.download_card,
                                id="download-card")),
            rx.match(
                CardState.confirming,
                (
                    "reissue",
                    rx.callout(
                        rx.flex(
                            rx.text(tr("cardui.card.reissue_confirm")),
                            _issue_form("card.reissue", "reissue-form"),
                            rx.button(tr("common.cancel"), on_click=CardState.ask(""),
                                      variant="soft", size="3", width="100%"),
                            direction="column",
                            spacing="3",
                        ),
                        icon="triangle-alert", color_scheme="amber", high_contrast=True,
                    ),
                ),
                (
                    "revoke",
                    rx.callout(
                        rx.form(
                            rx.flex(
                                rx.text(tr("cardui.card.revoke_confirm")),
                                select_field("cardui.card.revoke_reason", "reason", REASONS),
                                _big_button("ban", "card.revoke", type="submit",
                                            color_scheme="red", id="revoke-submit"),
                                rx.button(tr("common.cancel"), on_click=CardState.ask(""),
                                          variant="soft", size="3", width="100%"),
                                direction="column",
                                spacing="3",
                            ),
                            on_submit=CardState.revoke,
                            reset_on_submit=False,
                            id="revoke-form",
                        ),
                        icon="triangle-alert", color_scheme="red", high_contrast=True,
                    ),
                ),
                rx.flex(
                    _big_button("refresh-cw", "card.reissue", variant="outline",
                                on_click=CardState.ask("reissue"), id="reissue"),
                    _big_button("ban", "card.revoke", variant="outline", color_scheme="red",
                                on_click=CardState.ask("revoke"), id="revoke"),
                    direction="column",
                    spacing="3",
                ),
            ),
            direction="column",
            spacing="3",
            width="100%",
        ),
        rx.flex(
            rx.callout(tr("cardui.card.none"), icon="info", id="no-card", high_contrast=True),
            _issue_form("card.issue", "issue-form"),
            direction="column",
            spacing="3",
            width="100%",
        ),
    )


def _history_row(row: Any) -> rx.Component:
    reason = rx.match(
        row["reason"],
        *[(r, tr(key)) for r, key in REASONS],
        ("reissued", tr("card.reason.reissued")),
        "",
    )
    return rx.flex(
        rx.flex(
            rx.text(tr("card.issued_at"), ": ", row["issued"], weight="bold"),
            rx.spacer(),
            rx.badge(
                rx.cond(row["status"] == "active", tr("card.status.active"),
                        tr("card.status.revoked")),
                color_scheme=rx.cond(row["status"] == "active", "green", "gray"),
                high_contrast=True,
            ),
            align="center",
            spacing="2",
        ),
        rx.cond(
            row["revoked"] != "",
            rx.text(tr("card.revoked_at"), ": ", row["revoked"], " · ", tr("cardui.card.reason"),
                    ": ", reason, size="2"),
        ),
        direction="column",
        spacing="1",
        padding_y="8px",
        border_bottom="1px solid var(--gray-5)",
        class_name="card-history-row",
    )


def _card_screen() -> rx.Component:
    return rx.flex(
        rx.text(
            rx.el.span(tr("cardui.card.client"), ": ", color="var(--gray-11)"),
            rx.el.strong(CardState.client_name, id="client-name"),
            size="4",
        ),
        _outcome(CardState.error, CardState.success),
        rx.cond(CardState.has_card, _active_card()),
        _actions(),
        rx.heading(tr("card.history"), size="4", as_="h2", margin_top="12px"),
        rx.cond(
            CardState.history.length() == 0,
            rx.text(tr("cardui.card.history_empty"), color="var(--gray-11)"),
            rx.flex(rx.foreach(CardState.history, _history_row), direction="column",
                    id="card-history"),
        ),
        rx.link(tr("cardui.card.back"), href="/clients/" + CardState.client_id,
                id="back-to-profile", padding_y="12px"),
        rx.cond(
            CardState.nav_role == "supervisor",
            rx.link(tr("cardui.print.title"), href="/cards/print", id="to-print-sheet",
                    padding_y="12px"),
        ),
        direction="column",
        spacing="4",
        width="100%",
        max_width="560px",
    )


def card_page() -> rx.Component:
    return app_frame(
        "card.title",
        rx.cond(CardState.not_found, not_found_screen(), _card_screen()),
    )


def print_page() -> rx.Component:
    return app_frame(
        "cardui.print.title",
        rx.flex(
            rx.text(tr("cardui.print.hint"), color="var(--gray-11)"),
            _outcome(PrintState.error, PrintState.success),
            rx.cond(
                PrintState.communes.length() == 0,
                rx.callout(tr("cardui.print.none"), icon="info", id="no-cards",
                           high_contrast=True),
                rx.form(
                    rx.flex(
                        rx.flex(
                            rx.el.label(tr("cardui.print.commune"), html_for="commune_id",
                                        font_weight="500"),
                            rx.el.select(
                                rx.foreach(
                                    PrintState.communes,
                                    lambda c: rx.el.option(c["label"], value=c["id"]),
                                ),
                                id="commune_id",
                                name="commune_id",
                                style=SELECT_STYLE,
                            ),
                            direction="column",
                            spacing="1",
                        ),
                        choice_group("cardui.print.sheet", "sheet",
                                     [("new", "cardui.print.sheet_new"),
                                      ("reissue", "cardui.print.sheet_reissue")],
                                     default="new", required=True),
                        _big_button("download", "cardui.print.download", type="submit",
                                    id="print-a4"),
                        direction="column",
                        spacing="4",
                    ),
                    on_submit=PrintState.download,
                    reset_on_submit=False,
                    id="print-form",
                ),
            ),
            direction="column",
            spacing="4",
            width="100%",
            max_width="560px",
        ),
    )

"""Scan a client's card (camera, typed code or a USB/Bluetooth scanner) and, for clinic staff,
record that the client came for a referral.

What was scanned reaches the server only as the argument of one event and goes straight to
`cards.resolve_scan`: it is never kept in a state var, put in a URL or logged. What the screen
keeps is the minimal view the service returned; the client's id and the referrals shown stay in
backend-only vars so "record attendance" needs no card text a second time.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.api.security import device_cookie
from app.components.client_cards import dmy
from app.components.forms import labelled, text_input
from app.components.frame import BRAND, app_frame, greeting
from app.components.qr_scanner import qr_scanner
from app.services import cards
from app.services.cards import CardView, ScanResult, ScanStatus
from app.services.policy import Action, role_may
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

SCAN_ROLES: tuple[Role, ...] = tuple(r for r in Role if role_may(r, Action.CARD_SCAN))
MAX_SCANNED = 400  # longer than any card link; the service refuses anything above 300
PENDING_KEY = "dh_card"
# Solid buttons in the brand teal (white on Radix teal-9 is below WCAG AA contrast).
PRIMARY: dict[str, Any] = {"background_color": BRAND, "color": "white"}
PENDING_MAX_AGE_MS = 10 * 60 * 1000

# The card link a phone's camera app opened on /k before sign-in (kept in this tab's
# sessionStorage only): read it once, delete it, hand it to `ScanState.scanned`.
TAKE_PENDING_JS = (
    "(() => { let raw = null;"
    f" try {{ raw = sessionStorage.getItem('{PENDING_KEY}');"
    f" sessionStorage.removeItem('{PENDING_KEY}'); }} catch (e) {{ return ''; }}"
    " if (!raw) return '';"
    " try { const o = JSON.parse(raw);"
    f" return (typeof o.v === 'string' && Date.now() - o.t < {PENDING_MAX_AGE_MS}) ? o.v : '';"
    " } catch (e) { return ''; } })()"
)


class ScanState(AppState):
    # False until this screen's load has run: the camera button stays disabled until then, so
    # a tap before the page is ready is not lost (the button had no handler yet).
    ready: bool = False
    camera_on: bool = False
    camera_error_key: str = ""
    working: bool = False
    # "" (nothing yet) | ok | not_found | revoked | invalid | error (throttled, failures)
    result: str = ""
    message: str = ""
    given_name: str = ""
    age_text: str = ""
    card_status: str = ""
    # The client's photo, if they consented to one (served only to those who may see them).
    photo_src: str = ""
    referrals: list[dict[str, str]] = []
    attended: str = ""
    attendance_error: str = ""

    _client_id: int | None = None
    _referral_ids: list[int] = []

    # ---- helpers ---------------------------------------------------------------------------

    def _clear_result(self) -> None:
        self.result = ""
        self.message = ""
        self.given_name = ""
        self.age_text = ""
        self.card_status = ""
        self.photo_src = ""
        self.referrals = []
        self.attended = ""
        self.attendance_error = ""
        self._client_id = None
        self._referral_ids = []

    async def _show_view(self, view: CardView) -> None:
        self.given_name = view.given_name
        self.age_text = await self._text("card.view.age", age=view.age)
        self.card_status = view.card_status.value
        self.photo_src = f"/api/photos/{view.photo_path}" if view.photo_path else ""
        self._client_id = view.client_id
        self._referral_ids = [r.id for r in view.referrals]
        self.referrals = [
            {
                "id": str(r.id),
                "service": await self._text(f"rec.service.{r.service.value}"),
                "date": await self._text("cardui.scan.referred_on", date=dmy(r.referred_on)),
            }
            for r in view.referrals
        ]

    async def _resolve(self, scanned: str) -> None:
        self._clear_result()
        self.camera_on = False
        text = scanned[:MAX_SCANNED]
        self.working = True
        addr = self.router.session.client_ip or ""
        # The handshake's cookie, like the session's: never from an event or a state var.
        device = device_cookie(self.router.headers.cookie or "")
        outcome = await self._run(
            lambda db, actor: cards.resolve_scan(
                session=db, actor=actor, scanned=text, client_addr=addr, device_id=device
            )
        )
        self.working = False
        found: ScanResult | None = outcome.value
        if not outcome.ok or found is None:
            self.result = "error"
            self.message = outcome.error
            return
        self.result = found.status.value
        self.message = await self._text(found.message_key)
        if found.status == ScanStatus.OK and found.view is not None:
            await self._show_view(found.view)

    # ---- handlers --------------------------------------------------------------------------

    @guarded(*SCAN_ROLES)
    async def load(self) -> Any:
        """Fresh screen; then the card link left by /k (if any) is submitted as a scan."""
        self._clear_result()
        self.camera_on = False
        self.camera_error_key = ""
        self.working = False
        self.ready = True
        return rx.call_script(TAKE_PENDING_JS, callback=ScanState.scanned)

    @guarded(*SCAN_ROLES)
    async def start_camera(self) -> None:
        self._clear_result()
        self.camera_error_key = ""
        self.camera_on = True

    @guarded(*SCAN_ROLES)
    async def stop_camera(self) -> None:
        self.camera_on = False

    @guarded(*SCAN_ROLES)
    async def camera_failed(self, reason: Any) -> None:
        self.camera_on = False
        denied = str(reason) == "denied"
        self.camera_error_key = (
            "cardui.scan.camera_denied" if denied else "cardui.scan.camera_unavailable"
        )

    @guarded(*SCAN_ROLES)
    async def scanned(self, text: Any) -> None:
        """A code read by the camera (or left by /k). Empty means nothing to do."""
        if not isinstance(text, str) or not text.strip():
            return
        await self._resolve(text)

    @guarded(*SCAN_ROLES)
    async def submit_code(self, form_data: dict[str, Any]) -> None:
        """A code typed by hand, or "typed" by a USB/Bluetooth scanner ending with Enter."""
        raw = form_data.get("code", "") if isinstance(form_data, dict) else ""
        text = str(raw or "")[:MAX_SCANNED]
        if not text.strip():
            self._clear_result()
            self.result = "error"
            self.message = await self._text("cardui.scan.code_required")
            return
        await self._resolve(text)

    @guarded(*SCAN_ROLES)
    async def scan_next(self) -> None:
        self._clear_result()
        self.camera_error_key = ""
        self.camera_on = True

    @guarded(Role.CLINIC)
    async def record_attendance(self, referral_id: Any) -> None:
        """The client came: completes the referral (to this clinic) and logs the visit."""
        try:
            wanted = int(str(referral_id))
        except ValueError:
            return
        client_id = self._client_id
        if client_id is None or wanted not in self._referral_ids:
            await self._run(lambda db, actor: cards.refuse_attendance_not_offered(
                session=db, actor=actor, referral_id=wanted))
            self.attendance_error = await self._text("error.not_found")
            return
        self.working = True
        outcome = await self._run(
            lambda db, actor: cards.record_attendance(
                session=db, actor=actor, referral_id=wanted, client_id=client_id
            )
        )
        self.working = False
        if not outcome.ok:
            self.attendance_error = outcome.error
            return
        self.attendance_error = ""
        self._referral_ids = [i for i in self._referral_ids if i != wanted]
        self.referrals = [r for r in self.referrals if r["id"] != str(wanted)]
        self.attended = await self._text("card.attendance.recorded")


# ---- layout ---------------------------------------------------------------------------------


def _camera() -> rx.Component:
    return rx.flex(
        qr_scanner(
            rx.button(
                rx.icon("camera", size=24, aria_hidden="true"),
                tr("card.scan_camera"),
                on_click=ScanState.start_camera,
                disabled=~ScanState.ready,
                size="4",
                min_height="56px",
                id="start-camera",
                **PRIMARY,
            ),
            active=ScanState.camera_on,
            on_decode=ScanState.scanned,
            on_camera_error=ScanState.camera_failed,
            id="scanner",
        ),
        rx.cond(
            ScanState.camera_on,
            rx.button(
                rx.icon("camera-off", size=18, aria_hidden="true"),
                tr("cardui.scan.stop"),
                on_click=ScanState.stop_camera,
                variant="soft",
                size="3",
                id="stop-camera",
            ),
        ),
        rx.match(
            ScanState.camera_error_key,
            (
                "cardui.scan.camera_denied",
                rx.callout(tr("cardui.scan.camera_denied"), icon="camera-off",
                           color_scheme="amber", role="status", id="camera-error",
                           high_contrast=True),
            ),
            (
                "cardui.scan.camera_unavailable",
                rx.callout(tr("cardui.scan.camera_unavailable"), icon="camera-off",
                           color_scheme="amber", role="status", id="camera-error",
                           high_contrast=True),
            ),
            rx.fragment(),
        ),
        direction="column",
        align="center",
        spacing="3",
        width="100%",
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.flex(
            labelled(
                "card.code",
                text_input(
                    id="code",
                    name="code",
                    type="text",
                    auto_complete="off",
                    auto_capitalize="characters",
                    enter_key_hint="search",
                    max_length=MAX_SCANNED,
                    input_class="dh-mono",
                ),
                field_id="code",
                hint_key="card.code_hint",
            ),
            rx.button(
                rx.cond(ScanState.working, rx.spinner(size="2"),
                        rx.icon("search", size=20, aria_hidden="true")),
                tr("cardui.scan.lookup"),
                type="submit",
                size="4",
                width="100%",
                min_height="52px",
                # Not disabled before the load (Enter in the field would then do nothing): a
                # code sent early is held until the page is ready, and goes after the load.
                disabled=ScanState.working,
                id="lookup",
                **PRIMARY,
            ),
            direction="column",
            spacing="3",
        ),
        on_submit=ScanState.submit_code,
        # The typed code must not stay on screen (or in the DOM) once looked up.
        reset_on_submit=True,
        id="code-form",
        width="100%",
    )


def _referral(ref: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.text(ref["service"], weight="bold", size="4"),
            rx.text(ref["date"], color="var(--gray-11)"),
            rx.button(
                rx.icon("circle-check", size=22, aria_hidden="true"),
                tr("card.attendance.record"),
                on_click=ScanState.record_attendance(ref["id"]),
                disabled=ScanState.working,
                # Named by its referral: several can be open at once.
                aria_label=tr("card.attendance.record") + ": " + ref["service"] + ", "
                + ref["date"],
                size="4",
                width="100%",
                min_height="56px",
                id="attend-" + ref["id"].to(str),
                **PRIMARY,
            ),
            direction="column",
            spacing="2",
        ),
        width="100%",
        class_name="scan-referral",
    )


def _view() -> rx.Component:
    initial = rx.cond(ScanState.given_name != "", ScanState.given_name[0], "?")
    return rx.card(
        rx.flex(
            rx.flex(
                rx.cond(
                    ScanState.photo_src != "",
                    # Large enough to recognise a face; the name and age say the rest.
                    rx.image(src=ScanState.photo_src, alt=tr("photo.alt") + " "
                             + ScanState.given_name, width="112px", height="112px",
                             object_fit="cover", border_radius="12px", id="scan-photo"),
                    rx.avatar(fallback=initial, size="6", radius="full", color_scheme="teal",
                              aria_hidden="true"),
                ),
                rx.flex(
                    rx.heading(ScanState.given_name, size="7", as_="h2", id="scan-name"),
                    rx.text(ScanState.age_text, size="4", id="scan-age"),
                    rx.badge(
                        rx.cond(ScanState.card_status == "active", tr("card.status.active"),
                                tr("card.status.revoked")),
                        color_scheme="green",
                        high_contrast=True,
                        size="2",
                        width="fit-content",
                        aria_label=tr("cardui.scan.card_status"),
                    ),
                    direction="column",
                    spacing="1",
                ),
                spacing="4",
                align="center",
            ),
            rx.cond(
                ScanState.nav_role == "clinic",
                rx.flex(
                    rx.heading(tr("card.view.referrals"), size="4", as_="h3"),
                    rx.cond(
                        ScanState.attended != "",
                        rx.callout(ScanState.attended, icon="circle-check", color_scheme="green",
                                   role="status", id="attendance-done", high_contrast=True),
                    ),
                    rx.cond(
                        ScanState.attendance_error != "",
                        rx.callout(ScanState.attendance_error, icon="triangle-alert",
                                   color_scheme="red", role="alert", id="attendance-error",
                                   high_contrast=True),
                    ),
                    rx.foreach(ScanState.referrals, _referral),
                    rx.cond(
                        (ScanState.referrals.length() == 0) & (ScanState.attended == ""),
                        rx.text(tr("card.view.no_referrals"), color="var(--gray-11)",
                                id="no-referrals"),
                    ),
                    direction="column",
                    spacing="3",
                ),
            ),
            direction="column",
            spacing="4",
        ),
        width="100%",
        id="scan-view",
    )


def _announcement() -> rx.Component:
    """What a screen reader says after a scan or an attendance, from a live region that is
    always on the page (one inserted with its text is often not read): "Card recognised. An,
    30 years old." Problems are alerts of their own."""
    s = ScanState
    return rx.el.p(
        rx.cond(
            s.attended != "",
            s.attended,
            rx.cond(s.result == "ok", s.message + " " + s.given_name + ", " + s.age_text + ".",
                    ""),
        ),
        role="status",
        id="scan-announce",
        class_name="dh-sr-only",
    )


def _result() -> rx.Component:
    problem = rx.callout(
        ScanState.message,
        icon="search-x",
        color_scheme="amber",
        role="alert",
        id="scan-message",
        high_contrast=True,
    )
    return rx.flex(
        rx.match(
            ScanState.result,
            ("ok", _view()),
            (
                "revoked",
                rx.callout(ScanState.message, icon="ban", color_scheme="red", role="alert",
                           size="3", id="scan-revoked", high_contrast=True),
            ),
            ("", rx.fragment()),
            problem,
        ),
        rx.cond(
            ScanState.result != "",
            rx.button(
                rx.icon("scan-line", size=20, aria_hidden="true"),
                tr("cardui.scan.next"),
                on_click=ScanState.scan_next,
                variant="outline",
                size="4",
                width="100%",
                min_height="52px",
                id="scan-next",
            ),
        ),
        direction="column",
        spacing="3",
        width="100%",
        id="scan-result",
    )


def scan_page() -> rx.Component:
    return app_frame(
        "nav.scan",
        rx.flex(
            greeting(),
            rx.el.p(tr("cardui.scan.intro"), class_name="rt-Text dh-muted"),
            _announcement(),
            _result(),
            rx.cond(ScanState.result == "", _camera()),
            _code_form(),
            direction="column",
            spacing="4",
            max_width="560px",
            width="100%",
        ),
    )

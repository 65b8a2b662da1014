"""Client QR cards: issue, revoke, history, printing, and what a scan may show to whom.

What the QR says
    ``{base_url}/k#{PREFIX}-{TOKEN}`` — e.g. ``https://donghanh.example.vn/k#DH1-MZXW6YTB...``.

    * ``TOKEN`` is 160 random bits (``secrets.token_bytes(20)``) in RFC 4648 base32 without
      padding: 32 characters from A–Z and 2–7. It says nothing about the person: no name, no
      database id, no programme, nothing that hints at drugs.
    * ``PREFIX`` (setting ``DH_CARD_PREFIX``, default ``DH1``) marks the text as one of our
      cards and versions the format.
    * The token sits in the URL *fragment* (after ``#``). Browsers never send the fragment to
      the server, so it stays out of web-server and proxy logs and out of ``Referer`` headers.
    * ``base_url`` is the deployment's public address and ``/k`` a route that only shows the
      neutral sign-in page. A phone's own camera app that opens the link therefore lands on the
      app and learns nothing; only the in-app scanner of a signed-in user who may scan turns
      the text into a client, through `resolve_scan`.
    * With no ``base_url`` the QR holds just ``PREFIX-TOKEN``; `parse_scanned` reads both.

What is printed under the QR
    A short code for typing when a camera fails: 10 random characters from Crockford's base32
    alphabet (0–9 and A–Z without I, L, O, U: 50 bits, generated independently of the token)
    plus one check character, grouped ``XXXX-XXXX-XX-C``. Typing is forgiving: case, spaces
    and dashes are ignored and I/L read as 1, O as 0.

    The check character is a weighted sum over GF(32) (polynomial x⁵+x²+1, weights αⁿ…α¹ on
    the data and 1 on the check, total zero). Because every weight is non-zero, any single
    wrong character changes the sum; because neighbouring weights differ (α ≠ 1), swapping two
    neighbouring different characters does too — including the last one with the check. Unlike
    Crockford's mod-37 check symbol, the check character comes from the same 32-character
    alphabet, so nobody has to type ``*``, ``~``, ``$``, ``=`` or ``U``.

Guessing
    A valid code must hit one of ~2⁵⁰ values (tokens: 2¹⁶⁰). Scans are limited per user to
    `SCAN_LIMIT` per `SCAN_WINDOW`, counted from the audit trail: every scan writes an audit
    event anyway, ``(actor_id, at)`` is indexed, so the trail *is* the counter and there is no
    second table to keep in step. Attempts refused for the limit itself are written with detail
    ``throttled`` and not counted, so a user who keeps trying is let in again as soon as fewer
    than `SCAN_LIMIT` real scans remain in the sliding window, rather than never. The same
    trail also limits scans per device (the browser's own id cookie, named in the trail by a
    short hash) and per network address, whoever is signed in: several accounts on one device
    or one network cannot multiply the limit.

What the database keeps
    Neither the token nor the short code: only their keyed hashes (HMAC-SHA256 under the server
    key, `security.keyed_hash`, the key kept outside the database), and a scan looks a card up by
    the hash of what was scanned. The clear values exist only in the answer that issued the
    card (`IssuedCard`): the card screen shows its QR and code then, and prints it then. Printing
    a card again therefore issues a new one and revokes the old ("reissued").

Who sees what
    Unknown codes and cards of clients outside the scanner's scope give the same "not found"
    (the audit trail records which it was). A revoked card says "revoked" only to someone who
    could see the client. An active card shows a minimal view: given name, age, photo, card
    status — and to clinic staff, the open referrals to *their* facilities. Nothing else: no
    notes, tests, HIV status, other facilities' referrals.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from app.services import audit, deployment, security
from app.services.activities import complete_referral
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.card_render import CardPrint, card_pdf, card_svg
from app.services.card_sheets import Sheet
from app.services.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from app.services.policy import (
    Action,
    authorize_client,
    authorize_grant,
    can,
    client_target,
)
from app.services.setting_rows import setting_text
from app.services.settings import load_settings
from models import (
    AuditEvent,
    Card,
    CardStatus,
    Client,
    ClientStatus,
    Referral,
    ReferralService,
    ReferralStatus,
    Role,
    Visit,
    VisitKind,
    utcnow,
)

TOKEN_BYTES = 20  # 160 bits
TOKEN_LENGTH = 32  # base32 characters, no padding
SHORT_CODE_DATA = 10  # random characters (50 bits) before the check character
SHORT_CODE_LENGTH = SHORT_CODE_DATA + 1
SCAN_LIMIT = 30
SCAN_WINDOW = timedelta(minutes=10)
# Per network address, whoever scans: several accounts (or many) on one device or one
# network cannot multiply the limit. Higher than one user's: a clinic's staff share an address.
SCAN_LIMIT_PER_ADDRESS = 60
# Per device (the browser's own id, `app.api.security.DEVICE_COOKIE`), whoever is signed in on
# it: switching accounts on one clinic tablet does not multiply the limit. One counter scans
# at one person's pace, so the same number as one user's.
SCAN_LIMIT_PER_DEVICE = SCAN_LIMIT
SCAN_ACTION = Action.CARD_SCAN.value
THROTTLED = "throttled"
CARD_PATH = "/k"
PROGRAMME_NAME_SETTING = "card.programme_name"
DEFAULT_PROGRAMME_NAME = "Chương trình Đồng Hành"

REISSUED = "reissued"
REVOKE_REASONS = frozenset({"lost", "stolen", "damaged", "withdrawn", "other"})
MAX_PRINT = 200

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {ch: i for i, ch in enumerate(CROCKFORD)}
_TYPO_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_IGNORED = str.maketrans("", "", " -\t\n\r")

OPEN_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED)


# --- results -------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardRead(_Out):
    """A card as its issuers see it. Neither its token nor its code: the database has neither."""

    id: int
    client_id: int
    status: CardStatus
    issued_at: datetime
    issued_by_id: int | None
    revoked_at: datetime | None
    revoked_reason: str


class IssuedCard(CardRead):
    """A card just issued, with the only copy of its clear token and short code (canonical)."""

    token: str
    short_code: str

    def payload(self, base_url: str = "") -> str:
        return qr_payload(self.token, base_url)


class ScanStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # unknown, or not the scanner's client: indistinguishable
    REVOKED = "revoked"
    INVALID = "invalid"  # not a card at all, or a mistyped code (the check character failed)


class ScanReferral(_Out):
    id: int
    service: ReferralService
    referred_on: date
    status: ReferralStatus


class CardView(_Out):
    """The minimal view of a presented card's holder. Deliberately no more fields than this."""

    client_id: int
    given_name: str
    age: int
    photo_path: str | None
    card_status: CardStatus
    # Clinic staff: open referrals to their own facilities. Everyone else: empty.
    referrals: list[ScanReferral] = Field(default_factory=list)


class ScanResult(_Out):
    status: ScanStatus
    message_key: str
    view: CardView | None = None


class AttendanceResult(_Out):
    referral_id: int
    referral_status: ReferralStatus
    visit_id: int
    visit_date: date


class ScanThrottled(DomainError):
    """Too many scans by this user in the window; try again later."""

    key = "card.error.scan_throttled"


_MESSAGES = {
    ScanStatus.OK: "card.scan.ok",
    ScanStatus.NOT_FOUND: "card.scan.not_found",
    ScanStatus.REVOKED: "card.scan.revoked",
    ScanStatus.INVALID: "card.scan.invalid",
}


# --- tokens, payloads and short codes ------------------------------------------------------


def new_card_token() -> str:
    """160 random bits as 32 base32 characters (A–Z, 2–7), no padding."""
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


def _prefix(prefix: str | None) -> str:
    return (prefix if prefix is not None else load_settings().card_prefix).strip().upper()


def qr_payload(token: str, base_url: str = "", *, prefix: str | None = None) -> str:
    """The text of the QR: ``{base_url}/k#{PREFIX}-{token}`` (or ``PREFIX-token`` alone)."""
    tagged = f"{_prefix(prefix)}-{token}"
    base = base_url.strip().rstrip("/")
    return f"{base}{CARD_PATH}#{tagged}" if base else tagged


def _gf32_mul(a: int, b: int) -> int:
    """Multiply in GF(2⁵) modulo x⁵ + x² + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= 0b100101
    return product


def _weights(n: int) -> list[int]:
    """α^n, …, α^1 with α = x (the element 2): distinct, non-zero, neighbours differ."""
    powers = [1]
    for _ in range(n):
        powers.append(_gf32_mul(powers[-1], 2))
    return list(reversed(powers[1:]))


def _check_char(data: str) -> str:
    total = 0
    for weight, ch in zip(_weights(len(data)), data, strict=True):
        total ^= _gf32_mul(weight, _CROCKFORD_VALUE[ch])
    return CROCKFORD[total]  # adding it (XOR) makes the whole sum zero


def new_short_code() -> str:
    """10 random Crockford characters and their check character (canonical: no dashes)."""
    data = "".join(secrets.choice(CROCKFORD) for _ in range(SHORT_CODE_DATA))
    return data + _check_char(data)


def normalise_short_code(text: str) -> str:
    """What a person typed, as a canonical code: upper case, no spaces or dashes, I/L→1, O→0."""
    return text.upper().translate(_IGNORED).translate(_TYPO_FIXES)


def short_code_valid(code: str) -> bool:
    """True for a well-formed code whose check character matches (typing slack allowed)."""
    canonical = normalise_short_code(code)
    if len(canonical) != SHORT_CODE_LENGTH or any(c not in _CROCKFORD_VALUE for c in canonical):
        return False
    return _check_char(canonical[:-1]) == canonical[-1]


def format_short_code(code: str) -> str:
    """``7KQ2M9XD4RC`` → ``7KQ2-M9XD-4R-C`` (as printed on the card)."""
    c = normalise_short_code(code)
    return f"{c[0:4]}-{c[4:8]}-{c[8:10]}-{c[10:]}"


def parse_scanned(text: str, *, prefix: str | None = None) -> str | None:
    """A lookup key from what the camera read or the user typed, or None if it is not a card.

    Accepts the full card URL, the bare ``PREFIX-TOKEN``, or a short code typed by hand. The
    key is the token (32 characters) or the canonical short code (11): the lengths differ, so
    one key never matches both columns."""
    raw = text.strip()
    if not raw or len(raw) > 300:
        return None
    tag = _prefix(prefix)
    is_url = "#" in raw or "://" in raw
    candidate = raw.rsplit("#", 1)[1] if "#" in raw else raw
    compact = candidate.upper().translate(_IGNORED)
    if compact.startswith(tag):
        token = compact[len(tag):]
        if len(token) == TOKEN_LENGTH and set(token) <= _BASE32:
            return token
    if is_url:
        return None
    if short_code_valid(compact):
        return normalise_short_code(compact)
    return None


def token_hash(token: str) -> str:
    """What the database keeps of a card's token (keyed: see the module notes)."""
    return security.keyed_hash("card-token", token)


def code_hash(code: str) -> str:
    """What the database keeps of a card's short code (canonical form, keyed)."""
    return security.keyed_hash("card-code", normalise_short_code(code))


# --- reading helpers -----------------------------------------------------------------------


def given_name(full_name: str) -> str:
    """The given name in Vietnamese order (family, middle, given): the last word."""
    words = full_name.split()
    return words[-1] if words else ""


def age_in_years(birth_year: int, birth_date: date | None, today: date) -> int:
    if birth_date is not None:
        before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
        return today.year - birth_date.year - before_birthday
    return today.year - birth_year


def programme_name(session: Session) -> str:
    """The neutral programme name printed on cards (setting `card.programme_name`)."""
    return setting_text(session, PROGRAMME_NAME_SETTING) or DEFAULT_PROGRAMME_NAME


def _read(card: Card) -> CardRead:
    assert card.id is not None
    return CardRead(
        id=card.id, client_id=card.client_id, status=CardStatus(card.status),
        issued_at=card.issued_at, issued_by_id=card.issued_by_id,
        revoked_at=card.revoked_at, revoked_reason=card.revoked_reason,
    )


def _active_card(session: Session, client_id: int) -> Card | None:
    return session.exec(
        select(Card).where(Card.client_id == client_id, Card.status == CardStatus.ACTIVE)
        .order_by(col(Card.id).desc())
    ).first()


def _find_card(session: Session, key: str) -> Card | None:
    """The card of a parsed key: a token (32 characters) or a canonical short code (11)."""
    match = (col(Card.token_hash) == token_hash(key) if len(key) == TOKEN_LENGTH
             else col(Card.code_hash) == code_hash(key))
    return session.exec(select(Card).where(match)).first()


def _unused_short_code(session: Session) -> str:
    # 2⁵⁰ codes: a clash is ~never, but a unique column would fail the whole issue if it did.
    for _ in range(8):
        code = new_short_code()
        if session.exec(select(Card.id).where(Card.code_hash == code_hash(code))).first() is None:
            return code
    raise RuntimeError("could not draw an unused card code")


def _revoke(session: Session, actor: Actor, card: Card, reason: str) -> None:
    card.status = CardStatus.REVOKED
    card.revoked_at = utcnow()
    card.revoked_reason = reason
    session.add(card)
    audit.record(session, actor=actor, action=Action.CARD_REVOKE, target_type="card",
                 target_id=card.id, detail=f"client={card.client_id},reason={reason}")


# --- issuing and revoking ------------------------------------------------------------------


def issue_card(*, session: Session, actor: Actor | None, client_id: int) -> IssuedCard:
    """A new active card for a client; the previous active one (if any) is revoked "reissued".
    The answer holds the only copy of the new token and code (the database keeps hashes)."""
    me, client, _target = authorize_client(session, actor, Action.CARD_ISSUE, client_id)
    if client.status != ClientStatus.ACTIVE:
        raise ValidationFailed({"client_id": "card.error.client_inactive"})
    # Serialise issues for one client (PostgreSQL row lock; SQLite has one writer anyway), so
    # two issuers at once cannot both leave an active card.
    session.exec(select(Client.id).where(Client.id == client_id).with_for_update()).first()
    for old in session.exec(
        select(Card).where(Card.client_id == client_id, Card.status == CardStatus.ACTIVE)
    ).all():
        _revoke(session, me, old, REISSUED)
    token, code = new_card_token(), _unused_short_code(session)
    card = Card(client_id=client_id, token_hash=token_hash(token), code_hash=code_hash(code),
                issued_by_id=me.user_id)
    session.add(card)
    session.flush()
    audit.record(session, actor=me, action=Action.CARD_ISSUE, target_type="card",
                 target_id=card.id, detail=f"client={client_id}")
    return IssuedCard(**_read(card).model_dump(), token=token, short_code=code)


def revoke_card(*, session: Session, actor: Actor | None, card_id: int, reason: str) -> CardRead:
    """Withdraw a card (lost, stolen, damaged, withdrawn, other). Scanning it then says so."""
    me = authorize_grant(session, actor, Action.CARD_REVOKE)
    if reason not in REVOKE_REASONS:
        raise ValidationFailed({"reason": "error.invalid_choice"})
    card = session.get(Card, card_id)
    if card is None:
        raise NotFound()
    authorize_client(session, me, Action.CARD_REVOKE, card.client_id)
    if card.status != CardStatus.ACTIVE:
        raise Conflict("card.error.already_revoked")
    _revoke(session, me, card, reason)
    session.flush()
    return _read(card)


def card_history(*, session: Session, actor: Actor | None, client_id: int) -> list[CardRead]:
    """Every card a client has had, newest first (audited)."""
    me, _client, _target = authorize_client(session, actor, Action.CARD_ISSUE, client_id)
    cards = session.exec(
        select(Card).where(Card.client_id == client_id).order_by(col(Card.id).desc())
    ).all()
    audit.record(session, actor=me, action="card.history", target_type="client",
                 target_id=client_id)
    return [_read(c) for c in cards]


# --- showing and printing ------------------------------------------------------------------


def _print_data(session: Session, client: Client, issued: IssuedCard,
                base_url: str) -> CardPrint:
    return CardPrint(
        programme_name=programme_name(session),
        logo_png=deployment.logo_png(session),
        given_name=given_name(client.full_name),
        short_code=format_short_code(issued.short_code),
        payload=issued.payload(base_url),
    )


def issued_qr_svg(issued: IssuedCard, base_url: str) -> str:
    """The QR of a card just issued, as SVG, to show on screen (the issue is audited)."""
    return card_svg(issued.payload(base_url))


def _layout(layout: str) -> Literal["id1", "a4"]:
    if layout not in ("id1", "a4"):
        raise ValidationFailed({"layout": "error.invalid_choice"})
    return "a4" if layout == "a4" else "id1"


def print_issued(
    *,
    session: Session,
    actor: Actor | None,
    issued: list[IssuedCard],
    base_url: str,
    layout: Literal["id1", "a4"] = "a4",
) -> bytes:
    """A PDF of cards just issued (their clear tokens exist only in the issuing answer), each
    still its client's active card; audited per card."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    chosen = _layout(layout)
    if not issued or len(issued) > MAX_PRINT:
        raise ValidationFailed({"client_ids": "error.invalid_value"})
    prints: list[CardPrint] = []
    for fresh in issued:
        _me, client, _target = authorize_client(session, me, Action.CARD_ISSUE, fresh.client_id)
        card = session.get(Card, fresh.id)
        if (card is None or card.client_id != fresh.client_id
                or card.status != CardStatus.ACTIVE or card.token_hash != token_hash(fresh.token)):
            raise ValidationFailed({"client_ids": "card.error.no_active_card"})
        prints.append(_print_data(session, client, fresh, base_url))
        audit.record(session, actor=me, action="card.print", target_type="card",
                     target_id=card.id, detail=f"client={client.id},layout={chosen}")
    return card_pdf(prints, layout=chosen)


def print_cards(
    *,
    session: Session,
    actor: Actor | None,
    client_ids: list[int],
    base_url: str,
    layout: Literal["id1", "a4"] = "a4",
    sheet: Sheet = "reissue",
) -> bytes:
    """Print cards for these clients. `sheet="new"`: each has no active card and gets its first
    (or next) one; no card in use is touched. `sheet="reissue"`: each has an active card and, as
    the database keeps only hashes, is **reissued** — a new card printed, the old one revoked
    ("reissued"). The PDF holds the new cards. Audited per card (issue, revoke, print)."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    chosen = _layout(layout)
    ids = list(dict.fromkeys(client_ids))
    if not ids or len(ids) > MAX_PRINT or sheet not in get_args(Sheet):
        raise ValidationFailed({"client_ids": "error.invalid_value"})
    for client_id in ids:
        authorize_client(session, me, Action.CARD_ISSUE, client_id)
        active = _active_card(session, client_id) is not None
        if sheet == "reissue" and not active:
            raise ValidationFailed({"client_ids": "card.error.no_active_card"})
        if sheet == "new" and active:
            raise ValidationFailed({"client_ids": "card.error.has_active_card"})
    issued = [issue_card(session=session, actor=me, client_id=client_id) for client_id in ids]
    return print_issued(session=session, actor=me, issued=issued, base_url=base_url,
                        layout=chosen)


# --- scanning ------------------------------------------------------------------------------


def _recent_scans(session: Session, now: datetime | None, *where: ColumnElement[bool]) -> int:
    """How many scans of the last `SCAN_WINDOW` the audit trail holds that match `where`."""
    since = (now or utcnow()) - SCAN_WINDOW
    return session.exec(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == SCAN_ACTION,
            col(AuditEvent.at) > since,
            *where,
        )
    ).one()


def scans_in_window(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """How many scans this user made in the last `SCAN_WINDOW` (refused-for-limit ones aside)."""
    return _recent_scans(session, now, col(AuditEvent.actor_id) == actor.user_id,
                         col(AuditEvent.detail) != THROTTLED)


def scans_from_address(session: Session, client_addr: str, now: datetime | None = None) -> int:
    """How many scans anyone made from this network address in the last `SCAN_WINDOW`."""
    if not client_addr:
        return 0
    return _recent_scans(session, now, col(AuditEvent.detail).endswith(f" addr={client_addr}"))


def device_key(device_id: str) -> str:
    """How a device is named in the audit trail: a short hash of its id, never the id."""
    raw = device_id.strip()[:64]
    return hashlib.sha256(f"device:{raw}".encode()).hexdigest()[:16] if raw else ""


def scans_from_device(session: Session, device: str, now: datetime | None = None) -> int:
    """How many scans anyone made on this device (its `device_key`) in the last `SCAN_WINDOW`."""
    if not device:
        return 0
    return _recent_scans(session, now, or_(col(AuditEvent.detail).contains(f" dev={device} "),
                                           col(AuditEvent.detail).endswith(f" dev={device}")))


def _scan_result(session: Session, actor: Actor, status: ScanStatus, *, outcome: str,
                 card_id: int | None, via: str, view: CardView | None = None,
                 client_addr: str = "", device: str = "") -> ScanResult:
    # Never the token or the typed code: the audit trail must not become a list of keys. The
    # address stays last (`scans_from_address` reads it there).
    detail = " ".join(part for part in (f"via={via}", f"dev={device}" if device else "",
                                        f"addr={client_addr}" if client_addr else "") if part)
    audit.record(session, actor=actor, action=SCAN_ACTION, target_type="card" if card_id else "",
                 target_id=card_id, outcome=outcome, detail=detail)
    return ScanResult(status=status, message_key=_MESSAGES[status], view=view)


def _clinic_referrals(session: Session, actor: Actor, client_id: int) -> list[ScanReferral]:
    if actor.role != Role.CLINIC or not actor.facility_ids:
        return []
    rows = session.exec(
        select(Referral).where(
            Referral.client_id == client_id,
            col(Referral.facility_id).in_(actor.facility_ids),
            col(Referral.status).in_(OPEN_REFERRALS),
        ).order_by(col(Referral.referred_on), col(Referral.id))
    ).all()
    return [
        ScanReferral(id=r.id or 0, service=ReferralService(r.service), referred_on=r.referred_on,
                     status=ReferralStatus(r.status))
        for r in rows
    ]


def resolve_scan(
    *, session: Session, actor: Actor | None, scanned: str, today: date | None = None,
    client_addr: str = "", device_id: str = "",
) -> ScanResult:
    """What a scanned or typed card shows this user (see the module notes). Every call is
    audited; more than `SCAN_LIMIT` calls by this user, `SCAN_LIMIT_PER_DEVICE` on this device
    (the browser's id cookie) or `SCAN_LIMIT_PER_ADDRESS` from this network address (the
    server's view of the peer), in `SCAN_WINDOW` raise `ScanThrottled`."""
    me = authorize_grant(session, actor, Action.CARD_SCAN)
    addr = client_addr.strip()[:64]
    device = device_key(device_id)
    if (scans_in_window(session, me) >= SCAN_LIMIT
            or scans_from_device(session, device) >= SCAN_LIMIT_PER_DEVICE
            or scans_from_address(session, addr) >= SCAN_LIMIT_PER_ADDRESS):
        audit.record_denial(session, actor=me, action=SCAN_ACTION, target_type="",
                            target_id=None, detail=THROTTLED)
        raise ScanThrottled()
    key = parse_scanned(scanned)
    if key is None:
        return _scan_result(session, me, ScanStatus.INVALID, outcome="invalid", card_id=None,
                            via="unknown", client_addr=addr, device=device)
    via = "qr" if len(key) == TOKEN_LENGTH else "code"
    card = _find_card(session, key)
    client = session.get(Client, card.client_id) if card is not None else None
    if card is None or client is None:
        return _scan_result(session, me, ScanStatus.NOT_FOUND, outcome="not_found",
                            card_id=None, via=via, client_addr=addr, device=device)
    if not can(me, Action.CLIENT_READ, client_target(session, client)):
        # Same answer as an unknown card; the trail keeps the truth for the auditor.
        return _scan_result(session, me, ScanStatus.NOT_FOUND, outcome=audit.DENIED,
                            card_id=card.id, via=via, client_addr=addr, device=device)
    if card.status != CardStatus.ACTIVE:
        result = _scan_result(session, me, ScanStatus.REVOKED, outcome="revoked",
                              card_id=card.id, via=via, client_addr=addr, device=device)
        # "Use the new card" only when there is one.
        replaced = session.exec(select(Card.id).where(
            Card.client_id == client.id, Card.status == CardStatus.ACTIVE)).first()
        key = "card.scan.revoked_replaced" if replaced is not None else result.message_key
        return ScanResult(status=result.status, message_key=key)
    assert client.id is not None
    view = CardView(
        client_id=client.id,
        given_name=given_name(client.full_name),
        age=age_in_years(client.birth_year, client.birth_date, today or today_vn()),
        photo_path=client.photo_path or None,
        card_status=CardStatus(card.status),
        referrals=_clinic_referrals(session, me, client.id),
    )
    return _scan_result(session, me, ScanStatus.OK, outcome=audit.OK, card_id=card.id, via=via,
                        view=view, client_addr=addr, device=device)


def refuse_attendance_not_offered(*, session: Session, actor: Actor | None,
                                  referral_id: int) -> None:
    """Attendance for a referral the last scan did not offer (no card scanned, another
    client's, another clinic's): refused by the scan screen, and the attempt kept in the
    trail like every other refusal."""
    me = authorize_grant(session, actor, Action.REFERRAL_COMPLETE)
    audit.record_denial(session, actor=me, action="card.attendance", target_type="referral",
                        target_id=referral_id, detail="not offered by the last scan")


def record_attendance(
    *,
    session: Session,
    actor: Actor | None,
    referral_id: int,
    card_lookup: str | None = None,
    client_id: int | None = None,
    today: date | None = None,
) -> AttendanceResult:
    """Clinic staff: the client came. Completes the referral to their facility ("used") and
    puts a clinic-attendance visit (no notes) on the client's timeline for the volunteer.

    `card_lookup` (the scanned text) or `client_id` must name the referral's client."""
    me = authorize_grant(session, actor, Action.REFERRAL_COMPLETE)
    if me.role != Role.CLINIC:
        audit.record_denial(session, actor=me, action="card.attendance", target_type="referral",
                            target_id=referral_id)
        raise PermissionDenied()
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    if referral.facility_id not in me.facility_ids:
        # Another facility's referral looks missing, but the trail keeps the attempt.
        audit.record_denial(session, actor=me, action="card.attendance", target_type="referral",
                            target_id=referral_id)
        raise NotFound()
    if card_lookup is not None:
        key = parse_scanned(card_lookup)
        card = _find_card(session, key) if key is not None else None
        if card is None or card.status != CardStatus.ACTIVE or card.client_id != referral.client_id:
            raise NotFound()
    if client_id is not None and client_id != referral.client_id:
        raise NotFound()
    if ReferralStatus(referral.status) not in OPEN_REFERRALS:
        raise Conflict("card.error.referral_not_open")
    on = today or today_vn()
    done = complete_referral(session=session, actor=me, referral_id=referral_id,
                             status=ReferralStatus.USED)
    referral.feedback_on = on
    session.add(referral)
    visit = Visit(client_id=referral.client_id, visit_date=on, kind=VisitKind.CLINIC_ATTENDANCE,
                  author_id=me.user_id)
    session.add(visit)
    session.flush()
    assert visit.id is not None
    audit.record(session, actor=me, action=Action.VISIT_CREATE, target_type="visit",
                 target_id=visit.id, detail=f"client={referral.client_id},referral={referral_id}")
    return AttendanceResult(referral_id=referral_id, referral_status=done.status,
                            visit_id=visit.id, visit_date=on)

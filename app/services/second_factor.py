"""The TOTP second factor (issue 19 item 8): secrets, codes accepted once each, recovery codes,
and which roles must have one.

- *Codes*: RFC 6238 through pyotp — 6 digits, 30-second steps, SHA-1 — what every
  authenticator app reads from a QR code. One step either side is accepted (a phone clock a
  little off, a code typed as it changes), and a step is accepted at most once per account
  (`TotpCredential.last_step`): a code seen over someone's shoulder, or sent twice, is refused.
- *Secret*: 160 random bits, shown (QR code and text) only while an enrolment is unconfirmed;
  once the first valid code confirms it, nothing returns it again. It is stored in its own
  table (`totpcredential`) sealed under the server key, which lives outside the database
  (`security.server_key`): a copied database or backup alone gives no way to compute codes
  (see `seal`, docs/SECURITY.md).
- *Recovery codes*: 10 at enrolment (or on regeneration), ~79 random bits each, shown once;
  only their SHA-256 is stored (like session tokens) and each works once.
- *Requirement*: a setting row per role, `auth.second_factor.<role>` = `required` or
  `optional` (missing = optional). Migration `0060_second_factor` makes it `required` for
  supervisors and administrators; the demo seed turns it off for its own database.

Throttling, audit and the sign-in's pending second step are in `accounts` (which calls this
module); the state layer restricts a session that still has to enrol (`Actor.restricted`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from sqlmodel import Session, col, select

from app.services import card_render, security
from app.services.setting_rows import write_setting
from models import RecoveryCode, Role, Setting, TotpCredential

ISSUER = "Đồng Hành"
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
REQUIRED_SETTING = "auth.second_factor.{role}"
REQUIRED = "required"
OPTIONAL = "optional"
# The pending second step of a sign-in: this long, and at most this many wrong codes.
CHALLENGE_MINUTES = 5
CHALLENGE_MAX_FAILURES = 5

_CODE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s\-]")


# ---------------------------------------------------------------- secrets and codes


def new_secret() -> str:
    """32 base32 characters: 160 random bits (RFC 4226's recommended length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of `uri` as an inline SVG image (the same drawing as the cards')."""
    svg = card_render.card_svg(uri)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def grouped(secret: str) -> str:
    """The secret in groups of four, to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


_SEALED = "s1:"
_NONCE_BYTES = 12
_TAG_BYTES = 12


def _subkey(purpose: str, key: bytes | None) -> bytes:
    return bytes.fromhex(security.keyed_hash(purpose, "", key=key))


def _tag(user_id: int, nonce: bytes, body: bytes, key: bytes | None) -> bytes:
    mac = hmac.new(_subkey("second_factor.seal.mac", key), digestmod=hashlib.sha256)
    mac.update(f"{user_id}\x00".encode() + nonce + body)
    return mac.digest()[:_TAG_BYTES]


def seal(secret: str, *, user_id: int, key: bytes | None = None) -> str:
    """The secret as the database keeps it, sealed under the server key (`key` in tests).

    Encrypt-then-MAC with HMAC-SHA256 as the pseudo-random function, from the standard library
    (the project has no encryption library): a fresh random nonce; the secret's 20 bytes XORed
    with HMAC(k_enc, nonce); a tag HMAC(k_mac, user id, nonce, ciphertext) truncated to 96 bits,
    so a sealed value moved to another account, or altered, does not open. Subkeys are
    separated from the card hashes' by purpose. 63 characters: 's1:' + base64."""
    raw = base64.b32decode(secret)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    stream = hmac.new(_subkey("second_factor.seal.enc", key), nonce, hashlib.sha256).digest()
    if len(raw) > len(stream):
        raise ValueError("secret too long to seal")
    body = bytes(a ^ b for a, b in zip(raw, stream, strict=False))
    packed = nonce + body + _tag(user_id, nonce, body, key)
    return _SEALED + base64.b64encode(packed).decode("ascii")


def unseal(stored: str, *, user_id: int, key: bytes | None = None) -> str | None:
    """The secret of a sealed value, or None if it does not open (another account's, altered,
    or sealed under another server key). A value without the seal's prefix is an older clear
    one (enrolments made before sealing) and is returned as it is."""
    if not stored.startswith(_SEALED):
        return stored
    try:
        packed = base64.b64decode(stored[len(_SEALED):], validate=True)
    except ValueError:
        return None
    nonce, body = packed[:_NONCE_BYTES], packed[_NONCE_BYTES:-_TAG_BYTES]
    if len(nonce) != _NONCE_BYTES or not body:
        return None
    if not hmac.compare_digest(packed[-_TAG_BYTES:], _tag(user_id, nonce, body, key)):
        return None
    stream = hmac.new(_subkey("second_factor.seal.enc", key), nonce, hashlib.sha256).digest()
    return base64.b32encode(bytes(a ^ b for a, b in zip(body, stream, strict=False))).decode()


def matching_step(secret: str, code: str, *, now: datetime, after_step: int) -> int | None:
    """The time step `code` belongs to (within one step of `now`), if it is later than
    `after_step` (the last one accepted); None otherwise."""
    text = _SEPARATORS.sub("", code)
    if not _CODE.fullmatch(text):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), text):
            return step
    return None


def _normalise_recovery(code: str) -> str:
    return _SEPARATORS.sub("", code).casefold()


def looks_like_recovery_code(code: str) -> bool:
    return len(_normalise_recovery(code)) == 16


def recovery_hash(code: str) -> str:
    return security.token_hash("recovery:" + _normalise_recovery(code))


def new_recovery_codes(session: Session, *, user_id: int, now: datetime) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones (returned once)."""
    for row in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all():
        session.delete(row)
    session.flush()
    codes = [security.recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user_id, code_hash=recovery_hash(c), created_at=now) for c in codes
    )
    session.flush()
    return codes


def recovery_codes_left(session: Session, *, user_id: int) -> int:
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


def accept_code(session: Session, *, user_id: int, code: str, now: datetime) -> str:
    """Accept a code of the user's confirmed second factor: "totp" (its step is then used up)
    or "recovery" (that code is then used up), or "" if it is neither."""
    cred = enrolled_credential(session, user_id)
    secret = unseal(cred.secret, user_id=user_id) if cred is not None else None
    if cred is None or secret is None:
        return ""
    step = matching_step(secret, code, now=now, after_step=cred.last_step)
    if step is not None:
        cred.last_step = step
        session.add(cred)
        return "totp"
    if not looks_like_recovery_code(code):
        return ""
    row = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == recovery_hash(code),
            col(RecoveryCode.used_at).is_(None),
        )
    ).first()
    if row is None:
        return ""
    row.used_at = now
    session.add(row)
    return "recovery"


# ---------------------------------------------------------------- credentials


def enrolled_credential(session: Session, user_id: int) -> TotpCredential | None:
    """The user's confirmed credential (an unconfirmed enrolment does not count)."""
    cred = session.get(TotpCredential, user_id)
    return cred if cred is not None and cred.confirmed_at is not None else None


def enrolled(session: Session, user_id: int) -> bool:
    return enrolled_credential(session, user_id) is not None


def remove(session: Session, *, user_id: int) -> None:
    """Forget the user's credential and recovery codes."""
    cred = session.get(TotpCredential, user_id)
    if cred is not None:
        session.delete(cred)
    for row in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all():
        session.delete(row)
    session.flush()


# ---------------------------------------------------------------- the requirement per role


def required_for(session: Session, role: Role) -> bool:
    row = session.get(Setting, REQUIRED_SETTING.format(role=role.value))
    return row is not None and row.value.strip() == REQUIRED


def requirement(session: Session) -> dict[Role, bool]:
    return {role: required_for(session, role) for role in Role}


def set_required(session: Session, *, role: Role, required: bool) -> bool:
    """Write the row; True if it changed."""
    if not write_setting(session, REQUIRED_SETTING.format(role=role.value),
                         REQUIRED if required else OPTIONAL):
        return False
    session.flush()
    return True


def needs_enrolment(session: Session, *, user_id: int, role: Role) -> bool:
    """The role requires a second factor and the user has none yet: the session may only
    enrol (see `Actor.restricted`)."""
    return required_for(session, role) and not enrolled(session, user_id)

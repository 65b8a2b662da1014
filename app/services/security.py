"""Password hashing, the password policy and session tokens: the one place that owns secrets."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from functools import cache
from pathlib import Path

from passlib.context import CryptContext

from app.services.errors import ValidationFailed
from app.services.text import fold

# OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB memory, 2 iterations,
# 1 lane. Raising these later is safe: old hashes are upgraded at the next sign-in
# (`needs_rehash`).
ARGON2_MEMORY_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 128

_CONTEXT = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=ARGON2_MEMORY_KIB,
    argon2__time_cost=ARGON2_TIME_COST,
    argon2__parallelism=ARGON2_PARALLELISM,
)

_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# One-time passwords avoid look-alike characters (0/o, 1/l/i) so they can be read aloud.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _normalise(password: str) -> str:
    # The same Vietnamese word typed on two keyboards can arrive composed or decomposed
    # (Telex vs. VNI input methods); NFC makes both hash and count the same.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """An argon2id hash string (salt and parameters included) of the NFC form of `password`."""
    return _CONTEXT.hash(_normalise(password))


def verify_password(password: str, password_hash: str) -> bool:
    """True if `password` matches. argon2's own comparison is constant-time; a malformed
    or foreign hash is simply a mismatch."""
    try:
        return bool(_CONTEXT.verify(_normalise(password), password_hash))
    except (ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with weaker parameters (or another scheme) than today's."""
    try:
        return bool(_CONTEXT.needs_update(password_hash))
    except (ValueError, TypeError):
        return True


@cache
def dummy_hash() -> str:
    """A hash of a random secret, made once per process. Verifying against it for an unknown
    user costs the same as for a real one, so response time doesn't reveal who exists."""
    return hash_password(secrets.token_urlsafe(24))


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (see the file's header)."""
    lines = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    """Case-, diacritic- and space-insensitive: 'MậtKhẩu 123' counts as 'matkhau123'."""
    pw = _normalise(password)
    candidates = {pw.casefold(), fold(pw).replace(" ", "")}
    listed = common_passwords()
    return any(c in listed for c in candidates)


def check_new_password(password: str, *, username: str, field: str = "password") -> None:
    """NIST SP 800-63B style: length 8–128 code points (after NFC), any characters, no
    composition rules, not a common password, not the username. Raises ValidationFailed
    with `fields={field: key}` (params `min` and `max` for the length messages)."""
    pw = _normalise(password)
    if len(pw) < PASSWORD_MIN_CHARS:
        key = "account.password_too_short"
    elif len(pw) > PASSWORD_MAX_CHARS:
        key = "account.password_too_long"
    elif username and pw.casefold() == _normalise(username).strip().casefold():
        key = "account.password_is_username"
    elif is_common_password(pw):
        key = "account.password_too_common"
    else:
        return
    raise ValidationFailed({field: key}, min=PASSWORD_MIN_CHARS, max=PASSWORD_MAX_CHARS)


def new_token() -> str:
    """A session token: 32 random bytes (256 bits), URL-safe text. Shown to the client once."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores and looks up instead of the token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_device_key() -> str:
    """A 32-byte key (hex) the device uses to encrypt offline drafts for one session."""
    return secrets.token_hex(32)


def one_time_password() -> str:
    """A password an administrator reads out once, e.g. 'k7mq-x3ra-pw9d' (~59 bits)."""
    while True:
        groups = ["".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3)]
        candidate = "-".join(groups)
        if not is_common_password(candidate):
            return candidate

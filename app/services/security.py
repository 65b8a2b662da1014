"""Password hashing, the password policy and session tokens: the one place that owns secrets."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from passlib.context import CryptContext

from app.services.errors import ValidationFailed
from app.services.settings import DATA_DIR
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
    """Common passwords, lower-cased: our own list of Vietnamese choices and well-known top
    passwords (see the file's header), and the 30,000 most common passwords of zxcvbn's
    frequency list (from leaked password sets; zxcvbn is a package on PyPI)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    lines = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    ours = {line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")}
    return frozenset(ours | {word.casefold() for word in FREQUENCY_LISTS["passwords"]})


# Words of this context a password must not be built on: the app's own name (with the
# account's login and name, added per account by `check_new_password`).
CONTEXT_WORDS = ("Đồng Hành", "donghanh")


def _letters(text: str) -> str:
    """Folded (no diacritics, lower case) letters and digits only: 'Đồng-Hành 1' -> 'donghanh1'."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def uses_context_word(password: str, *, context: Sequence[str] = ()) -> bool:
    """The password is built on the app's name, the account's login or a part of the
    person's name (4 characters or more), however it is spelt, cased or accented."""
    pw = _letters(_normalise(password))
    words = {_letters(w) for w in (*CONTEXT_WORDS, *context)}
    for word in list(words):
        words.update(_letters(part) for part in fold(word).replace(".", " ").split())
    return any(len(w) >= 4 and w in pw for w in words)


def is_common_password(password: str) -> bool:
    """Case-, diacritic- and space-insensitive: 'MậtKhẩu 123' counts as 'matkhau123'."""
    pw = _normalise(password)
    candidates = {pw.casefold(), fold(pw).replace(" ", "")}
    listed = common_passwords()
    return any(c in listed for c in candidates)


def check_new_password(
    password: str, *, username: str, field: str = "password", context: Sequence[str] = ()
) -> None:
    """NIST SP 800-63B style: length 8–128 code points (after NFC), any characters, no
    composition rules, not a common password, not the username, not built on a context word
    (the app's name, the login, `context` such as the person's name). Raises ValidationFailed
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
    elif uses_context_word(pw, context=(username, *context)):
        key = "account.password_context"
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


def recovery_code() -> str:
    """A second-factor recovery code, e.g. 'k7mq-x3ra-pw9d-c4tn': 16 characters of the
    one-time password alphabet (~79 bits), so only a fast hash of it needs storing."""
    groups = ["".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def one_time_password() -> str:
    """A password an administrator reads out once, e.g. 'k7mq-x3ra-pw9d' (~59 bits)."""
    while True:
        groups = ["".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3)]
        candidate = "-".join(groups)
        if not is_common_password(candidate):
            return candidate


# --- the server key (keyed hashes of card tokens) --------------------------------------------

SERVER_KEY_ENV = "DH_SECRET_KEY"
SERVER_KEY_FILE = "secret.key"
_SERVER_KEY_MIN_CHARS = 32


def server_key(data_dir: Path | None = None) -> bytes:
    """The server's secret for keyed hashes, kept **outside the database**: a copied database
    or backup alone then gives no card that scans. `DH_SECRET_KEY` (at least 32 characters) when
    set — several machines must share it; else `data/secret.key`, made once (256 random bits,
    readable by the app's user only) and then kept. Losing it makes every card unscannable
    (reissue them); see docs/OPERATIONS.md."""
    configured = os.environ.get(SERVER_KEY_ENV, "").strip()
    if configured:
        if len(configured) < _SERVER_KEY_MIN_CHARS:
            raise RuntimeError(f"{SERVER_KEY_ENV} must have at least 32 characters")
        return configured.encode("utf-8")
    path = (data_dir or DATA_DIR) / SERVER_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: a second process at the
        # same moment either wins the link or reads the winner's complete file.
        draft = path.with_name(f".{SERVER_KEY_FILE}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < _SERVER_KEY_MIN_CHARS:
        raise RuntimeError(f"{path} is not a server key")
    return key.encode("ascii")


def keyed_hash(purpose: str, value: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) of `value` under the server key, separated by `purpose`: what the
    database stores and looks up instead of a bearer value it must never hold in clear."""
    mac = hmac.new(key if key is not None else server_key(), digestmod=hashlib.sha256)
    mac.update(f"{purpose}\x00{value}".encode())
    return mac.hexdigest()

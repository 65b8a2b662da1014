"""Vietnamese text helpers: diacritic-free search keys and Vietnamese alphabetical order."""

from __future__ import annotations

import unicodedata

from app.services.errors import ValidationFailed

_VI_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_ORDER = {ch: i for i, ch in enumerate(_VI_ALPHABET)}


# Letters of other scripts that look like Latin ones (Unicode's confusables, the ones a
# keyboard or a copy-paste actually produces): 'Nguyеn' with a Cyrillic 'е' is 'Nguyen'.
_LOOK_ALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "н": "h", "і": "i", "ї": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r",
    "ѕ": "s", "т": "t", "и": "u", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    # Greek
    "α": "a", "β": "b", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ζ": "z", "μ": "u",
})


def fold(text: str) -> str:
    """'Nguyễn Văn A' -> 'nguyen van a': what search and the duplicate check compare on both
    sides. Compatibility forms (full-width letters) and look-alike letters of other scripts
    fold to the Latin letter they imitate."""
    text = unicodedata.normalize("NFKC", text.strip()).lower()
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("\u0111", "d")
    stripped = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(stripped.replace("đ", "d").translate(_LOOK_ALIKES).split())


def clean(text: str) -> str:
    """NFC-normalise, drop control characters and fold runs of white space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in " ")
    return " ".join(text.split())


def required_reason(text: str, limit: int) -> str:
    """A decision's reason as kept: `clean`ed, required and at most `limit` characters
    (a `ValidationFailed` on the `reason` field otherwise)."""
    kept = clean(text)
    if not kept:
        raise ValidationFailed({"reason": "error.reason_required"})
    if len(kept) > limit:
        raise ValidationFailed({"reason": "error.too_long"})
    return kept


def vi_sort_key(text: str) -> tuple[tuple[int, int], ...]:
    """Sort key in Vietnamese order: base letter by the Vietnamese alphabet, then tone."""
    key: list[tuple[int, int]] = []
    for ch in unicodedata.normalize("NFC", text.lower()):
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        # Letters with their own place in the alphabet (ă â đ ê ô ơ ư) keep their shape mark.
        shape = {"\u0306", "\u0302", "\u031b"}
        letter = base + "".join(m for m in marks if m in shape)
        letter = unicodedata.normalize("NFC", letter)
        tone = next((t for t, m in enumerate("\u0300\u0309\u0303\u0301\u0323", 1) if m in marks), 0)
        key.append((_ORDER.get(letter, 100 + ord(letter[0]) if letter else 0), tone))
    return tuple(key)

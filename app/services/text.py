"""Vietnamese text helpers: diacritic-free search keys and Vietnamese alphabetical order."""

from __future__ import annotations

import unicodedata

_VI_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_ORDER = {ch: i for i, ch in enumerate(_VI_ALPHABET)}


def fold(text: str) -> str:
    """'Nguyễn Văn A' -> 'nguyen van a': what search compares on both sides."""
    text = (
        unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d").replace("\u0111", "d")
    )
    stripped = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(stripped.replace("đ", "d").split())


def clean(text: str) -> str:
    """NFC-normalise, drop control characters and fold runs of white space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in " ")
    return " ".join(text.split())


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

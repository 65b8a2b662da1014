"""Translation catalogue: Vietnamese by default, English available. Plain Python, no Reflex."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def _load() -> dict[str, tuple[str, str]]:
    """Merge every `KEYS` dict from the modules of this package (one module per area)."""
    merged: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, texts in getattr(module, "KEYS", {}).items():
            if key in merged and merged[key] != texts:
                raise ValueError(f"i18n key {key!r} defined twice with different texts")
            merged[key] = texts
    return merged


MESSAGES: dict[str, tuple[str, str]] = _load()


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text for `key` in `lang`, with `{placeholders}` filled. Unknown keys show themselves."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    text = texts[1] if lang == "en" else texts[0]
    return text.format(**params) if params else text


def catalogue(lang: str) -> dict[str, str]:
    index = 1 if lang == "en" else 0
    return {key: texts[index] for key, texts in MESSAGES.items()}

"""Language choice, persisted on the device, and `tr()` for translated text in components."""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.number import BooleanVar

from app.i18n import DEFAULT_LANGUAGE, MESSAGES
from app.state.guard import guarded


class LangState(rx.State):
    lang: str = rx.LocalStorage(DEFAULT_LANGUAGE, name="dh_lang", sync=True)
    # The session whose account language this device has taken (its number, not its token):
    # kept on the device beside the language, so a page loaded before the language arrived
    # takes it again (the guard, app/state/session.py `_authorise`).
    lang_for: str = rx.LocalStorage("", name="dh_lang_for", sync=True)

    @guarded(public=True)
    def toggle_language(self) -> None:
        self.lang = "vi" if self.lang == "en" else "en"

    @guarded(public=True)
    def set_language(self, lang: str) -> None:
        if lang in ("vi", "en"):
            self.lang = lang


# "The app is in English", as the browser tests it: a plain comparison of the string. Reflex's
# own `LangState.lang == "en"` writes `lang?.valueOf?.() === "en"?.valueOf?.()`, for values
# that may be objects; it stood in every translated text of every screen's code (issue 20).
IN_ENGLISH = BooleanVar(_js_expr=f'({LangState.lang!s}==="en")', _var_type=bool,
                        _var_data=LangState.lang._get_all_var_data())
# The two texts behind each tr() value (by its JavaScript), for `frame.shared_texts`.
_TEXTS: dict[str, tuple[str, str]] = {}


def tr(key: str) -> rx.Var:
    """Translated text for a static key; switches live with the language."""
    if key not in MESSAGES:
        raise KeyError(f"missing i18n key {key!r}")
    vi, en = MESSAGES[key]
    text = rx.cond(IN_ENGLISH, en, vi)
    _TEXTS[str(text)] = (vi, en)
    return text


def texts_of(value: rx.Var) -> tuple[str, str] | None:
    """(Vietnamese, English) when `value` is a tr() text, else None."""
    return _TEXTS.get(str(value))

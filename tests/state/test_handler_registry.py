"""Every public event handler of every State class is registered with the roles that may call it."""

from __future__ import annotations

import reflex as rx

import app.app  # noqa: F401  (imports every page, so every State class exists)
from app.state.guard import HANDLER_ROLES


def _app_states() -> list[type[rx.State]]:
    found, todo = [], [rx.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("app."):
            found.append(cls)
    return found


def test_the_app_defines_states_to_check() -> None:
    names = {cls.__name__ for cls in _app_states()}
    assert {"AppState", "LangState", "SignInState"} <= names


def test_every_public_handler_is_in_the_role_registry() -> None:
    missing = []
    for cls in _app_states():
        for name, handler in cls.event_handlers.items():
            if name.startswith("_"):
                continue
            if name == "setvar":
                # Reflex's built-in: it only dispatches to a `set_<var>` method of the state,
                # and auto-setters are off, so it reaches nothing but guarded handlers.
                continue
            qualname = getattr(handler.fn, "__qualname__", "")
            owner = qualname.split(".")[0]
            # Inherited handlers are registered under the class that defines them.
            if qualname not in HANDLER_ROLES:
                missing.append(f"{cls.__name__}.{name} ({owner})")
    assert not missing, f"public handlers without a role registration: {missing}"


def test_no_handler_is_open_to_everyone_by_accident() -> None:
    public = sorted(name for name, roles in HANDLER_ROLES.items() if not roles)
    assert public == sorted(
        [
            "AppState.ping",
            "AppState.redirect_if_signed_in",
            "LangState.set_language",
            "LangState.toggle_language",
            "SecondFactorPageState.load",
            "SignInState.load",
        ]
    )

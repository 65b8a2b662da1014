"""app/runtime.py: what the server's processes do about logs and crashed workers."""

from __future__ import annotations

import logging
import secrets
import uuid

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.runtime import (
    no_cors_layer,
    reconnect_to_own_state,
    redact,
    redact_logs,
    respawn_crashed_workers,
)
from models import User
from tests.factories import World


def test_tab_and_session_tokens_are_cut_out_of_log_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redact_logs()
    tab = str(uuid.uuid4())
    session_token = secrets.token_urlsafe(32)
    with caplog.at_level(logging.WARNING):
        logging.getLogger("reflex.istate").warning(
            f"Lock for token {tab}_reflex___state____state.app was held too long")
        logging.getLogger("anything").warning("cookie %s seen", session_token)
    text = caplog.text
    assert tab not in text and tab[:8] not in text and f"{tab[:4]}…" in text
    assert session_token not in text and "[token]" in text
    assert "was held too long" in text  # the message itself survives


def test_ordinary_text_is_left_alone() -> None:
    line = "visit 1234 saved by user 56 for client 789 on 2026-11-29"
    assert redact(line) == line


def test_database_errors_carry_no_values_into_messages(engine: Engine, world: World) -> None:
    from app.services.db import engine_for

    eng = engine_for(str(engine.url.render_as_string(hide_password=False)))
    with Session(eng) as db, pytest.raises(IntegrityError) as caught:
        db.add(User(username="vol_a1", full_name="Nguyễn Thị Bí Mật", password_hash="x"))
        db.flush()
    assert "Bí Mật" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)


def test_the_runtime_patches_are_in_place_once_rxconfig_is_loaded() -> None:
    from granian.server.common import AbstractServer

    import rxconfig  # noqa: F401  (what every server process imports first)

    assert respawn_crashed_workers() and reconnect_to_own_state() and redact_logs()
    assert getattr(AbstractServer.__init__, "_dh_respawn_patched", False)
    assert no_cors_layer()


def test_the_app_is_built_without_a_cors_layer() -> None:
    from reflex.app import App
    from starlette.applications import Starlette
    from starlette.middleware.cors import CORSMiddleware

    import rxconfig  # noqa: F401

    api = Starlette()
    App._add_cors(api)
    assert not [m for m in api.user_middleware if m.cls is CORSMiddleware]

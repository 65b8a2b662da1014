"""A closed tab's token gets nothing personal once its session has ended (issue 19, item 1).

The scenarios are in `tests/security/replay.py`; this file runs them on the production build
with SQLite, `tests/pg/test_session_replay_pg.py` with PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.security.conftest import WsServer
from tests.security.replay import ENDINGS, scenario

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_replayed_tab_token_gets_no_personal_data_once_the_session_ended(
    ws_server: WsServer, ending: str
) -> None:
    seen = asyncio.run(scenario(ws_server.url, ws_server.db_url, ending))
    assert seen.pop("control: live cookie"), "the replay did not reach the tab's state"
    assert seen and not any(seen.values()), seen

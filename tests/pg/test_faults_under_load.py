"""The soak of bench/soak.py, short: volunteers working over the websocket while a backend
worker is killed and every database connection is cut. The 10-minute, 200-session run is
`python -m bench.soak` (docs/RELIABILITY.md); this one keeps the guarantee in CI."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.soak import format_soak, soak


def test_a_killed_worker_and_cut_connections_lose_and_double_nothing() -> None:
    tag = f"soak_ci_{uuid.uuid4().hex[:6]}"
    # A thread of its own: Playwright's browser tests keep an event loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(soak, sessions=20, minutes=1.5, workers=2, faults=True, name=tag,
                             redis_url="redis://127.0.0.1:6379/9").result()
    print(format_soak(result))
    assert [f.what for f in result.faults] == [
        "kill -9 of a backend worker", "every database connection terminated"]
    assert result.worker_exits == 1
    assert result.signed_in == 20
    assert result.errors == 0, result.error_samples
    assert result.tokens_replaced == 0  # every tab reconnected to its own state
    assert result.interrupted_outside_faults == 0
    ledger = result.ledger
    assert ledger["acked"] > 0
    assert ledger["acked_lost"] == 0 and ledger["duplicated"] == 0
    assert ledger["acked_stored"] == ledger["acked"]
    assert result.secrets_in_log == 0

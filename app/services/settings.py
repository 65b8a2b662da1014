"""Runtime settings read once from the environment, with safe embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """Every knob of the deployment; each one is an environment variable."""

    db_url: str
    redis_url: str | None
    session_idle_minutes: int
    session_max_hours: int
    login_window_minutes: int
    login_max_failures_per_account: int
    login_max_failures_per_address: int
    login_free_failures_per_pair: int
    card_prefix: str
    # The address printed in card QR codes; "" means "the address the browser is on".
    public_url: str


def load_settings() -> Settings:
    """Read the environment now (tests change it between cases)."""
    return Settings(
        db_url=os.environ.get("REFLEX_DB_URL") or f"sqlite:///{DATA_DIR / 'donghanh.db'}",
        redis_url=os.environ.get("REFLEX_REDIS_URL") or None,
        session_idle_minutes=_int_env("DH_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int_env("DH_SESSION_MAX_HOURS", 12),
        login_window_minutes=_int_env("DH_LOGIN_WINDOW_MINUTES", 15),
        # A ceiling far above what one person mistypes: the person is slowed per address
        # (see accounts._throttle_wait), the account is stopped only under a real attack.
        login_max_failures_per_account=_int_env("DH_LOGIN_MAX_FAILURES_ACCOUNT", 30),
        login_free_failures_per_pair=_int_env("DH_LOGIN_FREE_FAILURES_PAIR", 3),
        login_max_failures_per_address=_int_env("DH_LOGIN_MAX_FAILURES_ADDRESS", 20),
        card_prefix=os.environ.get("DH_CARD_PREFIX", "DH1"),
        public_url=os.environ.get("DH_PUBLIC_URL", "").strip().rstrip("/"),
    )

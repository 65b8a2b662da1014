"""Where the offline queue shows itself: what is waiting, sent or rejected, and the offline forms.

The panel is an empty mount point that `assets/offline.js` fills with plain HTML, outside
React's control, so it keeps working when the websocket is down. The texts it needs come
from the catalogue, embedded here in both languages: a page opened from the cached shell
without a connection has no server to ask.
"""

from __future__ import annotations

import json

import reflex as rx

from app.i18n import MESSAGES

# Besides its own keys, the panel reuses the app's offline notice.
_SHARED_KEYS = ("common.offline",)


def offline_texts() -> dict[str, dict[str, str]]:
    """Every text the offline script may show, by language."""
    keys = sorted(k for k in MESSAGES if k.startswith("offline.")) + list(_SHARED_KEYS)
    return {
        "vi": {key: MESSAGES[key][0] for key in keys},
        "en": {key: MESSAGES[key][1] for key in keys},
    }


def offline_panel() -> rx.Component:
    """The mount point of the offline panel; hidden until the script has something to show."""
    return rx.el.section(
        id="dh-offline",
        hidden=True,
        custom_attrs={"data-i18n": json.dumps(offline_texts(), ensure_ascii=False)},
    )

"""The device outbox on the server (issue 14): every volunteer save arrives here, online or not.

- `device`: the per-(user, device) key the device wraps under the user's PIN or password;
- `snapshot`: what a volunteer's device keeps to work offline (their own caseload only);
- `sync`: applying a batch of records, each through its normal service, exactly once per key,
  with temporary ids for clients registered offline and duplicates returned as questions;
- `review`: what the sync refused, kept whole, for the volunteer to correct and resend and for
  their supervisor to apply or dismiss.

The protocol (JSON of every endpoint) is in docs/ARCHITECTURE.md, "Device outbox".
"""

from app.services.outbox.device import DeviceKeyRead, device_key
from app.services.outbox.review import (
    ReviewItem,
    apply_item,
    dismiss_item,
    kept_count,
    own_items,
    review_item,
    review_items,
    withdraw,
)
from app.services.outbox.snapshot import snapshot, snapshot_days
from app.services.outbox.sync import MAX_BATCH, SyncResult, apply_batch, valid_device_id

__all__ = [
    "MAX_BATCH",
    "DeviceKeyRead",
    "ReviewItem",
    "SyncResult",
    "apply_batch",
    "apply_item",
    "device_key",
    "dismiss_item",
    "kept_count",
    "own_items",
    "review_item",
    "review_items",
    "snapshot",
    "snapshot_days",
    "valid_device_id",
    "withdraw",
]

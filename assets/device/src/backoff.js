/* When to try sending again: exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff and Jitter"), so phones that regain signal together do not all knock
 * at once. A tap on "Gửi ngay" skips the wait. */

export const BASE_MS = 5_000;
export const CAP_MS = 10 * 60_000;

/** Milliseconds to wait after `failures` failed rounds in a row (0 → send now). */
export function retryDelay(failures, { base = BASE_MS, cap = CAP_MS, random = Math.random } = {}) {
  if (failures <= 0) return 0;
  const ceiling = Math.min(cap, base * 2 ** Math.min(failures - 1, 20));
  // Full jitter, but never sooner than a second: a dead link is not hammered.
  return Math.max(1_000, Math.floor(random() * ceiling));
}

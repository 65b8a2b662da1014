import assert from "node:assert/strict";
import { test } from "node:test";

import { retryDelay } from "../../assets/device/src/backoff.js";
import { addDays, fold, matches, showDate, stamp, stampToday } from "../../assets/device/src/text.js";

test("search ignores tone marks, diacritics, đ and case", () => {
  assert.equal(fold("  Nguyễn   Văn ĐỨC "), "nguyen van duc");
  assert.ok(matches("Nguyễn Văn Hùng", "hung nguyen"));
  assert.ok(matches("Trần Thị Đào", "DAO"));
  assert.ok(!matches("Nguyễn Văn Hùng", "hong"));
});

test("dates are shown day first and counted across months", () => {
  assert.equal(showDate("2026-12-07"), "07/12/2026");
  assert.equal(showDate(""), "");
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
});

test("retry waits grow with failures, are jittered, and stay under the cap", () => {
  assert.equal(retryDelay(0), 0);
  const low = retryDelay(3, { random: () => 0 });
  const high = retryDelay(3, { random: () => 0.999 });
  assert.equal(low, 1000); // never sooner than a second
  assert.ok(high > 19_000 && high <= 20_000); // 5 s × 2²
  assert.ok(retryDelay(40, { random: () => 0.999 }) <= 10 * 60_000);
  const seen = new Set(Array.from({ length: 20 }, () => retryDelay(5)));
  assert.ok(seen.size > 10, "jitter spreads the retries");
});

test("the strip's last sync is the time alone today, the day and time before", () => {
  const at = new Date(2026, 11, 7, 18, 52).getTime();
  assert.equal(stampToday(at, new Date(2026, 11, 7, 23, 59).getTime()), "18:52");
  assert.equal(stampToday(at, new Date(2026, 11, 8, 0, 1).getTime()), "07/12 18:52");
  assert.equal(stampToday(at, new Date(2026, 11, 8, 0, 1).getTime()), stamp(at));
});

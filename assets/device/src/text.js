/* Vietnamese text on the device: search that ignores diacritics (the same folding as
 * app/services/text.py `fold`), and the dates and times the screens show. */

/** Lower case, no tone marks or diacritics, đ → d, spaces collapsed. */
export function fold(value) {
  return String(value ?? "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d")
    .replace(/Đ/g, "D")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** Does `haystack` contain every word of `query`, diacritics ignored? */
export function matches(haystack, query) {
  const words = fold(query).split(" ").filter(Boolean);
  const text = fold(haystack);
  return words.every((w) => text.includes(w));
}

const pad = (n) => String(n).padStart(2, "0");

/** YYYY-MM-DD of a moment in the device's own time zone. */
export function localDate(moment = new Date()) {
  const d = new Date(moment);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** YYYY-MM-DD in Vietnam (the calendar day the server and the online forms use). */
export function vnDate(moment = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(moment));
}

/** HH:MM (24 h) of a moment, device time. */
export function clock(moment) {
  const d = new Date(moment);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** DD/MM/YYYY from an ISO date; "" for nothing. */
export function showDate(iso) {
  const p = String(iso || "").slice(0, 10).split("-");
  return p.length === 3 ? `${p[2]}/${p[1]}/${p[0]}` : "";
}

/** DD/MM HH:MM of a moment: when a record was saved or sent. */
export function stamp(moment) {
  const d = new Date(moment);
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)} ${clock(d)}`;
}

/** A moment as the status strip shows it at a glance: the time alone when it is today (`now`,
 * device time, as `stamp`), the day and time otherwise. */
export function stampToday(moment, now = Date.now()) {
  return localDate(moment) === localDate(now) ? clock(moment) : stamp(moment);
}

/** ISO date `days` after `iso`. */
export function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  const out = new Date(Date.UTC(y, m - 1, d + days));
  return out.toISOString().slice(0, 10);
}

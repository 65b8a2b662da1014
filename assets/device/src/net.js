/* Connectivity by evidence: the device is online when the server answers, offline when a
 * request fails or stays unanswered for 10 s, whatever `navigator.onLine` claims (a phone on
 * one bar says "online" while nothing gets through). */

export const ANSWER_WITHIN_MS = 10_000;

export class NoAnswer extends Error {
  constructor(cause) {
    super("no answer from the server");
    this.name = "NoAnswer";
    this.cause = cause;
  }
}

/** fetch, but a request with no answer within `ms` is aborted and counts as offline. */
export async function fetchWithin(url, init = {}, { ms = ANSWER_WITHIN_MS, fetchImpl = globalThis.fetch } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    // The body is read inside the deadline too: a stalled body is no answer either.
    const res = await fetchImpl(url, { ...init, signal: abort.signal });
    const text = await res.text();
    return { status: res.status, ok: res.ok, text, json: () => JSON.parse(text) };
  } catch (err) {
    throw new NoAnswer(err);
  } finally {
    clearTimeout(timer);
  }
}

/** The device's belief about the link, changed only by evidence. */
export class Connectivity {
  constructor({ now = () => Date.now() } = {}) {
    this.state = "unknown"; // "online" | "offline" | "unknown"
    this.since = now();
    this.lastAnswerAt = 0;
    this.now = now;
    this.listeners = new Set();
  }

  answered() {
    this.lastAnswerAt = this.now();
    this.set("online");
  }

  noAnswer() {
    this.set("offline");
  }

  set(state) {
    if (state === this.state) return;
    this.state = state;
    this.since = this.now();
    for (const fn of this.listeners) fn(state);
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

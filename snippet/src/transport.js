// @ts-check
// The only part that talks to the server. Each decision is queued in localStorage first,
// then POSTed as text/plain (no CORS preflight) with keepalive; the server answers a replay
// of the same consent_id and body with the same receipt, so re-sending is safe and every
// decision is recorded exactly once. Failures are retried with backoff, when the browser
// comes back online, and with sendBeacon when the page is hidden. Each POST carries the
// device secret, added when it is sent (a body field: sendBeacon cannot set headers).
// (The device's own records, history and erasure, are rights.js's.)
import { QUEUE_KEY, RECEIPTS_KEY, RETRY_FIRST_MS, RETRY_MAX_MS } from './constants.js';
import { load, save, secret } from './storage.js';

/** @typedef {import('./constants.js').ConsentRecord} ConsentRecord */

/**
 * One language's texts (i18n.js textsUrl, addTexts), or null if they cannot be had.
 * @param {string} url
 */
export const getTexts = (url) => fetch(url).then((r) => (r.ok ? r.json() : null), () => null);

/**
 * Fetch a script for a later page, into the browser's cache: as a <script> element will ask
 * for it (no-cors, with credentials), so that it finds this copy. A CSP's connect-src lets it
 * through, since it names Accord's server for the consents anyway.
 * @param {string} url
 */
export const prefetch = (url) => fetch(url, { mode: 'no-cors', credentials: 'include' }).catch(() => 0);

/** @param {string} api the site's API base, …/api/v1/sites/KEY */
export function transport(api) {
  const url = api + '/consents';
  /** @returns {ConsentRecord[]} */
  const queue = () => load(QUEUE_KEY) || [];
  const receipts = () => load(RECEIPTS_KEY);
  /** @param {ConsentRecord} record */
  const body = (record) => JSON.stringify({ ...record, device_secret: secret() });
  let busy = 0;
  let delay = RETRY_FIRST_MS;

  // Send the queue oldest first; stop at the first failure and retry later.
  async function flush() {
    if (busy) return;
    busy = 1;
    try {
      for (let record; (record = queue()[0]); ) {
        const res = await fetch(url, { method: 'POST', body: body(record), keepalive: true, credentials: 'omit' });
        if (res.status == 429 || res.status >= 500) throw 0;
        // 2xx: recorded; 409: recorded before with another body; other 4xx: never will be.
        const id = record.consent_id;
        // The receipt is read before the record leaves the queue: a page that ends meanwhile
        // (the reload after a withdrawal) leaves it queued, and the next page replays it.
        const receipt = res.ok && (await res.json());
        save(QUEUE_KEY, queue().filter((r) => r.consent_id != id));
        // Keep the receipt, by consent_id (a replay's receipt is the same one).
        if (receipt) save(RECEIPTS_KEY, { ...receipts(), [id]: receipt });
      }
      delay = RETRY_FIRST_MS;
    } catch (e) {
      setTimeout(flush, (delay = Math.min(delay * 2, RETRY_MAX_MS)));
    }
    busy = 0;
  }

  addEventListener('online', flush);
  return {
    /** Queue a decision and send it; resolves when this attempt ends. @param {ConsentRecord} record */
    send_(record) {
      save(QUEUE_KEY, [...queue(), record]);
      return flush();
    },
    flush_: flush,
    // The page is going away: hand what is still queued to the browser, but the record whose
    // POST is under way (keepalive carries it past the page). It all stays queued, so the
    // next page replays it (idempotent) and learns the receipt.
    beacon_: () => queue().forEach((r, i) => (busy && !i) || navigator.sendBeacon?.(url, body(r))),
  };
}

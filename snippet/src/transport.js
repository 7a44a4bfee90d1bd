// The only part that talks to the server. Each decision is queued in localStorage first,
// then POSTed as text/plain (no CORS preflight) with keepalive; the server answers a replay
// of the same consent_id and body with the same receipt, so re-sending is safe and every
// decision is recorded exactly once. Failures are retried with backoff, when the browser
// comes back online, and with sendBeacon when the page is hidden. Each POST carries the
// device secret, added when it is sent (a body field: sendBeacon cannot set headers).
import { QUEUE_KEY, RECEIPTS_KEY } from './constants.js';
import { load, save, secret } from './storage.js';

export function transport(api) {
  const url = api + '/consents';
  const queue = () => load(QUEUE_KEY) || [];
  const receipts = () => load(RECEIPTS_KEY);
  const body = (record) => JSON.stringify({ ...record, device_secret: secret() });
  let busy;
  let delay = 1e3;

  // Send the queue oldest first; stop at the first failure and retry later.
  async function flush() {
    if (busy) return;
    busy = 1;
    try {
      for (let record; (record = queue()[0]); ) {
        const res = await fetch(url, { method: 'POST', body: body(record), keepalive: true, credentials: 'omit' });
        if (res.status == 429 || res.status >= 500) throw 0;
        // 2xx: recorded; 409: recorded before with another body; other 4xx: never will be.
        save(QUEUE_KEY, queue().filter((r) => r.consent_id != record.consent_id));
        // Keep the receipt, by consent_id (a replay's receipt is the same one).
        if (res.ok) save(RECEIPTS_KEY, { ...receipts(), [record.consent_id]: await res.json() });
      }
      delay = 1e3;
    } catch (e) {
      setTimeout(flush, (delay = Math.min(delay * 2, 3e5)));
    }
    busy = 0;
  }

  addEventListener('online', flush);
  return {
    send_(record) {
      save(QUEUE_KEY, [...queue(), record]);
      flush();
    },
    flush_: flush,
    // The page is going away: hand what is still queued to the browser. It stays queued,
    // so the next page replays it (idempotent) and learns the receipt.
    beacon_: () => queue().forEach((r) => navigator.sendBeacon?.(url, body(r))),
    receipts_: receipts,
  };
}

// The transport under a rate limit: a 429 keeps the decision queued and sends it again after
// the backoff (issue 11, point 14: a visitor behind a busy carrier-grade NAT must not lose
// their record). Run with `npm test` (node --test), with the browser's globals stubbed.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';

const store = new Map();
globalThis.document = { cookie: '' };
globalThis.localStorage = {
  getItem: (key) => (store.has(key) ? store.get(key) : null),
  setItem: (key, value) => store.set(key, String(value)),
};
globalThis.addEventListener = () => {};
const { transport } = await import('../src/transport.js');
const { QUEUE_KEY, RECEIPTS_KEY } = await import('../src/constants.js');

const settle = () => new Promise((resolve) => setImmediate(resolve));
const stored = (key) => JSON.parse(store.get(key));

test('a rate-limited decision stays queued and is sent again after the backoff', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const statuses = [429, 201];
  const sent = [];
  globalThis.fetch = async (url, init) => {
    sent.push(JSON.parse(init.body));
    const status = statuses.shift();
    return { status, ok: status < 300, json: async () => ({ consent_id: 'c1', position: 1 }) };
  };
  const record = { consent_id: 'c1', device_id: 'd1', action: 'reject_all' };
  const t = transport('https://consent.example/api/v1/sites/k');

  t.send_(record);
  await settle();
  assert.equal(sent.length, 1);
  assert.deepEqual(stored(QUEUE_KEY).map((r) => r.consent_id), ['c1']); // still queued

  mock.timers.tick(2000); // the first backoff
  await settle();
  await settle();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].consent_id, 'c1');
  assert.deepEqual(stored(QUEUE_KEY), []);
  assert.equal(stored(RECEIPTS_KEY).c1.position, 1);
  mock.timers.reset();
});

// @ts-check
// The visitor's rights from the preferences dialog: "Download my consent history" and "Erase
// my data". Part of the UI chunk (ui-chunk.js), like the dialog whose buttons call them: the
// full snippet does not carry them.
import { RECEIPTS_KEY } from './constants.js';
import { deviceId, forget, load, secret } from './storage.js';

/** @param {string} api the site's API base, …/api/v1/sites/KEY @param {string} [method] */
const records = (api, method) =>
  fetch(`${api}/devices/${deviceId()}/consents`, { method, headers: { 'Accord-Device-Secret': secret() } });

/**
 * Save the server's records for this device, the local decision and every signed receipt
 * this device kept as consent-history.json. Without the server's answer, the file holds what
 * this device kept; resolves to whether the server answered.
 * @param {string} api @param {import('./constants.js').Decision | null} decision
 */
export async function downloadHistory(api, decision) {
  const data = await records(api).then((r) => (r.ok ? r.json() : null), () => null);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([JSON.stringify({ ...data, decision, receipts: load(RECEIPTS_KEY) })]));
  a.download = 'consent-history.json';
  a.click();
  return !!data;
}

/**
 * Erase this device's records on the server, then (only once it has) the decision, the device
 * id and secret, the queue and the receipts here. Resolves to whether it did.
 * @param {string} api
 */
export const eraseDevice = (api) =>
  records(api, 'DELETE').then(
    (r) => r.ok && (forget(), true),
    () => false,
  );

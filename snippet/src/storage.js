// @ts-check
// Everything the snippet keeps in the browser and everything it deletes there: the decision
// cookie, the device id and secret, small JSON values in localStorage, and the cookies and
// storage keys of refused trackers.
import { CONSENT_COOKIE, DEVICE_KEY, QUEUE_KEY, RECEIPTS_KEY, SECRET_KEY } from './constants.js';
import { doc } from './dom.js';

/** @typedef {import('./constants.js').Decision} Decision */

/** A random (version 4) UUID, also on plain http where crypto.randomUUID is missing. */
export const uuid = () =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16),
  );

/** @param {string} key */
export function load(key) {
  try {
    return JSON.parse(/** @type {string} */ (localStorage.getItem(key)));
  } catch (e) {
    return null;
  }
}

/**
 * Keep `value` under `key` (if storage works: the cookie holds the decision anyway).
 * @template T
 * @param {string} key
 * @param {T} value
 * @returns {T}
 */
export function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    // storage disabled or full
  }
  return value;
}

/**
 * name → value of every cookie the page can read (a value up to its first "=": the decision's
 * is URI-encoded, and only the names of the others are read).
 * @returns {Record<string, string>}
 */
export const cookies = () => Object.fromEntries(doc.cookie.split('; ').map((c) => c.split('=')));

/** The stored decision, or null. @returns {Decision | null} */
export function readDecision() {
  try {
    return JSON.parse(decodeURIComponent(cookies()[CONSENT_COOKIE]));
  } catch (e) {
    return null;
  }
}

/** @param {Decision} decision @param {number} days how long the cookie keeps it */
export function writeDecision(decision, days) {
  doc.cookie =
    `${CONSENT_COOKIE}=${encodeURIComponent(JSON.stringify(decision))};path=/;max-age=${
      days * 86400};SameSite=Lax${location.protocol == 'https:' ? ';Secure' : ''}`;
  save(DEVICE_KEY, decision.device_id);
}

/** The pseudonymous device id: from the decision cookie, else localStorage, else a new one. */
export function deviceId() {
  return readDecision()?.device_id || load(DEVICE_KEY) || uuid();
}

/**
 * The device secret (DESIGN.md, "Device secret"), made at the device's first need and kept in
 * localStorage only: never in the cookie or the decision, which the site's scripts can read.
 * Two random UUIDs: 244 bits from crypto.getRandomValues, in characters base64url allows
 * (cheaper in bytes than encoding random bytes with btoa).
 * @returns {string}
 */
export const secret = () => load(SECRET_KEY) || save(SECRET_KEY, uuid() + uuid());

/** After an erasure: forget the decision, the device id and secret, the queue and the receipts. */
export function forget() {
  doc.cookie = CONSENT_COOKIE + '=;path=/;max-age=0';
  for (const key of [DEVICE_KEY, SECRET_KEY, QUEUE_KEY, RECEIPTS_KEY]) save(key, null);
}

/** @param {string[]} patterns names, or prefixes ending in "*" @param {string} name */
const matches = (patterns, name) =>
  patterns.some((p) => (p.slice(-1) == '*' ? name.startsWith(p.slice(0, -1)) : p == name));

/**
 * Delete the declared cookies (host and every parent domain) and storage keys of the
 * categories that `choices` does not grant.
 * @param {import('./constants.js').Category[]} categories
 * @param {import('./constants.js').Choices} choices
 */
export function removeRefused(categories, choices) {
  const host = location.hostname.split('.');
  const jar = cookies();
  for (const c of categories) {
    if (choices[c.key]) continue;
    for (const t of c.trackers || []) {
      const patterns = t.cookies || [];
      if (!patterns.length) continue;
      if (t.kind == 'storage') {
        for (const store of [localStorage, sessionStorage]) {
          for (const k of Object.keys(store)) if (matches(patterns, k)) store.removeItem(k);
        }
        continue;
      }
      for (const name of Object.keys(jar)) {
        if (!matches(patterns, name)) continue;
        const expire = name + '=;path=/;max-age=0';
        doc.cookie = expire;
        for (let i = 0; i < host.length - 1; i++) {
          doc.cookie = `${expire};domain=.${host.slice(i).join('.')}`;
        }
      }
    }
  }
}

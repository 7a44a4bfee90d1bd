// The decision cookie, the device id, and small JSON values in localStorage.
import { CONSENT_COOKIE, DEVICE_KEY, QUEUE_KEY, RECEIPTS_KEY, SECRET_KEY } from './constants.js';

// `document`, under a name the minifier can shorten (the DOM modules use it often).
export const doc = document;

/** A random (version 4) UUID, also on plain http where crypto.randomUUID is missing. */
export const uuid = () =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
  );

export function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch (e) {
    return null;
  }
}

/** Keep `value` under `key` (if storage works: the cookie holds the decision anyway). */
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
 */
export const cookies = () => Object.fromEntries(doc.cookie.split('; ').map((c) => c.split('=')));

/** The stored decision, or null. */
export function readDecision() {
  try {
    return JSON.parse(decodeURIComponent(cookies()[CONSENT_COOKIE]));
  } catch (e) {
    return null;
  }
}

export function writeDecision(decision, lifetimeDays) {
  doc.cookie =
    `${CONSENT_COOKIE}=${encodeURIComponent(JSON.stringify(decision))};path=/;max-age=${
      lifetimeDays * 86400};SameSite=Lax${location.protocol == 'https:' ? ';Secure' : ''}`;
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
 */
export const secret = () => load(SECRET_KEY) || save(SECRET_KEY, uuid() + uuid());

/** After an erasure: forget the decision, the device id and secret, the queue and the receipts. */
export function forget() {
  doc.cookie = CONSENT_COOKIE + '=;path=/;max-age=0';
  for (const key of [DEVICE_KEY, SECRET_KEY, QUEUE_KEY, RECEIPTS_KEY]) save(key, null);
}

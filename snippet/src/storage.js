// The decision cookie, the device id, and small JSON values in localStorage.
import { CONSENT_COOKIE, DEVICE_KEY, QUEUE_KEY, RECEIPTS_KEY } from './constants.js';

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

/** name → value of every cookie the page can read. */
export function cookies() {
  const jar = {};
  for (const part of doc.cookie.split('; ')) {
    const i = part.indexOf('=');
    if (i > 0) jar[part.slice(0, i)] = part.slice(i + 1);
  }
  return jar;
}

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
      Math.round(lifetimeDays * 86400)};SameSite=Lax${location.protocol == 'https:' ? ';Secure' : ''}`;
  save(DEVICE_KEY, decision.device_id);
}

/** The pseudonymous device id: from the decision cookie, else localStorage, else a new one. */
export function deviceId() {
  return readDecision()?.device_id || load(DEVICE_KEY) || uuid();
}

/** After an erasure: forget the decision, the device id, the queue and the receipts. */
export function forget() {
  doc.cookie = CONSENT_COOKIE + '=;path=/;max-age=0';
  for (const key of [DEVICE_KEY, QUEUE_KEY, RECEIPTS_KEY]) save(key, null);
}

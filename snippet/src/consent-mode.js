// @ts-check
// Google Consent Mode v2: `default` before any tag, `update` on each decision.
import { CONSENT_MODE_WAIT_MS } from './constants.js';
import { consentModeDefault, consentModeState } from './engine.js';

/** @typedef {import('./constants.js').Site} Site */

/** @param {...any} args */
function gtag(...args) {
  const w = /** @type {any} */ (window);
  w.dataLayer = w.dataLayer || [];
  // gtag.js reads Arguments objects from the dataLayer, not arrays.
  (w.gtag = w.gtag || function () { w.dataLayer.push(arguments); })(...args);
}

/**
 * The `default` (denied), which must come before every tag. A dataLayer already holding
 * anything but consent commands means a tag (GTM's start, gtag's 'js'/'config') ran first:
 * its hits went out with no consent state, so say so in the console, where integrators look.
 * @param {Site} site
 */
export function consentModeDefaults(site) {
  if (/** @type {any} */ (window).dataLayer?.some((/** @type {any} */ a) => a[0] != 'consent')) {
    console.warn('Accord: a tag ran before the Consent Mode default. Put Accord first in <head>.');
  }
  gtag('consent', 'default', { ...consentModeDefault(site), wait_for_update: CONSENT_MODE_WAIT_MS });
}

/** @param {Site} site @param {import('./constants.js').Choices} choices */
export const consentModeUpdate = (site, choices) =>
  gtag('consent', 'update', consentModeState(site, choices));

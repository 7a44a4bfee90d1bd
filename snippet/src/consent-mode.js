// Google Consent Mode v2: `default` before any tag, `update` on each decision.
import { consentModeDefault, consentModeState } from './engine.js';

function gtag(...args) {
  const w = window;
  w.dataLayer = w.dataLayer || [];
  // gtag.js reads Arguments objects from the dataLayer, not arrays.
  (w.gtag = w.gtag || function () { w.dataLayer.push(arguments); })(...args);
}

export const consentModeDefaults = (site) =>
  gtag('consent', 'default', { ...consentModeDefault(site), wait_for_update: 500 });

export const consentModeUpdate = (site, choices) =>
  gtag('consent', 'update', consentModeState(site, choices));

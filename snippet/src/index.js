// The snippet: wires the engine to the page. The server replaces __ACCORD_CONFIG__ with the
// site's client config (published revision, regime chosen for this visitor, GPC seen, API).
import { choicesFor, decisionFor, defaultChoices, effectiveChoices, needsBanner } from './engine.js';
import { pickLanguage, translator } from './i18n.js';
import { cookies, deviceId, doc, forget, readDecision, secret, uuid, writeDecision } from './storage.js';
import { transport } from './transport.js';
import { consentModeDefaults, consentModeUpdate } from './consent-mode.js';
import { blocker, removeRefused } from './blocker.js';
import {
  closeLayer, openLayer, placeholder, setup, showBanner, showPreferences, toggles,
} from './banner.js';
import CSS from './styles.css';

/* global __ACCORD_CONFIG__ */
const site = __ACCORD_CONFIG__;
const cfg = site.config;
const nonce = doc.currentScript?.nonce;
const regime = site.regime;
const gpc = !!(navigator.globalPrivacyControl || site.gpc);
const t = translator(cfg, pickLanguage(cfg, doc.documentElement.lang, navigator.languages));

const stored = readDecision();
let pending = needsBanner(site, stored, Date.now()); // a decision is awaited
let decision = pending ? null : stored;
let choices = effectiveChoices(site, stored, regime, gpc, Date.now());

// After a decision or an erasure: the layer closes and the page follows `choices`.
function apply() {
  closeLayer();
  consentModeUpdate(site, choices);
  removeRefused(cfg.categories, choices, cookies());
  block.apply_(choices);
}

function decide(action, wanted) {
  choices = choicesFor(site, action, { regime_: regime, wanted_: wanted, base_: choices });
  const made = decisionFor(site, action, choices, {
    consentId_: uuid(),
    deviceId_: deviceId(),
    language_: t.lang_,
    pageUrl_: location.origin + location.pathname,
    gpc_: gpc,
    now_: Date.now(),
  });
  decision = made.decision_;
  pending = false;
  writeDecision(decision, site.consent_lifetime_days);
  apply();
  tx.send_(made.record_);
  doc.dispatchEvent(new CustomEvent('accord:consent', { detail: decision }));
  return decision;
}

// This device's records on the server, which answers only with the device secret.
const history = (method) =>
  fetch(`${site.api}/devices/${deviceId()}/consents`, { method, headers: { 'Accord-Device-Secret': secret() } });

// "Download my consent history": the server's records for this device, the local decision
// and every signed receipt the snippet kept.
async function download() {
  let data = {};
  try {
    data = await (await history()).json();
  } catch (e) {
    // offline: the local decision and receipts still go into the file
  }
  const a = doc.createElement('a');
  a.href = URL.createObjectURL(new Blob([JSON.stringify({ ...data, decision, receipts: tx.receipts_() })]));
  a.download = 'consent-history.json';
  a.click();
}

// "Erase my data": once the server has erased this device's records, forget the decision,
// the device id and secret, the queue and the receipts here too; the regime's defaults apply
// and the banner asks again. If the server cannot be reached, nothing changes.
async function erase() {
  if (!(await history('DELETE')).ok) return;
  forget();
  decision = null;
  pending = true;
  choices = defaultChoices(site, regime, gpc);
  apply();
  banner(t('erased'));
}

function onAction(action) {
  if (action == 'customize') preferences();
  else if (action == 'download_history') download();
  else if (action == 'erase') erase();
  else if (action == 'save') decide('custom', toggles());
  // Closing counts as refusal while a decision is awaited; after one it only closes.
  else if (action == 'close') pending ? decide('reject_all') : closeLayer();
  else decide(action);
}

setup(cfg, t, onAction, regime, gpc);
const banner = (note, onLoad) => openLayer() || showBanner(note, onLoad);
const preferences = () => openLayer() == 'preferences' || showPreferences(choices, decision);

// Styles without 'unsafe-inline': a constructed stylesheet, else a <style> with our nonce.
try {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
} catch (e) {
  const style = doc.createElement('style');
  style.nonce = nonce;
  style.textContent = CSS;
  doc.head.append(style);
}

const tx = transport(site.api);
const block = blocker(nonce, (key) => placeholder(key, () => decide('custom', { [key]: true })));

consentModeDefaults(site);
if (decision || regime != 'opt_in') consentModeUpdate(site, choices);
block.apply_(choices);
// What the visitor does not see waits until the banner is painted (a frame, then a task):
// sweeping refused cookies and storage keys, and sending decisions still queued, each
// cost a synchronous round trip to the browser for storage.
requestAnimationFrame(() =>
  setTimeout(() => {
    removeRefused(cfg.categories, choices, cookies());
    tx.flush_();
  }),
);

// Leaving without a choice under GPC records the browser's signal as the decision.
function leave() {
  if (pending && gpc) decide('gpc');
  tx.beacon_();
}
addEventListener('pagehide', leave);
doc.addEventListener('visibilitychange', () => doc.hidden && leave());

doc.addEventListener('click', (e) => {
  if (e.target.closest?.('[data-accord-open]')) {
    e.preventDefault();
    preferences();
  }
});

// The banner is shown as soon as there is a <body> to hold it: from the <head>, that is while
// the page is still being parsed, so it is painted with the page's first frames rather than
// after DOMContentLoaded. (banner(0, 1): no note, and on page load, so focus follows the paint.)
if (doc.body) pending && banner(0, 1);
else {
  new MutationObserver((_, seen) => {
    if (doc.body) seen.disconnect(), pending && banner(0, 1);
  }).observe(doc.documentElement, { childList: true });
}

window.Accord = {
  getConsent: () => decision,
  show: (layer) => (layer == 'preferences' ? preferences() : banner()),
  acceptAll: () => decide('accept_all'),
  rejectAll: () => decide('reject_all'),
  update: (wanted) => decide('custom', wanted),
  /** on('consent', fn): fn(decision) on each decision, and at once if one holds. */
  on(name, fn) {
    doc.addEventListener('accord:' + name, (e) => fn(e.detail));
    if (name == 'consent' && decision) fn(decision);
  },
};

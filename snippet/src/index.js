// @ts-check
// The snippet: wires the engine to the page. The server replaces __ACCORD_CONFIG__ with the
// site's client config (published revision, regime chosen for this visitor, GPC seen, API).
import { choicesFor, decisionFor, defaultChoices, effectiveChoices, holdDays, needsBanner } from './engine.js';
import { addTexts, pickLanguage, textsUrl, translator } from './i18n.js';
import { deviceId, readDecision, removeRefused, uuid, writeDecision } from './storage.js';
import { doc } from './dom.js';
import { RELOAD_WAIT_MS } from './constants.js';
import { getTexts, prefetch, transport } from './transport.js';
import { consentModeDefaults, consentModeUpdate } from './consent-mode.js';
import { blocker } from './blocker.js';
import { bundledUi, loadUi } from './ui-bundled.js';
import { loadChunk } from './chunk.js';

/* global __ACCORD_CONFIG__ */
// The inline stub (the recommended integration) made window.Accord a queue of early calls.
const early = window.Accord;
const site = __ACCORD_CONFIG__;
const cfg = site.config;
const nonce = doc.currentScript?.nonce;
// With the stub, this page loaded the full snippet because no decision was stored, and the
// next one will load the core snippet: fetch it for the next page once a decision is made.
// (The stub asks for this one with the visitor's languages, `.js?lang=...`, and that one as
// `.core.js`.)
/** @type {any} */
let nextPage = early?.q && bundledUi && /** @type {HTMLScriptElement} */ (doc.currentScript).src.replace(/\.js(\?.*)?$/, '.core.js');
const regime = site.regime;
const gpc = !!(navigator.globalPrivacyControl || site.gpc);
// Loaded by the stub, the snippet carries the first layer's texts in the visitor's one
// language, which the server chose as pickLanguage would (the preferences dialog's come with
// it, below); the plain <script> tag's carries every text of every language of the site.
if (site.texts) addTexts(cfg, site.texts);
const lang = site.texts?.lang || pickLanguage(cfg, doc.documentElement.lang, navigator.languages);
const t = translator(cfg, lang);

const stored = readDecision();
let pending = needsBanner(site, stored, Date.now()); // a decision is awaited

// The visitor's texts, in their one language: the snippet carries none (a page never downloads
// the languages it does not speak). Asked for now when a banner is due, so the round trip runs
// alongside the rest of this script; else the first time the UI must show.
/** @type {Promise<any> | undefined} */
let texts;
const withTexts = () => (texts ||= cfg.texts ? Promise.resolve() : getTexts(textsUrl(site, lang)).then((p) => p && addTexts(cfg, p)));
if (pending) withTexts();
let decision = pending ? null : stored;
let choices = effectiveChoices(site, stored, regime, gpc, Date.now());

// After a decision or an erasure: the layer closes and the page follows `choices`.
function apply() {
  ui?.close_();
  consentModeUpdate(site, choices);
  removeRefused(cfg.categories, choices);
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
  // Taking away a category whose code already ran in this page needs a reload: running code
  // cannot be unloaded (site option reload_on_withdraw, on unless set to false).
  const reload = cfg.reload_on_withdraw != false && block.takesAway_(choices);
  writeDecision(decision, holdDays(site, action));
  if (nextPage) prefetch(nextPage), (nextPage = 0);
  apply();
  const sent = tx.send_(made.record_);
  doc.dispatchEvent(new CustomEvent('accord:consent', { detail: decision }));
  // The decision is in the cookie and in the queue (a next page sends it if this one could
  // not): the reload waits for the POST, but not for ever.
  if (reload) Promise.race([sent, new Promise((ok) => setTimeout(ok, RELOAD_WAIT_MS))]).then(() => location.reload());
  return decision;
}

// "Erase my data" (once confirmed, rights.js): once the server has erased this device's
// records and they are forgotten here too, the regime's defaults apply and the banner asks
// again. If the server cannot be reached, nothing changes and the dialog says so.
function erased() {
  decision = null;
  pending = true;
  choices = defaultChoices(site, regime, gpc);
  apply();
  banner(t('erased'));
}

function onAction(action, button) {
  if (action == 'customize' || action == 'retry') preferences(button);
  // The visitor's rights, from the preferences dialog: its chunk is here.
  else if (action == 'download_history') chunk.downloadHistory(site.api, decision).then((ok) => ok || ui?.note_(t('download_failed')));
  else if (action == 'erase') confirm(t('erase_confirm')) && chunk.eraseDevice(site.api).then((ok) => (ok ? erased() : ui?.note_(t('erase_failed'))));
  else if (action == 'save') decide('custom', chunk.toggles());
  // Closing while a decision is awaited is recorded as `close` (it refuses, but is not a
  // refusal the visitor chose); after a decision it only closes and keeps it.
  else if (action == 'close') pending ? decide('close') : ui.close_();
  else decide(action);
}

// The UI (ui.js): here from the start in the full snippet; in the core one, fetched the
// first time a layer or a placeholder must show.
let ui;
const startUi = (module) => {
  module.addStyles(nonce);
  return (ui = module.createBanner({ config: cfg, t, onAction, regime, gpc }));
};
if (bundledUi && cfg.texts) startUi(bundledUi);
const withUi = (fn) => (ui ? fn(ui) : Promise.all([loadUi(nonce), withTexts()]).then(([m]) => fn(ui || startUi(m))));
const banner = (note, onLoad) => withUi((u) => u.open_() || u.banner_(note, onLoad));

// The preferences dialog: its code and styles come with the UI chunk (chunk.js), and with a
// snippet that carries the first layer's texts only, its texts (the visitor's language) from
// GET /s/KEY/texts.REV.LANG.json. Fetched on intent: when the visitor points at, focuses or
// touches Customize (or a data-accord-open link), else on the click, the API call. A failure
// is forgotten, so the next try fetches again.
/** @type {Promise<any> | undefined | 0} */
let dialog;
/** @type {any} the UI chunk's module, once the dialog has been had */
let chunk;
const withDialog = () =>
  (dialog ||= Promise.all([loadChunk(nonce), site.texts && getTexts(textsUrl(site, lang))]).then(([m, p]) => {
    if (site.texts) addTexts(cfg, p); // null (not had): throws
    m.addPreferenceStyles(nonce);
    return (chunk = m).preferencesBox;
  }).catch((e) => {
    dialog = 0;
    throw e;
  }));
for (const name of ['pointerover', 'focusin', 'touchstart']) {
  doc.addEventListener(name, (e) => /** @type {any} */ (e.target).closest?.('[data-accord-action=customize],[data-accord-open]') && withDialog().catch(() => 0), { passive: true });
}
// The click (or the call) opens the dialog as soon as it is here, unless a decision came in
// the meantime; the button says it is busy until then (aria-busy: nothing moves). If it cannot
// be had, the open layer says so, with a button to try again; its other buttons keep working.
function preferences(button) {
  const was = decision;
  button?.setAttribute('aria-busy', 'true');
  const done = () => button?.removeAttribute('aria-busy');
  return Promise.all([withUi((u) => u), withDialog()]).then(
    ([u, build]) => {
      done();
      decision == was && u.open_() != 'preferences' && u.preferences_(choices, decision, build);
    },
    () => {
      done();
      // No layer open (an API call, a settings link): the first layer says it.
      ui && (ui.open_() ? ui.note_(t('preferences_failed'), 'retry') : ui.banner_(t('preferences_failed')));
    },
  );
}

// The stand-in for a blocked iframe; in the core snippet, filled once the UI is here.
function placeholder(key) {
  const allow = () => decide('custom', { [key]: true });
  if (ui) return ui.placeholder_(key, allow);
  const box = doc.createElement('div');
  withUi((u) => box.append(u.placeholder_(key, allow)));
  return box;
}

const tx = transport(site.api);
const block = blocker(nonce, placeholder);

// The stub already set Consent Mode's default (all denied) before any tag: this script may
// come after tags, so it only updates, to the regime's state or the stored decision.
if (!early?.q) consentModeDefaults(site);
if (early?.q || decision || regime != 'opt_in') consentModeUpdate(site, choices);
block.apply_(choices);
// What the visitor does not see waits until the banner is painted (a frame, then a task):
// sweeping refused cookies and storage keys, and sending decisions still queued, each
// cost a synchronous round trip to the browser for storage.
requestAnimationFrame(() =>
  setTimeout(() => {
    removeRefused(cfg.categories, choices);
    tx.flush_();
  }),
);

// Leaving without a choice under GPC records the browser's signal as the decision.
function leave() {
  if (pending && gpc) decide('gpc');
  tx.beacon_();
}
// Once per hiding: a page going away is hidden (visibilitychange) before its pagehide, which
// alone tells browsers that skip the first. This work delays the next page's first paint.
addEventListener('pagehide', () => doc.hidden || leave());
doc.addEventListener('visibilitychange', () => doc.hidden && leave());

doc.addEventListener('click', (e) => {
  if (/** @type {any} */ (e.target).closest?.('[data-accord-open]')) {
    e.preventDefault();
    preferences();
  }
});

// The banner is shown as soon as there is a <body> to hold it: from the <head>, that is while
// the page is still being parsed, so it is painted with the page's first frames rather than
// after DOMContentLoaded. (banner(0, 1): no note, and on page load, so focus follows the paint.)
// With a decision, the floating "privacy settings" button shows instead, if the site has it.
const start = () => (pending ? banner(0, 1) : cfg.floating_button && withUi((u) => u.close_()));
// Loaded by the stub, this script runs after the page's first paint: the banner then comes
// in a task of its own (after the one that loads its fonts: banner.js), so that no task is
// long.
if (doc.body) early?.q ? setTimeout(start) : start();
else {
  new MutationObserver((_, seen) => {
    if (doc.body) seen.disconnect(), start();
  }).observe(doc.documentElement, { childList: true });
}

const api = (window.Accord = {
  getConsent: () => decision,
  show: (layer) => (layer == 'preferences' ? preferences() : banner()),
  acceptAll: () => decide('accept_all'),
  rejectAll: () => decide('reject_all'),
  update: (wanted) => decide('custom', wanted),
  /** on('consent', fn): fn(decision) on each decision, and at once if one holds. */
  on(name, fn) {
    doc.addEventListener('accord:' + name, (e) => fn(/** @type {CustomEvent} */ (e).detail));
    if (name == 'consent' && decision) fn(decision);
  },
});
// Calls made before this script ran, in their order.
for (const [name, args] of early?.q || []) api[name](...args);

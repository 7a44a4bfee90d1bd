// @ts-check
// The consent engine: pure functions of the site's client config, the stored decision,
// the GPC signal, the regime and the time. No DOM, no storage, no network.
//
// `site` is the client config the server embeds: {revision, regime, reconsent_revision,
// consent_lifetime_days, gpc, api, config: {categories, ...}} (a false flag may be absent).
// A decision is {consent_id, device_id, revision, action, choices, decided_at}.
// Option names ending in "_" are ours, not the wire's: the build shortens them.
import { CONSENT_MODE_SIGNALS, DAY_MS, REFUSAL_INTERVAL_DAYS, REFUSALS } from './constants.js';

/**
 * @typedef {import('./constants.js').Site} Site
 * @typedef {import('./constants.js').Choices} Choices
 * @typedef {import('./constants.js').Decision} Decision
 */

/** @param {Site} site */
const categories = (site) => site.config.categories;

/**
 * Choices before any decision: required on; opt_in off; opt_out/notice on unless GPC covers it.
 * @param {Site} site @param {string | undefined} regime @param {boolean} gpc @returns {Choices}
 */
export function defaultChoices(site, regime, gpc) {
  /** @type {Choices} */
  const choices = {};
  for (const c of categories(site)) {
    choices[c.key] = c.required || (regime != 'opt_in' && !(gpc && c.honor_gpc));
  }
  return choices;
}

/**
 * How many days a decision holds: a refusal (refuse all, withdraw, close) the site's refusal
 * interval, anything else the consent lifetime.
 * @param {Site} site @param {string} action
 */
export const holdDays = (site, action) =>
  REFUSALS.includes(action)
    ? site.config.refusal_interval_days ?? REFUSAL_INTERVAL_DAYS
    : site.consent_lifetime_days;

/**
 * Whether a stored decision still holds: same site rules, not before re-consent, not expired.
 * @param {Site} site @param {Decision | null} stored @param {number} now
 * @returns {stored is Decision}
 */
export function isCurrent(site, stored, now) {
  return !!(
    stored?.choices &&
    stored.revision >= site.reconsent_revision &&
    now - Date.parse(stored.decided_at) <= holdDays(site, stored.action) * DAY_MS
  );
}

/** The banner is shown when there is no decision that still holds. @param {Site} site @param {Decision | null} stored @param {number} now */
export const needsBanner = (site, stored, now) => !isCurrent(site, stored, now);

/**
 * The choices in force now: the stored decision if it holds, else the regime's defaults.
 * @param {Site} site @param {Decision | null} stored @param {string} regime @param {boolean} gpc @param {number} now
 */
export function effectiveChoices(site, stored, regime, gpc, now) {
  const choices = defaultChoices(site, regime, gpc);
  if (isCurrent(site, stored, now)) {
    for (const c of categories(site)) {
      if (!c.required && c.key in stored.choices) choices[c.key] = !!stored.choices[c.key];
    }
  }
  return choices;
}

/**
 * The choices an action stands for. `custom` takes `wanted_` ({key: bool}) over `base_`;
 * `gpc` is the regime's defaults with GPC applied; `reject_all`, `withdraw` and `close` grant
 * only what is required. Required categories are always true.
 * @param {Site} site @param {string} action
 * @param {{regime_?: string, wanted_?: Choices, base_?: Choices}} [options]
 * @returns {Choices}
 */
export function choicesFor(site, action, { regime_: regime, wanted_: wanted = {}, base_: base = {} } = {}) {
  if (action == 'gpc') return defaultChoices(site, regime, true);
  /** @type {Choices} */
  const choices = {};
  for (const c of categories(site)) {
    choices[c.key] =
      c.required ||
      (action == 'accept_all' ||
        (action == 'custom' && !!(c.key in wanted ? wanted[c.key] : base[c.key])));
  }
  return choices;
}

/**
 * A new decision (what the cookie keeps and Accord.getConsent() returns) and its POST body
 * (DESIGN.md, "The consent POST body"), with the same snake_case names. `ctx`:
 * {consentId_, deviceId_, language_, pageUrl_, gpc_, now_}. Neither holds the device secret,
 * which the transport adds to the body when it sends it.
 * @param {Site} site @param {string} action @param {Choices} choices
 * @param {{consentId_: string, deviceId_: string, language_: string, pageUrl_: string, gpc_: boolean, now_: number}} ctx
 * @returns {{decision_: Decision, record_: import('./constants.js').ConsentRecord}}
 */
export function decisionFor(site, action, choices, ctx) {
  const clientTs = new Date(ctx.now_).toISOString();
  const record = {
    consent_id: ctx.consentId_,
    device_id: ctx.deviceId_,
    revision: site.revision,
    action,
    choices,
  };
  return {
    decision_: { ...record, decided_at: clientTs },
    record_: { ...record, language: ctx.language_, page_url: ctx.pageUrl_, gpc: !!ctx.gpc_, client_ts: clientTs },
  };
}

/** Category keys granted by `choices`. @param {Choices} choices */
export const grantedKeys = (choices) => Object.keys(choices).filter((k) => choices[k]);

/**
 * Google Consent Mode v2 state: a signal is granted when a granted category carries it.
 * @param {Site} site @param {Choices} choices @returns {Record<string, string>}
 */
export function consentModeState(site, choices) {
  /** @type {Record<string, string>} */
  const state = {};
  for (const s of CONSENT_MODE_SIGNALS) state[s] = 'denied';
  for (const c of categories(site)) {
    if (choices[c.key]) for (const s of c.consent_mode || []) state[s] = 'granted';
  }
  return state;
}

/** The Consent Mode `default`: everything denied except the signals of required categories. @param {Site} site */
export const consentModeDefault = (site) =>
  consentModeState(site, defaultChoices(site, 'opt_in', false));

// @ts-check
// The one vocabulary shared with the server (cmp_server/vocabulary.py spells the same values),
// the names of what the snippet keeps in the browser, its delays, and the shapes it passes
// around (JSDoc types, checked by `tsc --noEmit` in `npm run check`; no byte in the bundle).

export const ACTIONS = ['accept_all', 'reject_all', 'custom', 'withdraw', 'gpc', 'close'];
// Decisions that refuse every optional purpose: remembered for the site's refusal interval.
export const REFUSALS = ['reject_all', 'withdraw', 'close'];
export const TRACKER_KINDS = ['cookie', 'beacon', 'fingerprinting', 'storage'];
export const CONSENT_MODE_SIGNALS = [
  'ad_storage',
  'ad_user_data',
  'ad_personalization',
  'analytics_storage',
  'functionality_storage',
  'personalization_storage',
  'security_storage',
];
export const REGIMES = ['opt_in', 'opt_out', 'notice'];

// First-party cookie holding the decision (readable by the site's server).
export const CONSENT_COOKIE = 'accord_consent';
// localStorage keys: the device id, the device secret (never in the cookie: it proves to the
// server that a request comes from this browser), the queue of unsent decisions, the receipts
// ({consent_id: receipt}, oldest first, for the visitor's download).
export const DEVICE_KEY = 'accord_device';
export const SECRET_KEY = 'accord_secret';
export const QUEUE_KEY = 'accord_queue';
export const RECEIPTS_KEY = 'accord_receipts';

// Site options the server leaves out of the snippet when they have their default value.
export const REFUSAL_INTERVAL_DAYS = 182;

// Times, in milliseconds.
export const DAY_MS = 864e5;
export const RETRY_FIRST_MS = 1e3; // first retry of a failed POST, doubled at each failure
export const RETRY_MAX_MS = 3e5; // up to five minutes between retries
export const RELOAD_WAIT_MS = 1500; // a reload after a withdrawal waits this long for the POST
export const CONSENT_MODE_WAIT_MS = 500; // Consent Mode `wait_for_update` for tags

/**
 * @typedef {Record<string, boolean>} Choices {category key: granted}
 * @typedef {{name: string, provider?: string, kind: string,
 *   purpose?: Record<string, string>, duration?: Record<string, string>,
 *   cookies?: string[], privacy_policy_url?: string}} Tracker
 * @typedef {{key: string, required?: boolean, honor_gpc?: boolean, consent_mode?: string[],
 *   labels: Record<string, Record<string, string>>, trackers: Tracker[]}} Category
 * @typedef {{categories: Category[], languages: string[], default_language: string,
 *   texts: Record<string, Record<string, string>>, privacy_policy_url?: string,
 *   look?: {position?: string, colors?: Record<string, string>},
 *   refusal_interval_days?: number, reload_on_withdraw?: boolean, floating_button?: boolean
 * }} SiteConfig the site's published revision, as embedded
 * @typedef {{lang: string, texts: Record<string, string>,
 *   categories: Record<string, {title: string, description?: string, trackers: Record<string, string>[]}>}} TextsPayload
 *   one language's visitor texts (GET /s/KEY/texts.REV.LANG.json)
 * @typedef {{revision: number, regime: string, reconsent_revision: number,
 *   consent_lifetime_days: number, gpc?: boolean, api: string, config: SiteConfig,
 *   texts?: TextsPayload}} Site
 *   the client config the server embeds for one visitor (`texts`: the one language the
 *   inline stub asked for, `?lang=`, in place of the texts of every language in `config`)
 * @typedef {{consent_id: string, device_id: string, revision: number, action: string,
 *   choices: Choices, decided_at: string}} Decision what the cookie keeps, getConsent() returns
 * @typedef {{consent_id: string, device_id: string, revision: number, action: string,
 *   choices: Choices, language: string, page_url: string, gpc: boolean, client_ts: string}}
 *   ConsentRecord the consent POST body (the transport adds device_secret)
 * @typedef {((key: string) => string) & {lang_: string,
 *   label_: (category: Category, key: string) => string}} Translator
 */

// The one vocabulary shared with the server (cmp_server/vocabulary.py spells the same values).
export const ACTIONS = ['accept_all', 'reject_all', 'custom', 'withdraw', 'gpc'];
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


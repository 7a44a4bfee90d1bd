// Truth tables for the pure consent engine: action x required category x stale decision x
// GPC x regime. Run with `npm test` (node --test); no browser, no DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choicesFor, consentModeDefault, consentModeState, decisionFor, defaultChoices,
  effectiveChoices, grantedKeys, holdDays, isCurrent, needsBanner,
} from '../src/engine.js';
import { ACTIONS } from '../src/constants.js';

const DAY = 864e5;
const NOW = Date.parse('2026-11-24T10:00:00Z');

function makeSite(overrides = {}) {
  return {
    site_key: 'k',
    revision: 3,
    reconsent_revision: 2,
    consent_lifetime_days: 182,
    regime: 'opt_in',
    gpc: false,
    config: {
      categories: [
        { key: 'necessary', required: true, honor_gpc: false, consent_mode: ['security_storage'] },
        { key: 'analytics', required: false, honor_gpc: true, consent_mode: ['analytics_storage'] },
        { key: 'marketing', required: false, honor_gpc: true, consent_mode: ['ad_storage', 'ad_user_data', 'ad_personalization'] },
        { key: 'support', required: false, honor_gpc: false, consent_mode: ['functionality_storage'] },
      ],
    },
    ...overrides,
  };
}

const decided = (choices, { revision = 3, daysAgo = 1, action = 'custom' } = {}) => ({
  consent_id: 'c', device_id: 'd', revision, action, choices,
  decided_at: new Date(NOW - daysAgo * DAY).toISOString(),
});

const ALL = { necessary: true, analytics: true, marketing: true, support: true };
const NONE = { necessary: true, analytics: false, marketing: false, support: false };

test('the vocabulary lists the six actions', () => {
  assert.deepEqual(ACTIONS, ['accept_all', 'reject_all', 'custom', 'withdraw', 'gpc', 'close']);
});

// defaults: regime x GPC → choices before any decision
for (const [regime, gpc, expected] of [
  ['opt_in', false, NONE],
  ['opt_in', true, NONE],
  ['opt_out', false, ALL],
  ['opt_out', true, { necessary: true, analytics: false, marketing: false, support: true }],
  ['notice', false, ALL],
  ['notice', true, { necessary: true, analytics: false, marketing: false, support: true }],
]) {
  test(`before any decision, ${regime} with GPC ${gpc} gives ${grantedKeys(expected)}`, () => {
    assert.deepEqual(defaultChoices(makeSite(), regime, gpc), expected);
    assert.deepEqual(effectiveChoices(makeSite(), null, regime, gpc, NOW), expected);
  });
}

// action → choices; required categories always true, whatever the action and the request
for (const regime of ['opt_in', 'opt_out', 'notice']) {
  for (const [action, wanted, expected] of [
    ['accept_all', undefined, ALL],
    ['reject_all', undefined, NONE],
    ['withdraw', undefined, NONE],
    ['close', undefined, NONE],
    ['close', { analytics: true }, NONE],
    ['custom', { analytics: true }, { ...NONE, analytics: true }],
    ['custom', { necessary: false, marketing: true }, { ...NONE, marketing: true }],
    ['reject_all', { necessary: false }, NONE],
    ['gpc', undefined, regime == 'opt_in' ? NONE : { ...NONE, support: true }],
  ]) {
    test(`${action} ${JSON.stringify(wanted || {})} under ${regime} gives ${grantedKeys(expected)}`, () => {
      assert.deepEqual(choicesFor(makeSite(), action, { regime_: regime, wanted_: wanted }), expected);
    });
  }
}

test('custom keeps the current choices for categories it does not name', () => {
  const base = { ...NONE, marketing: true };
  assert.deepEqual(
    choicesFor(makeSite(), 'custom', { regime_: 'opt_in', wanted_: { analytics: true }, base_: base }),
    { ...NONE, analytics: true, marketing: true },
  );
});

// stored decision x staleness: the banner shows again and the defaults apply
for (const [label, stored, current] of [
  ['no decision', null, false],
  ['a decision on the current revision', decided(ALL), true],
  ['a decision on the re-consent revision', decided(ALL, { revision: 2 }), true],
  ['a decision before the re-consent revision', decided(ALL, { revision: 1 }), false],
  ['a decision at the lifetime', decided(ALL, { daysAgo: 182 }), true],
  ['a decision older than the lifetime', decided(ALL, { daysAgo: 183 }), false],
  ['a cookie without choices', { revision: 3, decided_at: new Date(NOW).toISOString() }, false],
]) {
  test(`${label}: ${current ? 'holds' : 'asks again'}`, () => {
    assert.equal(isCurrent(makeSite(), stored, NOW), current);
    assert.equal(needsBanner(makeSite(), stored, NOW), !current);
    const expected = current ? ALL : NONE;
    assert.deepEqual(effectiveChoices(makeSite(), stored, 'opt_in', false, NOW), expected);
  });
}

// A refusal (refuse all, withdraw, close) holds for the site's refusal interval (default 182
// days), a consent for the consent lifetime; a re-consent revision asks again either way.
const site30 = () => makeSite({ consent_lifetime_days: 30, config: { ...makeSite().config, refusal_interval_days: 90 } });
for (const [label, site, stored, current] of [
  ['a close, 181 days ago, default interval', makeSite(), decided(NONE, { action: 'close', daysAgo: 181 }), true],
  ['a close, 183 days ago, default interval', makeSite(), decided(NONE, { action: 'close', daysAgo: 183 }), false],
  ['a close, 60 days ago, 30-day lifetime, 90-day interval', site30(), decided(NONE, { action: 'close', daysAgo: 60 }), true],
  ['a refusal, 60 days ago, 30-day lifetime, 90-day interval', site30(), decided(NONE, { action: 'reject_all', daysAgo: 60 }), true],
  ['a withdrawal, 91 days ago, 90-day interval', site30(), decided(NONE, { action: 'withdraw', daysAgo: 91 }), false],
  ['a consent, 60 days ago, 30-day lifetime, 90-day interval', site30(), decided(ALL, { action: 'accept_all', daysAgo: 60 }), false],
  ['a close before the re-consent revision', makeSite(), decided(NONE, { action: 'close', revision: 1 }), false],
]) {
  test(`${label}: ${current ? 'holds' : 'asks again'}`, () => {
    assert.equal(isCurrent(site, stored, NOW), current);
  });
}

test('the decision cookie lives as long as the decision holds', () => {
  assert.equal(holdDays(site30(), 'close'), 90);
  assert.equal(holdDays(site30(), 'custom'), 30);
  assert.equal(holdDays(makeSite(), 'reject_all'), 182);
});

test('a stale decision falls back to the regime defaults, GPC applied', () => {
  const stale = decided(ALL, { revision: 1 });
  assert.deepEqual(effectiveChoices(makeSite(), stale, 'opt_out', true, NOW), { ...NONE, support: true });
});

test('an explicit decision outweighs GPC and the regime defaults', () => {
  const stored = decided({ ...NONE, analytics: true });
  for (const regime of ['opt_in', 'opt_out', 'notice']) {
    assert.deepEqual(effectiveChoices(makeSite(), stored, regime, true, NOW), { ...NONE, analytics: true });
  }
});

test('a stored decision cannot turn a required category off', () => {
  const stored = decided({ necessary: false, analytics: true, marketing: false, support: false });
  assert.equal(effectiveChoices(makeSite(), stored, 'opt_in', false, NOW).necessary, true);
});

test('a category added without re-consent takes the regime default', () => {
  const stored = decided({ necessary: true, analytics: true, marketing: false });
  assert.equal(effectiveChoices(makeSite(), stored, 'opt_in', false, NOW).support, false);
  assert.equal(effectiveChoices(makeSite(), stored, 'opt_out', false, NOW).support, true);
});

test('the POST body and the decision share the wire names', () => {
  const { decision_: decision, record_: record } = decisionFor(makeSite(), 'custom', { ...NONE, analytics: true }, {
    consentId_: 'c1', deviceId_: 'd1', language_: 'fr', pageUrl_: 'https://shop.example/cart', gpc_: 1, now_: NOW,
  });
  assert.deepEqual(record, {
    consent_id: 'c1', device_id: 'd1', revision: 3, action: 'custom',
    choices: { ...NONE, analytics: true }, language: 'fr', page_url: 'https://shop.example/cart',
    gpc: true, client_ts: '2026-11-24T10:00:00.000Z',
  });
  assert.deepEqual(decision, {
    consent_id: 'c1', device_id: 'd1', revision: 3, action: 'custom',
    choices: { ...NONE, analytics: true }, decided_at: '2026-11-24T10:00:00.000Z',
  });
});

test('Consent Mode default denies everything but the required categories’ signals', () => {
  assert.deepEqual(consentModeDefault(makeSite()), {
    ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
    analytics_storage: 'denied', functionality_storage: 'denied',
    personalization_storage: 'denied', security_storage: 'granted',
  });
});

test('Consent Mode update grants the signals of granted categories only', () => {
  const state = consentModeState(makeSite(), { ...NONE, marketing: true });
  assert.equal(state.ad_storage, 'granted');
  assert.equal(state.ad_user_data, 'granted');
  assert.equal(state.ad_personalization, 'granted');
  assert.equal(state.analytics_storage, 'denied');
  assert.equal(state.personalization_storage, 'denied');
  assert.deepEqual(Object.values(consentModeState(makeSite(), ALL)).filter((v) => v == 'denied'), ['denied']);
});

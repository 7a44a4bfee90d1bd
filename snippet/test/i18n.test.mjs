// Language choice and per-string fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTexts, inLanguage, pickLanguage, textsUrl, translator } from '../src/i18n.js';

const config = {
  languages: ['en', 'fr', 'pt-BR'],
  default_language: 'en',
  texts: { en: { title: 'Privacy', save: 'Save' }, fr: { title: 'Vie privée', save: '' } },
};

for (const [html, browser, expected] of [
  ['fr', ['en-US'], 'fr'],
  ['fr-CA', ['en-US'], 'fr'],
  ['de', ['fr-FR', 'en'], 'fr'],
  ['', ['de', 'en-GB'], 'en'],
  [null, ['pt-br'], 'pt-BR'],
  ['de', ['es'], 'en'],
  [undefined, undefined, 'en'],
]) {
  test(`<html lang=${html}> and browser ${browser} → ${expected}`, () => {
    assert.equal(pickLanguage(config, html, browser), expected);
  });
}

test('a missing or empty string falls back to the default language', () => {
  const t = translator(config, 'fr');
  assert.equal(t('title'), 'Vie privée');
  assert.equal(t('save'), 'Save');
  assert.equal(t('unknown'), '');
  assert.equal(t.lang_, 'fr');
});

test('category labels fall back to the default language, then to the key', () => {
  const t = translator(config, 'fr');
  const category = { key: 'ads', labels: { en: { title: 'Ads', description: 'Shows ads' }, fr: { title: 'Pub' } } };
  assert.equal(t.label_(category, 'title'), 'Pub');
  assert.equal(t.label_(category, 'description'), 'Shows ads');
  assert.equal(t.label_({ key: 'x', labels: {} }, 'title'), 'x');
});

test('a text given per language (a tracker purpose) in the visitor language, else the default', () => {
  assert.equal(inLanguage(config, 'fr', { en: 'Counts visits', fr: 'Compte les visites' }), 'Compte les visites');
  assert.equal(inLanguage(config, 'fr', { en: 'Counts visits' }), 'Counts visits');
  assert.equal(inLanguage(config, 'fr', undefined), '');
});

test('the texts of one language are fetched next to the API, per revision', () => {
  const site = { api: 'https://consent.example/api/v1/sites/Ab12Cd34Ef56', revision: 7 };
  assert.equal(textsUrl(site, 'pt-BR'), 'https://consent.example/s/Ab12Cd34Ef56/texts.7.pt-BR.json');
});

test('a texts payload fills a configuration that came without texts', () => {
  const core = {
    languages: ['en', 'de'],
    default_language: 'en',
    categories: [{ key: 'stats', trackers: [{ kind: 'cookie', cookies: ['_s'] }] }],
  };
  addTexts(core, {
    lang: 'de',
    texts: { title: 'Datenschutz' },
    categories: {
      stats: { title: 'Statistik', trackers: [{ name: 'S', provider: 'P', purpose: 'Zählt', duration: '1 Jahr' }] },
    },
  });
  const t = translator(core, 'de');
  const [stats] = core.categories;
  assert.equal(t('title'), 'Datenschutz');
  assert.equal(t.label_(stats, 'title'), 'Statistik');
  assert.equal(t.label_(stats, 'description'), '');
  assert.deepEqual(stats.trackers[0].cookies, ['_s']);
  assert.equal(stats.trackers[0].name, 'S');
  assert.equal(inLanguage(core, 'de', stats.trackers[0].purpose), 'Zählt');
  assert.equal(inLanguage(core, 'de', stats.trackers[0].duration), '1 Jahr');
});

test("the first layer's texts, then the preferences' payload: the second completes the first", () => {
  const site = {
    languages: ['en', 'fr'],
    default_language: 'en',
    categories: [{ key: 'stats', trackers: [{ kind: 'cookie', cookies: ['_s'] }] }],
  };
  // What the full snippet embeds for the inline stub: the first layer's texts, titles only.
  addTexts(site, { lang: 'fr', texts: { title: 'Vie privée' }, categories: { stats: { title: 'Statistiques' } } });
  const t = translator(site, 'fr');
  const [stats] = site.categories;
  assert.equal(t('title'), 'Vie privée');
  assert.equal(t.label_(stats, 'title'), 'Statistiques');
  assert.deepEqual(stats.trackers[0], { kind: 'cookie', cookies: ['_s'] });
  addTexts(site, {
    lang: 'fr',
    texts: { title: 'Vie privée', trackers: 'Traceurs' },
    categories: { stats: { title: 'Statistiques', description: 'Compte', trackers: [{ name: 'S', purpose: 'Compte' }] } },
  });
  assert.equal(t('trackers'), 'Traceurs');
  assert.equal(t.label_(stats, 'description'), 'Compte');
  assert.equal(stats.trackers[0].name, 'S');
  assert.deepEqual(stats.trackers[0].cookies, ['_s']);
});

// Language choice and per-string fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickLanguage, translator } from '../src/i18n.js';

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

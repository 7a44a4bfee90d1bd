// @ts-check
// Language choice and text lookup with per-string fallback to the site's default language.
// The texts themselves come from the server (built-in ones merged in at publish time), never
// in the bundle: inside the site's configuration (the full snippet, the site's languages
// only), or as one language's payload fetched when the UI must show (the core snippet).

/**
 * The first of <html lang>, then the browser's languages, that the site offers; else its default.
 * @param {import('./constants.js').SiteConfig} config
 * @param {string} htmlLang
 * @param {readonly string[]} browserLanguages
 */
export function pickLanguage(config, htmlLang, browserLanguages = []) {
  for (const tag of [htmlLang, ...browserLanguages]) {
    // The whole tag, then its primary language ("fr-CA", then "fr").
    for (const want of tag ? [tag, tag.split('-')[0]] : []) {
      for (const lang of config.languages) if (lang.toLowerCase() == want.toLowerCase()) return lang;
    }
  }
  return config.default_language;
}

/**
 * Where the visitor's texts in `lang` are (GET /s/KEY/texts.REV.LANG.json): next to the
 * consent API, one immutable file per revision and language (transport.js getTexts fetches).
 * @param {import('./constants.js').Site} site
 * @param {string} lang
 */
export const textsUrl = (site, lang) => `${site.api.replace('/api/v1/sites/', '/s/')}/texts.${site.revision}.${lang}.json`;

/**
 * Put one language's texts (a texts payload) into the configuration, where translator()
 * and the banner read them: the core snippet's configuration carries none.
 * @param {import('./constants.js').SiteConfig} config
 * @param {import('./constants.js').TextsPayload} payload
 */
export function addTexts(config, payload) {
  const lang = payload.lang;
  (config.texts ||= {})[lang] = payload.texts;
  for (const c of config.categories) {
    const p = payload.categories[c.key];
    if (!p) continue;
    (c.labels ||= {})[lang] = { title: p.title, description: p.description || '' };
    p.trackers?.forEach((_, i) => {
      const { purpose, duration, ...rest } = p.trackers[i];
      Object.assign(c.trackers[i], rest, { purpose: { [lang]: purpose }, duration: { [lang]: duration } });
    });
  }
}

/**
 * A text given per language (a tracker's purpose or duration) in `language`, else in the
 * default one, else empty. (The preferences dialog's only: it comes with the UI chunk.)
 * @param {import('./constants.js').SiteConfig} config
 * @param {string} language
 * @param {Record<string, string> | undefined} byLanguage
 */
export const inLanguage = (config, language, byLanguage) =>
  byLanguage?.[language] || byLanguage?.[config.default_language] || '';

/**
 * A text getter for `language`: t('accept_all'); t.label_(category, 'title'); t.lang_.
 * @param {import('./constants.js').SiteConfig} config
 * @param {string} language
 * @returns {import('./constants.js').Translator}
 */
export function translator(config, language) {
  /** @param {Record<string, Record<string, string>> | undefined} table @param {string} key */
  const pick = (table, key) =>
    table?.[language]?.[key] || table?.[config.default_language]?.[key] || '';
  const t = /** @type {import('./constants.js').Translator} */ ((key) => pick(config.texts, key));
  t.lang_ = language;
  t.label_ = (category, key) => pick(category.labels, key) || (key == 'title' ? category.key : '');
  return t;
}

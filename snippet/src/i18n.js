// Language choice and text lookup with per-string fallback to the site's default language.

/** The first of <html lang>, then the browser's languages, that the site offers; else its default. */
export function pickLanguage(config, htmlLang, browserLanguages = []) {
  for (const tag of [htmlLang, ...browserLanguages]) {
    // The whole tag, then its primary language ("fr-CA", then "fr").
    for (const want of tag ? [tag, tag.split('-')[0]] : []) {
      for (const lang of config.languages) if (lang.toLowerCase() == want.toLowerCase()) return lang;
    }
  }
  return config.default_language;
}

/** A text getter for `language`: t('accept_all'); t.label_(category, 'title'); t.lang_. */
export function translator(config, language) {
  const pick = (table, key) => table?.[language]?.[key] || table?.[config.default_language]?.[key] || '';
  const t = (key) => pick(config.texts, key);
  t.lang_ = language;
  t.label_ = (category, key) => pick(category.labels, key) || (key == 'title' ? category.key : '');
  return t;
}

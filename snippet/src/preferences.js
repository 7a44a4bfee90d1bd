// @ts-check
// The preferences dialog's content: a switch per category, its trackers by kind, the consent
// ID. Not in the full snippet: part of the UI chunk (/s/ui.<hash>.js), fetched when the
// visitor shows the intent to open it (index.js); banner.js shows the box built here.
import { TRACKER_KINDS } from './constants.js';
import { h } from './dom.js';
import { inLanguage } from './i18n.js';
import { DIALOG, btn, link } from './layer.js';

/**
 * @typedef {import('./constants.js').Category} Category
 * @typedef {import('./constants.js').Choices} Choices
 * @typedef {import('./constants.js').Decision} Decision
 */

/**
 * The dialog box (role=dialog, aria-modal), without its close button.
 * @param {{cfg: import('./constants.js').SiteConfig, t: import('./constants.js').Translator, gpcNote: () => any}} layer
 * @param {Choices} choices @param {Decision | null} decision
 */
export function preferencesBox({ cfg, t, gpcNote }, choices, decision) {
  /** @param {Category} c @param {number} i */
  function category(c, i) {
    const id = 'acc-c' + i;
    const trackers = c.trackers || [];
    return h(
      'section',
      { class: 'acc-cat' },
      h(
        'div',
        { class: 'acc-row' },
        h('h3', {}, h('label', { for: id }, t.label_(c, 'title'))),
        c.required && t('always_on'),
        h('input', { type: 'checkbox', role: 'switch', id, name: c.key, checked: choices[c.key], disabled: c.required }),
      ),
      h('p', {}, t.label_(c, 'description')),
      trackers[0] &&
        h(
          'details',
          {},
          h('summary', {}, `${t('trackers')} (${trackers.length})`),
          TRACKER_KINDS.map((kind) => {
            const list = trackers.filter((x) => x.kind == kind);
            return list[0] && [
              h('h4', {}, t('kind_' + kind)),
              h('ul', {}, list.map((x) => h(
                'li',
                {},
                h('strong', {}, x.name),
                ` \u2014 ${t('provider')}: ${x.provider}; ${t('purpose')}: ${inLanguage(cfg, t.lang_, x.purpose)}; ${t('duration')}: ${inLanguage(cfg, t.lang_, x.duration)}`,
                link(x.privacy_policy_url, t('privacy_policy')),
              ))),
            ];
          }),
        ),
    );
  }

  const box = h(
    'div',
    { ...DIALOG, 'data-accord': 'preferences', class: 'acc acc-m', 'aria-modal': 'true' },
    h('h2', { id: 'acc-h' }, t('preferences_title')),
    h('p', {}, t('preferences_description')),
    gpcNote(),
    cfg.categories.map(category),
    h('div', { class: 'acc-btns' }, ['accept_all', 'reject_all', 'save'].map((a) => btn(a, t(a)))),
    decision && [
      h('p', { class: 'acc-cat' }, t('consent_id') + ': ', h('code', {}, decision.consent_id)),
      h('div', { class: 'acc-btns' }, ['download_history', 'withdraw', 'erase'].map((a) => btn(a, t(a)))),
    ],
  );
  // Tab stays inside the dialog, whose first and last focusable elements are buttons (the
  // close button, then a row of buttons).
  box.addEventListener('keydown', (e) => {
    if (e.key != 'Tab') return;
    const all = box.querySelectorAll('button');
    const at = document.activeElement;
    if (at == all[e.shiftKey ? 0 : all.length - 1] || at == box) {
      e.preventDefault();
      all[e.shiftKey ? all.length - 1 : 0].focus();
    }
  });
  return box;
}

/** {category: checked} from the open preferences dialog. @returns {Choices} */
export function toggles() {
  /** @type {Choices} */
  const wanted = {};
  for (const box of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('[data-accord=preferences] input'))) wanted[box.name] = box.checked;
  return wanted;
}

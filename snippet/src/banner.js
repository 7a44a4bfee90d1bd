// @ts-check
// The only module that builds UI: the first layer, the preferences dialog, the iframe
// placeholder and the floating "privacy settings" button. Light DOM, stable hooks
// (data-accord, data-accord-action), and every string from staff inserted as text (dom.js h()).
// What a button does is the caller's business: `onAction(name)` gets the data-accord-action
// of the button pressed ("close" also for Escape).
import { TRACKER_KINDS } from './constants.js';
import { doc, h } from './dom.js';

/**
 * @typedef {import('./constants.js').Category} Category
 * @typedef {import('./constants.js').Choices} Choices
 * @typedef {import('./constants.js').Decision} Decision
 */

/** @param {string | undefined} url @param {string} text */
const link = (url, text) =>
  url && /^https?:\/\//i.test(url) && [' ', h('a', { href: url, target: '_blank' }, text)];

/** @param {string} action @param {string} text @param {string} [label] */
const btn = (action, text, label) =>
  h('button', { type: 'button', 'data-accord-action': action, 'aria-label': label }, text);

// Dialog attributes shared by both layers.
const DIALOG = { role: 'dialog', 'aria-labelledby': 'acc-h', tabindex: -1 };

/**
 * The banner's UI for one page.
 * @param {{config: import('./constants.js').SiteConfig, t: import('./constants.js').Translator,
 *   onAction: (action: string) => void, regime: string, gpc: boolean}} options
 */
export function createBanner({ config: cfg, t, onAction, regime, gpc }) {
  /** @type {HTMLElement | null} the open banner or preferences backdrop */
  let layer = null;
  /** @type {HTMLElement | null} the element with role=dialog inside it */
  let dialog = null;
  /** @type {any} */
  let lastFocus;
  const root = doc.documentElement.style;

  /**
   * Colours and language on a root element of ours. Each look colour becomes the custom
   * property named by its initials, which styles.css uses: background → --b,
   * accept_text → --at, link → --l.
   * @param {HTMLElement} el
   */
  function paint(el) {
    const colors = cfg.look?.colors || {};
    for (const k in colors) el.style.setProperty('--' + k.replace(/(.)[^_]*_?/g, '$1'), colors[k]);
    el.lang = t.lang_;
    return el;
  }

  // The floating button (site option): preferences one click away once the banner is gone.
  // data-accord-open makes it open them, like any such link of the site's.
  const fab = cfg.floating_button && paint(h('div', { class: 'acc acc-fab' }, h('button', { 'data-accord-open': true }, t('settings'))));

  // A first layer along the bottom gets room below the page's end, so the end can be scrolled
  // into view above it and a focused element is never hidden under it (WCAG 2.4.11). Padding
  // after the last element moves nothing on screen: no layout shift.
  const room = new ResizeObserver(() => {
    const r = /** @type {HTMLElement} */ (dialog).getBoundingClientRect();
    root.paddingBottom = root.scrollPaddingBottom = r.bottom > innerHeight - 20 ? innerHeight - r.top + 'px' : '';
  });

  // Take the open layer (if any) out of the page, and the room it was given.
  function drop() {
    room.disconnect();
    root.paddingBottom = root.scrollPaddingBottom = '';
    layer?.remove();
    layer = dialog = null;
  }

  /** @param {HTMLElement} el @param {HTMLElement} box @param {any} [onLoad] */
  function open(el, box, onLoad) {
    if (!layer) lastFocus = doc.activeElement;
    drop();
    fab && fab.remove();
    layer = paint(el);
    dialog = box;
    box.onclick = (e) => {
      const a = /** @type {HTMLElement} */ (e.target).closest('[data-accord-action]');
      if (a) onAction(/** @type {string} */ (a.getAttribute('data-accord-action')));
    };
    box.prepend(btn('close', '\u2715', t('close')));
    doc.body.append(el);
    if (el == box) room.observe(box);
    // On page load, focus moves in with the frame that paints the banner: focusing now would
    // lay the page out inside the snippet's own task.
    onLoad ? requestAnimationFrame(() => box.focus()) : box.focus();
  }

  /** Close the open layer (if any), give focus back, show the floating button (if enabled). */
  function close() {
    const was = layer;
    drop();
    fab && doc.body.append(fab);
    was && lastFocus?.focus?.();
  }

  const gpcNote = () => gpc && cfg.categories.some((c) => c.honor_gpc) && h('p', {}, t('gpc_notice'));

  /** @param {Category} c @param {number} i @param {Choices} choices */
  function category(c, i, choices) {
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
                ` \u2014 ${t('provider')}: ${x.provider}; ${t('purpose')}: ${t.in_(x.purpose)}; ${t('duration')}: ${t.in_(x.duration)}`,
                link(x.privacy_policy_url, t('privacy_policy')),
              ))),
            ];
          }),
        ),
    );
  }

  // Escape closes; Tab stays inside the preferences dialog, whose first and last
  // focusable elements are buttons (the close button, then a row of buttons).
  addEventListener('keydown', (e) => {
    if (!dialog) return;
    if (e.key == 'Escape') onAction('close');
    if (e.key != 'Tab' || layer == dialog) return; // the first layer is not modal
    const all = dialog.querySelectorAll('button');
    const at = doc.activeElement;
    if (at == all[e.shiftKey ? 0 : all.length - 1] || at == dialog) {
      e.preventDefault();
      all[e.shiftKey ? all.length - 1 : 0].focus();
    }
  });

  return {
    close_: close,

    /** Which layer is open: "banner", "preferences" or undefined. */
    open_: () => dialog?.dataset.accord,

    /**
     * The first layer: purpose, policy link, accept / refuse (or the regime's variant) /
     * customize; `note`, if any, is a status line above them (e.g. "your data was erased").
     * @param {string} [note] @param {any} [onLoad] shown while the page loads
     */
    banner_(note, onLoad) {
      const el = h(
        'div',
        { ...DIALOG, 'data-accord': 'banner', class: 'acc acc-bar acc-' + (cfg.look?.position || 'bottom'), 'aria-describedby': 'acc-d' },
        h(
          'div',
          { class: 'acc-txt' },
          h('h2', { id: 'acc-h' }, t('title')),
          h('p', { id: 'acc-d' }, t('description'), link(cfg.privacy_policy_url, t('privacy_policy'))),
          gpcNote(),
          note && h('p', { role: 'status' }, note),
        ),
        h(
          'div',
          { class: 'acc-btns' },
          btn('accept_all', t(regime == 'notice' ? 'notice_ok' : 'accept_all')),
          regime != 'notice' && btn('reject_all', t(regime == 'opt_out' ? 'do_not_sell' : 'reject_all')),
          btn('customize', t('customize')),
        ),
      );
      open(el, el, onLoad);
    },

    /**
     * The preferences dialog: a switch per category, its trackers by kind, the consent ID.
     * @param {Choices} choices @param {Decision | null} decision
     */
    preferences_(choices, decision) {
      const box = h(
        'div',
        { ...DIALOG, 'data-accord': 'preferences', class: 'acc acc-m', 'aria-modal': 'true' },
        h('h2', { id: 'acc-h' }, t('preferences_title')),
        h('p', {}, t('preferences_description')),
        gpcNote(),
        cfg.categories.map((c, i) => category(c, i, choices)),
        h('div', { class: 'acc-btns' }, ['accept_all', 'reject_all', 'save'].map((a) => btn(a, t(a)))),
        decision && [
          h('p', { class: 'acc-cat' }, t('consent_id') + ': ', h('code', {}, decision.consent_id)),
          h('div', { class: 'acc-btns' }, ['download_history', 'withdraw', 'erase'].map((a) => btn(a, t(a)))),
        ],
      );
      open(h('div', { class: 'acc-bd' }, box), box);
    },

    /** A status line at the end of the open layer (e.g. the server could not be reached). @param {string} text */
    note_(text) {
      dialog?.append(h('p', { role: 'alert' }, text));
    },

    /** {category: checked} from the open preferences dialog. @returns {Choices} */
    toggles_() {
      /** @type {Choices} */
      const wanted = {};
      for (const box of /** @type {HTMLElement} */ (dialog).querySelectorAll('input')) wanted[box.name] = box.checked;
      return wanted;
    },

    /**
     * The stand-in for a blocked iframe, with a button to consent in place.
     * @param {string} key @param {() => void} onAllow
     */
    placeholder_(key, onAllow) {
      const c = cfg.categories.find((x) => x.key == key);
      const allow = btn('allow', t('allow_content'));
      allow.onclick = onAllow;
      return paint(
        h(
          'div',
          { class: 'acc acc-ph', 'data-accord': 'placeholder' },
          h('p', {}, t('blocked_content').replace('{category}', c ? t.label_(c, 'title') : key)),
          allow,
        ),
      );
    },
  };
}

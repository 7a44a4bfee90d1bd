// @ts-check
// The only module that builds UI: the first layer, the preferences dialog, the iframe
// placeholder and the floating "privacy settings" button. Light DOM, stable hooks
// (data-accord, data-accord-action), and every string from staff inserted as text (dom.js h()).
// What a button does is the caller's business: `onAction(name, button)` gets the
// data-accord-action of the button pressed ("close" also for Escape, without a button).
// The preferences dialog's content is built by preferences.js, which the caller passes in
// (it comes with the UI chunk, not with the full snippet).
import { doc, h } from './dom.js';
import { DIALOG, btn, link } from './layer.js';

/**
 * @typedef {import('./constants.js').Category} Category
 * @typedef {import('./constants.js').Choices} Choices
 * @typedef {import('./constants.js').Decision} Decision
 */

/**
 * The banner's UI for one page.
 * @param {{config: import('./constants.js').SiteConfig, t: import('./constants.js').Translator,
 *   onAction: (action: string, button?: Element) => void, regime: string, gpc: boolean}} options
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
      if (a) onAction(/** @type {string} */ (a.getAttribute('data-accord-action')), a);
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

  // The banner's fonts (system-ui, regular and bold), loaded in a task of their own: a line
  // in them, laid out and taken away at once, never painted. Their first load and shaping is
  // most of the banner's first layout, one long task (over 50 ms) under a slow CPU if it came
  // with the banner's first frame. Loaded by the stub, the snippet builds the banner in a
  // later task (index.js start), so this one comes first; with the plain tag, the banner is
  // built at once, and this task only helps if it runs before the page's first frame.
  setTimeout(() => {
    const line = h('p', { class: 'acc' }, 't', h('b', {}, 't'));
    doc.body?.append(line); // none yet: nothing to gain
    line.getBoundingClientRect();
    line.remove();
  });

  // Escape closes (Tab stays inside the preferences dialog: preferences.js).
  addEventListener('keydown', (e) => dialog && e.key == 'Escape' && onAction('close'));

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
     * The preferences dialog (preferences.js `preferencesBox`, from the UI chunk).
     * @param {Choices} choices @param {Decision | null} decision
     * @param {typeof import('./preferences.js').preferencesBox} build
     */
    preferences_(choices, decision, build) {
      const box = build({ cfg, t, gpcNote }, choices, decision);
      open(h('div', { class: 'acc-bd' }, box), box);
    },

    /**
     * A status line at the end of the open layer (e.g. the server could not be reached), in
     * place of an earlier one; with `action`, a button after it (e.g. "retry").
     * @param {string} text @param {string} [action]
     */
    note_(text, action) {
      dialog?.querySelector('[role=alert]')?.remove();
      dialog?.append(h('p', { role: 'alert' }, text, action && [' ', btn(action, t(action))]));
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

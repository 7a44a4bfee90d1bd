// The only module that builds UI: the first layer, the preferences dialog and the iframe
// placeholder. Light DOM, stable hooks (data-accord, data-accord-action), and every string
// from staff inserted as text (append() of a string makes a text node; never innerHTML).
// What a button does is the caller's business: `onAction(name)` gets the
// data-accord-action of the button pressed ("close" also for Escape).
import { doc } from './storage.js';
import { TRACKER_KINDS } from './constants.js';

// What every layer is built from, fixed for the page: the site's config, the text getter
// (i18n.js), the action handler, the regime and whether GPC is on.
let cfg, t, onAction, regime, gpc;
let layer; // the open banner or preferences backdrop
let dialog; // the element with role=dialog inside it
let lastFocus;

export const setup = (...args) => ([cfg, t, onAction, regime, gpc] = args);

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs, ...kids) {
  const el = doc.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...kids.flat(2).filter((x) => x));
  return el;
}

const link = (url, text) =>
  /^https?:\/\//i.test(url) && [' ', h('a', { href: url, target: '_blank' }, text)];

const btn = (action, text, label) =>
  h('button', { type: 'button', 'data-accord-action': action, 'aria-label': label }, text);

/**
 * Colours and language on a root element of ours. Each look colour becomes the custom
 * property named by its initials, which styles.css uses: background → --b,
 * accept_text → --at, link → --l.
 */
function paint(el) {
  const colors = cfg.look?.colors || {};
  for (const k in colors) el.style.setProperty('--' + k.replace(/(.)[^_]*_?/g, '$1'), colors[k]);
  el.lang = t.lang_;
  return el;
}

// Dialog attributes shared by both layers.
const DIALOG = { role: 'dialog', 'aria-labelledby': 'acc-h', tabindex: -1 };

function open(el, box, onLoad) {
  if (!layer) lastFocus = doc.activeElement;
  layer?.remove();
  layer = paint(el);
  dialog = box;
  box.onclick = (e) => {
    const a = e.target.closest('[data-accord-action]');
    if (a) onAction(a.dataset.accordAction);
  };
  box.prepend(btn('close', '\u2715', t('close')));
  doc.body.append(el);
  // On page load, focus moves in with the frame that paints the banner: focusing now would
  // lay the page out inside the snippet's own task.
  onLoad ? requestAnimationFrame(() => box.focus()) : box.focus();
}

/** Which layer is open: "banner", "preferences" or undefined. */
export const openLayer = () => dialog?.dataset.accord;

export function closeLayer() {
  if (layer) {
    layer.remove();
    layer = dialog = null;
    lastFocus?.focus?.();
  }
}

const gpcNote = () => gpc && cfg.categories.some((c) => c.honor_gpc) && h('p', {}, t('gpc_notice'));

/**
 * The first layer: purpose, policy link, accept / refuse (or the regime's variant) /
 * customize; `note`, if any, is a status line above them (e.g. "your data was erased").
 */
export function showBanner(note, onLoad) {
  const el = h(
    'div',
    { ...DIALOG, 'data-accord': 'banner', class: 'acc acc-bar acc-' + (cfg.look?.position || 'bottom'), 'aria-describedby': 'acc-d' },
    h('h2', { id: 'acc-h' }, t('title')),
    h('p', { id: 'acc-d' }, t('description'), link(cfg.privacy_policy_url, t('privacy_policy'))),
    gpcNote(),
    note && h('p', {}, note),
    h(
      'div',
      { class: 'acc-btns' },
      btn('accept_all', t(regime == 'notice' ? 'notice_ok' : 'accept_all')),
      regime != 'notice' && btn('reject_all', t(regime == 'opt_out' ? 'do_not_sell' : 'reject_all')),
      btn('customize', t('customize')),
    ),
  );
  open(el, el, onLoad);
}

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
      h('input', { type: 'checkbox', id, name: c.key, checked: choices[c.key], disabled: c.required }),
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
              ` \u2014 ${t('provider')}: ${x.provider}; ${t('purpose')}: ${x.purpose}; ${t('duration')}: ${x.duration}`,
              link(x.privacy_policy_url, t('privacy_policy')),
            ))),
          ];
        }),
      ),
  );
}

/** The preferences dialog: a toggle per category, its trackers by kind, consent ID. */
export function showPreferences(choices, decision) {
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
}

/** {category: checked} from the open preferences dialog. */
export function toggles() {
  const wanted = {};
  for (const box of dialog.querySelectorAll('input')) wanted[box.name] = box.checked;
  return wanted;
}

/** The stand-in for a blocked iframe, with a button to consent in place. */
export function placeholder(key, onAllow) {
  const c = cfg.categories.find((x) => x.key == key);
  const el = paint(
    h(
      'div',
      { class: 'acc acc-ph', 'data-accord': 'placeholder' },
      h('p', {}, t('blocked_content').replace('{category}', c ? t.label_(c, 'title') : key)),
      btn('allow', t('allow_content')),
    ),
  );
  el.lastChild.onclick = onAllow;
  return el;
}

// Escape closes; Tab stays inside the preferences dialog, whose first and last
// focusable elements are buttons (the close button, then a row of buttons).
addEventListener('keydown', (e) => {
  if (!layer) return;
  if (e.key == 'Escape') onAction('close');
  if (e.key != 'Tab' || layer == dialog) return; // the first layer is not modal
  const all = dialog.querySelectorAll('button');
  const at = doc.activeElement;
  if (at == all[e.shiftKey ? 0 : all.length - 1] || at == dialog) {
    e.preventDefault();
    all[e.shiftKey ? all.length - 1 : 0].focus();
  }
});

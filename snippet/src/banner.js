// The only module that builds UI: the first layer, the preferences dialog and the iframe
// placeholder. Light DOM, stable hooks (data-accord, data-accord-action), and every string
// from staff inserted as text (append() of a string makes a text node; never innerHTML).
// What a button does is the caller's business: `onAction(name)` gets the
// data-accord-action of the button pressed ("close" also for Escape).
import { TRACKER_KINDS } from './constants.js';

// CSS custom property → look colour (styles.css uses var(--b) etc.).
const COLORS = {
  b: 'background', t: 'text', ab: 'accept_background', at: 'accept_text',
  rb: 'reject_background', rt: 'reject_text', l: 'link',
};

let layer; // the open banner or preferences backdrop
let dialog; // the element with role=dialog inside it
let lastFocus;

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...kids.flat(2).filter((x) => x));
  return el;
}

const link = (url, text) =>
  /^https?:\/\//i.test(url) && [' ', h('a', { href: url, target: '_blank', rel: 'noopener' }, text)];

const btn = (action, text) => h('button', { type: 'button', 'data-accord-action': action }, text);

/** Colours and language on a root element of ours. */
function paint(el, cfg, lang) {
  const colors = cfg.look?.colors || {};
  for (const v in COLORS) if (colors[COLORS[v]]) el.style.setProperty('--' + v, colors[COLORS[v]]);
  el.lang = lang;
  return el;
}

// Dialog attributes shared by both layers.
const DIALOG = { role: 'dialog', 'aria-labelledby': 'acc-h', tabindex: -1 };

function open(el, box, cfg, t, onAction) {
  if (!layer) lastFocus = document.activeElement;
  layer?.remove();
  layer = paint(el, cfg, t.lang_);
  dialog = box;
  box.onclick = (e) => {
    const a = e.target.closest('[data-accord-action]');
    if (a) onAction(a.dataset.accordAction);
  };
  box.prepend(h('button', { type: 'button', class: 'acc-x', 'data-accord-action': 'close', 'aria-label': t('close') }, '\u2715'));
  document.body.append(el);
  box.focus();
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

const gpcNote = (cfg, t, gpc) => gpc && cfg.categories.some((c) => c.honor_gpc) && h('p', {}, t('gpc_notice'));

/**
 * The first layer: purpose, policy link, accept / refuse (or the regime's variant) /
 * customize; `note`, if any, is a status line above them (e.g. "your data was erased").
 */
export function showBanner(cfg, t, regime, gpc, onAction, note) {
  const el = h(
    'div',
    { ...DIALOG, 'data-accord': 'banner', class: 'acc acc-bar acc-' + (cfg.look?.position || 'bottom'), 'aria-describedby': 'acc-d' },
    h('h2', { id: 'acc-h' }, t('title')),
    h('p', { id: 'acc-d' }, t('description'), link(cfg.privacy_policy_url, t('privacy_policy'))),
    gpcNote(cfg, t, gpc),
    note && h('p', {}, note),
    h(
      'div',
      { class: 'acc-btns' },
      btn('accept_all', t(regime == 'notice' ? 'notice_ok' : 'accept_all')),
      regime != 'notice' && btn('reject_all', t(regime == 'opt_out' ? 'do_not_sell' : 'reject_all')),
      btn('customize', t('customize')),
    ),
  );
  open(el, el, cfg, t, onAction);
}

function category(c, i, t, choices) {
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
export function showPreferences(cfg, t, choices, decision, gpc, onAction) {
  const box = h(
    'div',
    { ...DIALOG, 'data-accord': 'preferences', class: 'acc acc-m', 'aria-modal': 'true' },
    h('h2', { id: 'acc-h' }, t('preferences_title')),
    h('p', {}, t('preferences_description')),
    gpcNote(cfg, t, gpc),
    cfg.categories.map((c, i) => category(c, i, t, choices)),
    h('div', { class: 'acc-btns' }, ['accept_all', 'reject_all', 'save'].map((a) => btn(a, t(a)))),
    decision && [
      h('p', { class: 'acc-cat' }, `${t('consent_id')}: `, h('code', {}, decision.consent_id)),
      h('div', { class: 'acc-btns' }, ['download_history', 'withdraw', 'erase'].map((a) => btn(a, t(a)))),
    ],
  );
  open(h('div', { class: 'acc-bd' }, box), box, cfg, t, onAction);
}

/** {category: checked} from the open preferences dialog. */
export function toggles() {
  const wanted = {};
  for (const box of dialog.querySelectorAll('input')) wanted[box.name] = box.checked;
  return wanted;
}

/** The stand-in for a blocked iframe, with a button to consent in place. */
export function placeholder(cfg, t, key, onAllow) {
  const c = cfg.categories.find((x) => x.key == key);
  const el = paint(
    h(
      'div',
      { class: 'acc acc-ph', 'data-accord': 'placeholder' },
      h('p', {}, t('blocked_content').replace('{category}', c ? t.label_(c, 'title') : key)),
      btn('allow', t('allow_content')),
    ),
    cfg,
    t.lang_,
  );
  el.lastChild.onclick = onAllow;
  return el;
}

// Escape closes; Tab stays inside the preferences dialog, whose first and last
// focusable elements are buttons (the close button, then a row of buttons).
addEventListener('keydown', (e) => {
  if (!layer) return;
  if (e.key == 'Escape') dialog.querySelector('.acc-x').click(); // its action: "close"
  if (e.key != 'Tab' || openLayer() == 'banner') return;
  const all = dialog.querySelectorAll('button');
  const at = document.activeElement;
  if (at == all[e.shiftKey ? 0 : all.length - 1] || at == dialog) {
    e.preventDefault();
    all[e.shiftKey ? all.length - 1 : 0].focus();
  }
});

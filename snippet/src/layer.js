// @ts-check
// What both layers (banner.js, preferences.js) build with: links, buttons, dialog attributes.
import { h } from './dom.js';

/** @param {string | undefined} url @param {string} text */
export const link = (url, text) =>
  url && /^https?:\/\//i.test(url) && [' ', h('a', { href: url, target: '_blank' }, text)];

/** @param {string} action @param {string} text @param {string} [label] */
export const btn = (action, text, label) =>
  h('button', { type: 'button', 'data-accord-action': action, 'aria-label': label }, text);

// Dialog attributes shared by both layers.
export const DIALOG = { role: 'dialog', 'aria-labelledby': 'acc-h', tabindex: -1 };

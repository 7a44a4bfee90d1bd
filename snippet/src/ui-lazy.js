// @ts-check
// The core snippet's UI: fetched on demand as a classic script (ui-chunk.js, built to
// /s/ui.<hash>.js, immutable) from where this script came from, with this script's nonce.
// __ACCORD_UI__ is the chunk's file name, set by build.mjs.

/* global __ACCORD_UI__ */
// Read while this script runs: document.currentScript is null afterwards.
const src = new URL(__ACCORD_UI__, /** @type {HTMLScriptElement} */ (document.currentScript).src).href;

/** @type {undefined} */
export const bundledUi = undefined;

/** @type {Promise<any> | undefined} */
let loading;

/**
 * The UI module, once its script has run; rejects if it cannot be had.
 * @param {string | undefined} nonce
 * @returns {Promise<typeof import('./ui.js')>}
 */
export const loadUi = (nonce) =>
  (loading ||= new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.nonce = nonce || '';
    s.onload = () => ok(/** @type {any} */ (window).__accordUi);
    s.onerror = fail;
    document.head.append(s);
  }));

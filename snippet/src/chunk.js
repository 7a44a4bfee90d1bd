// @ts-check
// The UI chunk (ui-chunk.js, built to /s/ui.<hash>.js, immutable), loaded as a classic script
// with this script's nonce: by the core snippet for any UI, by the full one for the
// preferences dialog. __ACCORD_UI__ is the chunk's file name, set by build.mjs.

import { doc } from './dom.js';

/* global __ACCORD_UI__ */
// Read while this script runs: document.currentScript is null afterwards. Next to this
// script when it came from /s/ (GET /s/KEY.js, /s/KEY.core.js); else (the console's preview)
// under /s/ of its server.
const here = /** @type {HTMLScriptElement} */ (doc.currentScript)?.src || location.href;
const src = new URL((here.includes('/s/') ? '' : '/s/') + __ACCORD_UI__, here).href;

/** @type {Promise<any> | undefined | 0} */
let loading;

/**
 * The chunk's module (window.__accordUi), once its script has run; rejects if it cannot be
 * had (offline, an HTTP error, not the chunk), and the next call tries again.
 * @param {string | undefined} nonce
 * @returns {Promise<any>}
 */
export const loadChunk = (nonce) =>
  (loading ||= new Promise((ok, fail) => {
    const s = doc.createElement('script');
    s.src = src;
    s.nonce = nonce || '';
    s.onload = () => {
      const m = /** @type {any} */ (window).__accordUi;
      m ? ok(m) : fail();
    };
    s.onerror = () => {
      s.remove();
      fail();
    };
    doc.head.append(s);
  }).catch((e) => {
    loading = 0;
    throw e;
  }));

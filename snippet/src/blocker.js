// @ts-check
// Activation of blocked elements.
//
//   <script type="text/plain" data-category="analytics" [src]>   activated in document order
//   <img data-category="marketing" data-src="…">                 src set when granted
//   <iframe data-category="marketing" data-src="…">              placeholder until granted
//
// Elements added later are seen by a MutationObserver. Activated inline scripts carry the
// nonce of the snippet's own tag, so a strict CSP accepts them. The blocker remembers which
// categories had a script or an iframe running in this page: taking one of those away needs
// a reload, since running code cannot be unloaded.
import { doc } from './dom.js';

const SELECTOR = 'script[type="text/plain"][data-category],img[data-src][data-category],iframe[data-src][data-category]';

/**
 * @param {string | undefined} nonce the snippet tag's nonce, given to activated scripts
 * @param {(key: string) => HTMLElement} placeholder the stand-in for a blocked iframe
 */
export function blocker(nonce, placeholder) {
  /** @type {import('./constants.js').Choices} */
  let granted = {};
  /** @type {Record<string, 1>} categories whose scripts or iframes ran in this page */
  const ran = {};
  // Scripts run one after another, each external one after it loaded (or failed).
  /** @type {Promise<any>} */
  let chain = Promise.resolve();
  // Elements already handled: a script queued, an iframe's placeholder.
  /** @type {WeakMap<Element, any>} */
  const seen = new WeakMap();

  /** @param {HTMLScriptElement} old */
  function runScript(old) {
    return new Promise((done) => {
      const s = doc.createElement('script');
      for (const a of old.attributes) if (a.name != 'type') s.setAttribute(a.name, a.value);
      if (nonce) s.nonce = nonce;
      s.text = old.text;
      if (s.src) {
        s.async = false;
        s.onload = s.onerror = done;
      }
      old.replaceWith(s);
      if (!s.src) done(0);
    });
  }

  /** @param {any} el a blocked script, img or iframe */
  function visit(el) {
    const key = el.dataset.category;
    const ok = granted[key];
    if (el.tagName == 'SCRIPT') {
      if (ok && !seen.has(el)) {
        seen.set(el, 1);
        // Its turn may come after a withdrawal (an earlier script still loading): it runs
        // only if its category is still granted then, else waits for the next grant.
        chain = chain.then(() => (granted[key] ? ((ran[key] = 1), runScript(el)) : seen.delete(el)));
      }
    } else if (ok) {
      const src = el.dataset.src;
      el.removeAttribute('data-src');
      if (el.tagName == 'IFRAME') {
        ran[key] = 1;
        seen.get(el)?.remove();
        el.hidden = false;
        // Not at once: an iframe given its src while the parser inserts it stays at
        // about:blank in Chromium (a returning visitor's iframe never loaded).
        setTimeout(() => (el.src = src));
      } else el.src = src;
    } else if (el.tagName == 'IFRAME' && !seen.has(el)) {
      const ph = placeholder(key);
      seen.set(el, ph);
      el.before(ph);
      el.hidden = true;
    }
  }

  /** @param {any} root */
  function scan(root) {
    if (root.matches?.(SELECTOR)) visit(root);
    root.querySelectorAll?.(SELECTOR).forEach(visit);
  }

  const watch = new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(scan)));
  watch.observe(doc.documentElement, { childList: true, subtree: true });

  return {
    /** Apply `choices` to every blocked element in the page. @param {import('./constants.js').Choices} choices */
    apply_(choices) {
      granted = choices;
      scan(doc);
    },
    /** Whether `choices` takes away a category whose scripts or iframes ran here. @param {import('./constants.js').Choices} choices */
    takesAway_: (choices) => Object.keys(ran).some((k) => !choices[k]),
  };
}

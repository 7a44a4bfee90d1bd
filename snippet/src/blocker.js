// Activation of blocked elements and clean-up of refused trackers.
//
//   <script type="text/plain" data-category="analytics" [src]>   activated in document order
//   <img data-category="marketing" data-src="…">                 src set when granted
//   <iframe data-category="marketing" data-src="…">              placeholder until granted
//
// Elements added later are seen by a MutationObserver. Activated inline scripts carry the
// nonce of the snippet's own tag, so a strict CSP accepts them.
import { doc } from './storage.js';

const SELECTOR = 'script[type="text/plain"][data-category],img[data-src][data-category],iframe[data-src][data-category]';

export function blocker(nonce, placeholder) {
  let granted = {};
  // Scripts run one after another, each external one after it loaded (or failed).
  let chain = Promise.resolve();

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
      if (!s.src) done();
    });
  }

  function visit(el) {
    const ok = granted[el.dataset.category];
    if (el.tagName == 'SCRIPT') {
      if (ok && !el.queued_) {
        el.queued_ = 1;
        chain = chain.then(() => runScript(el));
      }
    } else if (ok) {
      if (el.ph_) el.ph_.remove(), (el.hidden = false);
      el.src = el.dataset.src;
      el.removeAttribute('data-src');
    } else if (el.tagName == 'IFRAME' && !el.ph_) {
      el.ph_ = placeholder(el.dataset.category);
      el.before(el.ph_);
      el.hidden = true;
    }
  }

  function scan(root) {
    if (root.matches?.(SELECTOR)) visit(root);
    root.querySelectorAll?.(SELECTOR).forEach(visit);
  }

  const watch = new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(scan)));
  watch.observe(doc.documentElement, { childList: true, subtree: true });

  return {
    /** Apply `choices` ({category: bool}) to every blocked element in the page. */
    apply_(choices) {
      granted = choices;
      scan(doc);
    },
  };
}

const matches = (patterns, name) =>
  patterns.some((p) => (p.slice(-1) == '*' ? name.startsWith(p.slice(0, -1)) : p == name));

/**
 * Delete the declared cookies (host and every parent domain) and storage keys of the
 * categories that `choices` does not grant.
 */
export function removeRefused(categories, choices, jar) {
  const host = location.hostname.split('.');
  for (const c of categories) {
    if (choices[c.key]) continue;
    for (const t of c.trackers || []) {
      const patterns = t.cookies || [];
      if (!patterns.length) continue;
      if (t.kind == 'storage') {
        for (const store of [localStorage, sessionStorage]) {
          for (const k of Object.keys(store)) if (matches(patterns, k)) store.removeItem(k);
        }
        continue;
      }
      for (const name of Object.keys(jar)) {
        if (!matches(patterns, name)) continue;
        const expire = name + '=;path=/;max-age=0';
        doc.cookie = expire;
        for (let i = 0; i < host.length - 1; i++) {
          doc.cookie = `${expire};domain=.${host.slice(i).join('.')}`;
        }
      }
    }
  }
}

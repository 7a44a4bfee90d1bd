// The inline stub: the recommended integration (DESIGN.md, `accord site snippet`). The site
// pastes it, minified, first in its <head>; it is all of Accord that runs before the page goes
// on, so nothing waits for Accord's server. It
// - sets Google Consent Mode's `default`, everything denied, before any tag that follows;
// - makes window.Accord a queue (`q`): show(), acceptAll(), rejectAll(), update(), on() and
//   getConsent() called before the snippet arrives are kept, and the snippet applies them in
//   order (getConsent() answers nothing until then), a click on a data-accord-open link too;
// - loads the snippet: /s/KEY.js?lang=... (engine, banner UI, config and the texts of the
//   visitor's language) for a visitor with no decision, fetched at once (a preload), so the
//   banner shows early; /s/KEY.core.js (no banner UI) for one who has decided, fetched only
//   then: nothing of Accord's is fetched or compiled while a returning page paints. Either
//   runs once the page has painted its first content, so that its work never comes before
//   that paint (at once in a hidden tab, a second after the load event for a page that
//   paints no content).
// Blocked elements (type="text/plain", data-src) stay inert by themselves until it decides.
// ES5, since it runs on every browser that opens the page; written for size (gzip -9, in
// build.mjs's report). __ACCORD_SNIPPET__ is the snippet's URL without ".js", set by the
// server (services/snippet.py install_html).
(function (w, d, s, q, a, src, nonce, add, run, decided) {
  a = w.Accord = w.Accord || { q: (q = []) };
  'show acceptAll rejectAll update on getConsent'.replace(/\w+/g, function (m) {
    a[m] = a[m] || function () { q.push([m, arguments]); };
  });
  // gtag() as Google writes it: the dataLayer takes Arguments objects.
  (function () { (w.dataLayer = w.dataLayer || []).push(arguments); })('consent', 'default', {
    ad_storage: (s = 'denied'), ad_user_data: s, ad_personalization: s, analytics_storage: s,
    functionality_storage: s, personalization_storage: s, security_storage: s, wait_for_update: 500,
  });
  // The full snippet carries the banner's texts in the visitor's language only: the server
  // picks it from these tags (<html lang>, then the browser's languages; comma-separated, not
  // escaped: a tag with characters a URL query cannot hold only falls back to the default).
  decided = /(^|; )accord_consent=/.test(d.cookie);
  src = __ACCORD_SNIPPET__ + (decided ? '.core.js'
    : '.js?lang=' + [d.documentElement.lang, navigator.languages]); // joined flat: a,b,c
  nonce = (d.currentScript || a).nonce;
  add = function (preload, e) {
    e = d.createElement(preload ? 'link' : 'script');
    e.nonce = nonce || '';
    preload ? ((e.rel = 'preload'), (e.as = 'script'), (e.href = src)) : (e.src = src);
    d.head.appendChild(e);
  };
  // A click on a "privacy settings" link (data-accord-open) before the snippet runs opens the
  // preferences once it has; from then on, the snippet's own listener answers.
  d.addEventListener('click', function (e) {
    if (w.Accord == a && e.target.closest('[data-accord-open]')) {
      e.preventDefault();
      a.show('preferences');
    }
  });
  // `run` adds the snippet once, from a task of its own: after the first contentful paint;
  // at once in a hidden tab; for a page that paints no content, a second after its load event
  // (not at once: a load can come just before the first paint is shown, and a snippet in the
  // cache would then run ahead of it). Every browser the snippet runs in has paint timing.
  run = function () { run && add(); run = 0; };
  decided || add(1);
  d.hidden && run();
  w.addEventListener('load', function () { setTimeout(function () { run && run(); }, 1e3); });
  new PerformanceObserver(function (list) {
    list.getEntriesByName('first-contentful-paint')[0] && run && setTimeout(run);
  }).observe({ type: 'paint', buffered: 1 }); // 1: true, in fewer bytes
})(window, document);

// Reports on the demo page whether each tracker ran, and the Consent Mode state.
(function () {
  function cookie(name) {
    return document.cookie.split('; ').some(function (c) { return c.indexOf(name + '=') === 0; });
  }
  function show(key, ran, text) {
    var el = document.querySelector('[data-demo-status="' + key + '"]');
    if (!el) return;
    el.textContent = text || (ran ? 'ran' : 'blocked');
    el.className = ran ? 'ran' : 'blocked';
    el.setAttribute('data-ran', ran ? 'true' : 'false');
  }
  function consentModeState() {
    var state = {};
    (window.dataLayer || []).forEach(function (entry) {
      if (entry[0] === 'consent') Object.assign(state, entry[2]);
    });
    return Object.keys(state).filter(function (k) { return k !== 'wait_for_update'; })
      .map(function (k) { return k + ': ' + state[k]; }).join(', ');
  }
  function update() {
    var ran = window.demoRan || {};
    var pixel = document.querySelector('img.pixel');
    var frame = document.querySelector('iframe[title="Demo video"]');
    show('session', cookie('demo_session'), cookie('demo_session') ? 'set' : 'not set');
    show('cookie', !!ran.cookie, ran.cookie ? (cookie('demo_analytics') ? 'ran, cookie set' : 'ran, cookie deleted') : 'blocked');
    show('storage', !!ran.storage, ran.storage ? 'ran, demo_visits = ' + localStorage.getItem('demo_visits') : 'blocked');
    show('beacon', !!(pixel && pixel.getAttribute('src')));
    show('fingerprinting', !!ran.fingerprinting, ran.fingerprinting ? 'ran: ' + window.demoFingerprint : 'blocked');
    show('iframe', !!(frame && frame.getAttribute('src')));
    var cm = document.querySelector('[data-demo-status="consent-mode"]');
    if (cm) cm.textContent = consentModeState();
    // Until the snippet has run, window.Accord is the stub's queue (Accord.q): nothing to ask.
    var decision = window.Accord && !window.Accord.q && window.Accord.getConsent();
    var out = document.querySelector('[data-demo-status="decision"]');
    if (out) out.textContent = decision ? decision.action + ' (' + decision.consent_id + ')' : 'none yet';
  }
  document.addEventListener('accord:consent', function () { setTimeout(update, 50); });
  document.addEventListener('DOMContentLoaded', update);
  setInterval(update, 500);
})();

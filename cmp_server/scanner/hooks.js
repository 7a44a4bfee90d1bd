// Accord scanner: fingerprinting hooks, injected with page.add_init_script so they run in
// every frame before any script of the page. Each hook notes which script called it (the
// first http(s) URL in the call stack; an inline script shows as its page's URL) and pushes
// one record per (technique, script) to window.__accordScanCalls, which the scanner drains.
(() => {
  'use strict';
  if (window.__accordScanCalls) return;
  const calls = [];
  Object.defineProperty(window, '__accordScanCalls', { value: calls, enumerable: false });
  const seen = new Set();
  const counters = new Map();
  const URL_IN_STACK = /(https?:\/\/[^\s()]+?):\d+:\d+/;
  // Thresholds: reading one or two traits is ordinary; many in a row is a fingerprint.
  const TRAITS_FOR_ENUMERATION = 6;
  const FONTS_FOR_PROBING = 10;
  const WEBGL_PARAMETERS = 8;
  const UNMASKED = new Set([0x9245, 0x9246]); // UNMASKED_VENDOR_WEBGL, UNMASKED_RENDERER_WEBGL

  function caller() {
    const lines = (new Error().stack || '').split('\n').slice(2);
    for (const line of lines) {
      const m = URL_IN_STACK.exec(line);
      if (m) return m[1];
    }
    return '';
  }
  function note(technique, detail, script) {
    script = script === undefined ? caller() : script;
    const key = technique + ' ' + script;
    if (seen.has(key)) return;
    seen.add(key);
    calls.push({ technique, detail, script, page: location.href });
  }
  // Distinct values per (counter, script); notes the technique once the threshold is met.
  function count(counter, value, threshold, technique, detail) {
    const script = caller();
    const key = counter + ' ' + script;
    let values = counters.get(key);
    if (!values) counters.set(key, (values = new Set()));
    values.add(value);
    if (values.size >= threshold) note(technique, detail, script);
  }
  function wrap(proto, name, before) {
    if (!proto) return;
    const original = proto[name];
    if (typeof original !== 'function') return;
    proto[name] = function (...args) {
      try { before.call(this, args); } catch (e) { /* never break the page */ }
      return original.apply(this, args);
    };
  }
  function wrapGetter(proto, name, before) {
    const d = proto && Object.getOwnPropertyDescriptor(proto, name);
    if (!d || !d.get || !d.configurable) return;
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        try { before(); } catch (e) { /* never break the page */ }
        return d.get.call(this);
      },
    });
  }

  // Canvas read-back.
  for (const name of ['toDataURL', 'toBlob']) {
    wrap(window.HTMLCanvasElement && HTMLCanvasElement.prototype, name, () =>
      note('canvas', 'HTMLCanvasElement.' + name));
  }
  wrap(window.OffscreenCanvas && OffscreenCanvas.prototype, 'convertToBlob', () =>
    note('canvas', 'OffscreenCanvas.convertToBlob'));
  wrap(window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype, 'getImageData', () =>
    note('canvas', 'CanvasRenderingContext2D.getImageData'));

  // Font probing: text measured in many fonts.
  wrap(window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype, 'measureText', function () {
    count('fonts', this.font, FONTS_FOR_PROBING, 'fonts', 'measureText in many fonts');
  });
  if (window.FontFaceSet) {
    wrap(FontFaceSet.prototype, 'check', (args) =>
      count('fonts', String(args[0]), FONTS_FOR_PROBING, 'fonts', 'document.fonts.check in many fonts'));
  }

  // WebGL parameters and the debug renderer info.
  for (const ctx of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!ctx) continue;
    wrap(ctx.prototype, 'getParameter', (args) => {
      if (UNMASKED.has(args[0])) note('webgl', 'WEBGL_debug_renderer_info');
      else count('webgl', args[0], WEBGL_PARAMETERS, 'webgl', 'many WebGL parameters');
    });
    wrap(ctx.prototype, 'getExtension', (args) => {
      if (args[0] === 'WEBGL_debug_renderer_info') note('webgl', 'WEBGL_debug_renderer_info');
    });
  }

  // Audio fingerprinting: an (offline) audio context.
  for (const name of ['OfflineAudioContext', 'webkitOfflineAudioContext', 'AudioContext']) {
    const Original = window[name];
    if (typeof Original !== 'function') continue;
    window[name] = new Proxy(Original, {
      construct(target, args, newTarget) {
        try { note('audio', name); } catch (e) { /* never break the page */ }
        return Reflect.construct(target, args, newTarget);
      },
    });
  }

  // Navigator, screen and time zone traits read one after the other.
  const NAVIGATOR = ['userAgent', 'platform', 'language', 'languages', 'hardwareConcurrency',
    'deviceMemory', 'plugins', 'mimeTypes', 'doNotTrack', 'maxTouchPoints', 'vendor',
    'cookieEnabled', 'webdriver', 'connection', 'userAgentData', 'appVersion', 'oscpu',
    'productSub', 'pdfViewerEnabled'];
  const SCREEN = ['width', 'height', 'availWidth', 'availHeight', 'colorDepth', 'pixelDepth',
    'availLeft', 'availTop', 'orientation'];
  const trait = (name) => () =>
    count('traits', name, TRAITS_FOR_ENUMERATION, 'navigator', 'navigator/screen enumeration');
  for (const name of NAVIGATOR) wrapGetter(window.Navigator && Navigator.prototype, name, trait('navigator.' + name));
  for (const name of SCREEN) wrapGetter(window.Screen && Screen.prototype, name, trait('screen.' + name));
  wrapGetter(window, 'devicePixelRatio', trait('devicePixelRatio'));
  wrap(Date.prototype, 'getTimezoneOffset', trait('timezoneOffset'));
  wrap(Intl.DateTimeFormat.prototype, 'resolvedOptions', trait('resolvedOptions'));

  // Battery, media devices, voices.
  wrap(window.Navigator && Navigator.prototype, 'getBattery', () => note('battery', 'navigator.getBattery'));
  wrap(window.MediaDevices && MediaDevices.prototype, 'enumerateDevices', () =>
    note('media-devices', 'navigator.mediaDevices.enumerateDevices'));
  wrap(window.SpeechSynthesis && SpeechSynthesis.prototype, 'getVoices', () =>
    note('voices', 'speechSynthesis.getVoices'));
})();

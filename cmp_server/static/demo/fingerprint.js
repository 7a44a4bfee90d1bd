// Demo fingerprinting tracker (purpose: marketing): hashes a few device traits.
(function () {
  var traits = [navigator.userAgent, navigator.language, screen.width + 'x' + screen.height,
    screen.colorDepth, new Date().getTimezoneOffset(), navigator.hardwareConcurrency].join('|');
  var hash = 0;
  for (var i = 0; i < traits.length; i++) hash = (hash * 31 + traits.charCodeAt(i)) | 0;
  window.demoFingerprint = (hash >>> 0).toString(16);
  window.demoRan = Object.assign(window.demoRan || {}, { fingerprinting: true });
})();

// Console behaviours that need a script: copy buttons, and the Look page's colour pickers,
// live contrast checks and banner sample. Served from 'self' (the console's CSP allows no
// inline script); every page works without it, the script only adds to it.
'use strict';

// --- Copy buttons: <button data-copy="ID"> copies the text of #ID -------------------------

function copyText(source) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(source.textContent.trim());
  }
  // Plain http on another host than localhost: no Clipboard API, select and copy instead.
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return document.execCommand('copy') ? Promise.resolve() : Promise.reject(new Error('copy'));
}

for (const button of document.querySelectorAll('[data-copy]')) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
  if (!source) continue;
  button.hidden = false;
  button.addEventListener('click', () => {
    copyText(source).then(
      () => {
        button.textContent = 'Copied';
        if (status) status.textContent = 'The token is in your clipboard.';
      },
      () => {
        if (status) status.textContent = 'Your browser refused to copy: select the token and copy it.';
      },
    );
  });
}

// --- WCAG 2.x contrast, as cmp_server/services/compliance.py computes it --------------------

const HEX = /^#[0-9a-fA-F]{6}$/;

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The checks of a set of colours: [{ok, text}], the same wording as services/contrast.py. */
function checkColors(colors, rules) {
  const checks = rules.pairs.map(([fg, bg, label]) => {
    const ratio = contrast(colors[fg], colors[bg]);
    const ok = ratio >= rules.min;
    const text = ok
      ? `${label}: ${ratio.toFixed(2)}:1.`
      : `${label}: ${ratio.toFixed(2)}:1, at least ${rules.min}:1 is needed (WCAG AA).`;
    return { ok, text };
  });
  const accept = contrast(colors.accept_background, colors.background);
  const reject = contrast(colors.reject_background, colors.background);
  const ok = accept / reject <= rules.max_weight;
  checks.push({
    ok,
    text: ok
      ? '“Accept” and “Refuse” equally visible.'
      : `The “Accept” button stands out from the banner ${accept.toFixed(1)}:1 but “Refuse” only ` +
        `${reject.toFixed(1)}:1: give both buttons the same weight.`,
  });
  return checks;
}

// --- The Look page ---------------------------------------------------------------------

const lookForm = document.querySelector('[data-look-form]');
if (lookForm) {
  const list = lookForm.querySelector('[data-contrast-checks]');
  const rules = JSON.parse(list.dataset.contrastChecks);
  const textInputs = [...lookForm.querySelectorAll('.color-field input[type=text]')];
  const frame = document.querySelector('[data-sample]');
  const reload = document.querySelector('[data-sample-reload]');
  let timer;

  const colors = () => Object.fromEntries(textInputs.map((i) => [i.name, i.value.trim()]));

  function showChecks() {
    const values = colors();
    list.replaceChildren();
    if (!Object.values(values).every((v) => HEX.test(v))) {
      const li = document.createElement('li');
      li.className = 'bad';
      li.textContent = 'Give every colour as # and six hex digits to check the contrast.';
      list.append(li);
      return;
    }
    for (const check of checkColors(values, rules)) {
      const li = document.createElement('li');
      li.className = check.ok ? 'ok' : 'bad';
      const state = document.createElement('span');
      state.className = 'visually-hidden';
      state.textContent = check.ok ? 'Pass: ' : 'Fail: ';
      li.append(state, check.text);
      list.append(li);
    }
  }

  function sampleUrl() {
    const url = new URL(lookForm.dataset.preview, location.href);
    url.searchParams.set('position', lookForm.querySelector('select[name=position]').value);
    for (const [key, value] of Object.entries(colors())) {
      if (HEX.test(value)) url.searchParams.set('c_' + key, value);
    }
    return url.href;
  }

  function refreshSample() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (frame) frame.src = sampleUrl();
    }, 350);
  }

  for (const picker of lookForm.querySelectorAll('input[type=color][data-color-for]')) {
    const text = document.getElementById(picker.dataset.colorFor);
    picker.hidden = false;
    picker.tabIndex = 0;
    picker.addEventListener('input', () => {
      text.value = picker.value;
      showChecks();
      refreshSample();
    });
    text.addEventListener('input', () => {
      if (HEX.test(text.value.trim())) picker.value = text.value.trim().toLowerCase();
    });
  }
  lookForm.addEventListener('input', (event) => {
    if (event.target.type === 'color') return;
    showChecks();
    refreshSample();
  });
  lookForm.addEventListener('change', refreshSample);

  if (reload && frame) {
    reload.hidden = false;
    reload.addEventListener('click', () => {
      frame.src = sampleUrl();
    });
  }
  const widths = document.querySelector('[data-sample-widths]');
  const box = document.querySelector('[data-sample-frame]');
  if (widths && box) {
    widths.hidden = false;
    widths.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-width]');
      if (!button) return;
      for (const b of widths.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
      box.classList.toggle('phone', button.dataset.width === 'phone');
    });
  }
}

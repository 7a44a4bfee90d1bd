// Preview page controls; served from 'self' so the console's CSP needs no inline script.
document.addEventListener('click', (event) => {
  if (event.target.closest('[data-preview-show]') && window.Accord) window.Accord.show();
});

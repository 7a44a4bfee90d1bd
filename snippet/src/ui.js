// The banner's UI: the layers, the iframe placeholder and the styles. The full snippet
// (/s/KEY.js) bundles it; the core one (/s/KEY.core.js, for visitors with a decision) fetches
// it (ui-lazy.js) only when a banner, the preferences or a placeholder must show.
import CSS from './styles.css';

export { createBanner } from './banner.js';

/**
 * Styles without 'unsafe-inline': a constructed stylesheet, else a <style> with our nonce.
 * @param {string | undefined} nonce
 */
export function addStyles(nonce) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch (e) {
    const style = document.createElement('style');
    style.nonce = nonce || '';
    style.textContent = CSS;
    document.head.append(style);
  }
}

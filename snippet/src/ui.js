// The banner's UI: the first layer, the iframe placeholder, the floating button and their
// styles. The full snippet (/s/KEY.js) bundles it; the core one (/s/KEY.core.js, for visitors
// with a decision) fetches it (ui-lazy.js) only when a layer or a placeholder must show. The
// preferences dialog's content and styles are in the UI chunk only (ui-chunk.js).
import CSS from './styles.css';
import { doc } from './dom.js';

export { createBanner } from './banner.js';

/**
 * Styles without 'unsafe-inline': a constructed stylesheet, else a <style> with our nonce.
 * @param {string | undefined} nonce
 * @param {string} [css] the first layer's styles unless given
 */
export function addStyles(nonce, css = CSS) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  } catch (e) {
    const style = doc.createElement('style');
    style.nonce = nonce || '';
    style.textContent = css;
    doc.head.append(style);
  }
}

// @ts-check
// The page's document under a name the minifier can shorten, and the one element builder.

export const doc = document;

/**
 * An element with attributes and children. Strings become text nodes (append() of a string),
 * so staff-written text is never parsed as HTML; null, false and true attributes are
 * dropped, set empty, or left out as expected.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...any} kids strings, nodes, arrays of them, or falsy values (skipped)
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...kids) {
  const el = doc.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...kids.flat(2).filter((x) => x));
  return el;
}

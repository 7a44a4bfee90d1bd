// Entry of the UI chunk (/s/ui.<hash>.js, chunk.js loads it): the whole UI. The core snippet
// takes all of it; the full snippet, which bundles the first layer, takes the preferences
// dialog from it when the visitor is about to open it.
import { addStyles, createBanner } from './ui.js';
import { preferencesBox, toggles } from './preferences.js';
import PREFERENCES_CSS from './preferences.css';
import { downloadHistory, eraseDevice } from './rights.js';

window.__accordUi = {
  addStyles,
  createBanner,
  preferencesBox,
  toggles,
  downloadHistory,
  eraseDevice,
  /** @param {string | undefined} nonce */
  addPreferenceStyles: (nonce) => addStyles(nonce, PREFERENCES_CSS),
};

// @ts-check
// The full snippet's UI: bundled in, there from the start. The core build (build.mjs) puts
// ui-lazy.js in this module's place, with the same exports.
import { addStyles, createBanner } from './ui.js';

/** The UI module when it is part of this script, else undefined. (A plain object, not a
 * module namespace: esbuild would add a helper to build that.) */
export const bundledUi = { addStyles, createBanner };

/** Here already: Promise.all (index.js withUi) takes it as it is.
 * @type {(nonce?: string) => typeof bundledUi} */
export const loadUi = () => bundledUi;

// @ts-check
// The full snippet's UI: bundled in, there from the start. The core build (build.mjs) puts
// ui-lazy.js in this module's place, with the same exports.
import { addStyles, createBanner } from './ui.js';

/** The UI module when it is part of this script, else undefined. (A plain object, not a
 * module namespace: esbuild would add a helper to build that.) */
export const bundledUi = { addStyles, createBanner };

/** @type {(nonce?: string) => Promise<typeof bundledUi>} */
export const loadUi = () => Promise.resolve(bundledUi);

// @ts-check
// The full snippet's UI: bundled in, there from the start. The core build (build.mjs) puts
// ui-lazy.js in this module's place, with the same exports.
import * as ui from './ui.js';

/** The UI module when it is part of this script, else undefined. */
export const bundledUi = ui;

/** @type {(nonce?: string) => Promise<typeof ui>} */
export const loadUi = () => Promise.resolve(ui);

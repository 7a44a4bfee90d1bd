// @ts-check
// The core snippet's UI: the UI chunk (chunk.js), fetched the first time a layer or a
// placeholder must show.
export { loadChunk as loadUi } from './chunk.js';

/** @type {undefined} */
export const bundledUi = undefined;

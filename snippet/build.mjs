// Builds the snippet's files into cmp_server/static/ and checks their size. esbuild bundles and
// minifies each entry (CSS as a string) into an IIFE; terser compresses it further.
//
//   accord.js       src/index.js, the full snippet: engine, first-layer UI and styles. GET
//                   /s/KEY.js, the plain <script> tag, and what the stub loads for a visitor with
//                   no decision. The preferences dialog is not in it: it takes it from the UI
//                   chunk when the visitor is about to open it (src/chunk.js).
//   accord-core.js  src/index.js without the UI (src/ui-lazy.js in place of src/ui-bundled.js):
//                   GET /s/KEY.core.js, what the stub loads for a visitor who has decided.
//   accord-ui.js    src/ui-chunk.js, the whole UI (first layer, preferences dialog, styles): what
//                   the core fetches when a layer or placeholder must show, and the full snippet
//                   for the preferences dialog. GET /s/ui.<hash>.js (the first 16 hex of its
//                   SHA-256; immutable).
//   accord-stub.js  src/stub.js, the inline stub of the recommended integration (ES5).
//   ui/ui.<hash>.js the UI chunk again under its name, next to every earlier build's: kept, so
//                   a core snippet cached before a deploy still gets the UI it was built with.
//
//   node build.mjs            build, print sizes, fail over budget
//   node build.mjs --check    build in memory and fail if a committed file differs (CI)
//
// The budget (DESIGN.md, Targets) is on what a visitor downloads on a first visit: the stub (what
// it adds to a small page's gzipped HTML, which carries it),
// the full snippet and the configuration the server embeds in it for the demo site (3 categories,
// English and French), gzip -9, under 7.4 KB, read as 7,400 bytes. The stub asks for the full
// snippet with the visitor's languages (/s/KEY.js?lang=...), and the server embeds the first
// layer's texts in one language only: test/demo-snippet-config.json is that embedded form for a French-speaking
// visitor, French being the demo's longer language (cmp_server/services/client_config.py
// snippet_config); tests/snippet/test_embedded_config.py keeps it so. Node's zlib (Chromium's) compresses this
// about 45 B less tightly than the server's (Python's zlib), so the figures printed here err on
// the safe side. Property names ending in "_" are shortened the same way in every file (one
// esbuild mangle cache), so the core and the UI chunk agree on them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { minify } from 'terser';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const STATIC = here('../cmp_server/static/');
const OUT = {
  full: STATIC + 'accord.js',
  core: STATIC + 'accord-core.js',
  ui: STATIC + 'accord-ui.js',
  stub: STATIC + 'accord-stub.js',
};
// What the server embeds for the demo site: in the full snippet, with the texts of the
// visitor's one language (what the stub asks for); in the core one, without texts (its UI fetches the visitor's language from
// GET /s/KEY/texts.REV.LANG.json, of which the French payload is the larger).
const DEMO_CONFIG = here('test/demo-snippet-config.json');
const DEMO_CORE_CONFIG = here('test/demo-snippet-config.core.json');
const DEMO_TEXTS = here('test/demo-texts.fr.json');
const PLACEHOLDER = '__ACCORD_CONFIG__';
const STUB_PLACEHOLDER = '__ACCORD_SNIPPET__';
const BUDGET = 7400; // bytes, gzip -9, first visit: stub + full snippet + embedded config

// styles.css is imported as a minified string, applied at run time by the script.
const cssAsText = {
  name: 'css-as-text',
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await esbuild.transform(readFileSync(args.path, 'utf8'), {
        loader: 'css',
        minify: true,
        target: ['chrome90', 'firefox90', 'safari15'],
      });
      return { contents: `export default ${JSON.stringify(code.trim())}`, loader: 'js' };
    });
  },
};

// The core build: ui-lazy.js wherever ui-bundled.js is imported.
const lazyUi = {
  name: 'lazy-ui',
  setup(build) {
    build.onResolve({ filter: /\/ui-bundled\.js$/ }, () => ({ path: here('src/ui-lazy.js') }));
  },
};

/** One minified IIFE of `entry`; returns [code, the mangle cache after it]. */
async function bundle(entry, { plugins = [], define = {}, mangleCache = {} } = {}) {
  const result = await esbuild.build({
    entryPoints: [here(entry)],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    legalComments: 'none',
    // Internal property names end with "_" and are shortened; wire and API names are not.
    mangleProps: /_$/,
    mangleCache,
    charset: 'utf8',
    write: false,
    define,
    plugins: [cssAsText, ...plugins],
  });
  // A second compression pass: terser finds about 2% more than esbuild alone.
  // unsafe_arrows turns function expressions that use neither `this` nor `arguments` into
  // arrows, which is safe here: nothing calls them with `new` or reads their prototype.
  const { code } = await minify(result.outputFiles[0].text, {
    ecma: 2020,
    compress: { passes: 4, unsafe_arrows: true },
    mangle: true,
    format: { comments: false },
  });
  return [code, result.mangleCache];
}

function placeholderOnce(code, placeholder, name) {
  const count = code.split(placeholder).length - 1;
  if (count != 1) throw new Error(`${name} must contain ${placeholder} exactly once, found ${count}`);
  return code;
}

/** The UI chunk's URL path under /s/ (the server computes the same: services/snippet.py). */
export const uiFileName = (code) =>
  `ui.${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;

/** Every file, {full, core, ui, stub}: code as written to cmp_server/static/. */
export async function build() {
  // Every build shares one mangle cache, so the snippets and the UI chunk agree on names. The
  // snippets name the chunk (__ACCORD_UI__), so it is built first: a first pass over the full
  // snippet gives it the names the snippets use.
  const [, snippetNames] = await bundle('src/index.js', { define: { __ACCORD_UI__: '""' } });
  const [ui, mangleCache] = await bundle('src/ui-chunk.js', { mangleCache: snippetNames });
  const define = { __ACCORD_UI__: JSON.stringify(uiFileName(ui)) };
  const [full] = await bundle('src/index.js', { mangleCache, define });
  const [core] = await bundle('src/index.js', { mangleCache, plugins: [lazyUi], define });
  const stub = (
    await minify(readFileSync(here('src/stub.js'), 'utf8'), {
      ecma: 5,
      compress: { passes: 2 },
      mangle: true,
      format: { comments: false },
    })
  ).code;
  placeholderOnce(full, PLACEHOLDER, 'the full snippet');
  placeholderOnce(core, PLACEHOLDER, 'the core snippet');
  placeholderOnce(stub, STUB_PLACEHOLDER, 'the stub');
  return { full, core, ui, stub };
}

// The server's embedding (cmp_server/services/snippet.py script_json).
export function embed(code, config) {
  const json = JSON.stringify(config)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return code.replace(PLACEHOLDER, () => json);
}

const gz = (s) => gzipSync(Buffer.from(s), { level: 9 }).length;

async function main() {
  const files = await build();
  // The UI chunk's archived copy is checked and written with the other files.
  OUT.archived = STATIC + 'ui/' + uiFileName(files.ui);
  files.archived = files.ui;
  if (process.argv.includes('--check')) {
    let stale = false;
    for (const [name, code] of Object.entries(files)) {
      let committed = '';
      try {
        committed = readFileSync(OUT[name], 'utf8');
      } catch (e) {
        // missing counts as different
      }
      if (committed != code) {
        console.error(`${OUT[name]} is not the build of snippet/src: run \`npm run build\` and commit it`);
        stale = true;
      }
    }
    if (stale) process.exit(1);
    console.log(`${Object.values(OUT).join(', ')} match the build of snippet/src`);
  } else {
    mkdirSync(STATIC + 'ui', { recursive: true });
    for (const [name, code] of Object.entries(files)) writeFileSync(OUT[name], code);
  }
  const config = JSON.parse(readFileSync(DEMO_CONFIG, 'utf8'));
  const snippetUrl = config.api.replace(/api\/v1\/sites\/(\w+)$/, 's/$1');
  const stubTag = `<script nonce="NONCE">${files.stub.replace(STUB_PLACEHOLDER, JSON.stringify(snippetUrl))}</script>`;
  // The stub travels inside each page's HTML, compressed with it: what it adds to a page.
  const page = (head) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>${head}` +
    `</head><body><main><h1>Shop</h1><p>A product page.</p></main></body></html>`;
  const stub = gz(page(stubTag)) - gz(page(''));
  const full = gz(embed(files.full, config));
  const core = gz(embed(files.core, JSON.parse(readFileSync(DEMO_CORE_CONFIG, 'utf8'))));
  const ui = gz(files.ui);
  const texts = gz(JSON.stringify(JSON.parse(readFileSync(DEMO_TEXTS, 'utf8'))));
  const first = stub + full;
  const row = (what, n) => console.log(`${what.padEnd(44)} ${String(n).padStart(5)} B gzip`);
  row('inline stub, alone', gz(stubTag));
  row('inline stub, added to a page', stub);
  row('full snippet + demo config (/s/KEY.js)', full);
  row('  of which engine + UI + CSS alone', gz(files.full));
  row('core snippet + demo config (/s/KEY.core.js)', core);
  row('UI chunk, on demand (/s/' + uiFileName(files.ui) + ')', ui);
  row('texts for the UI chunk, one language (fr)', texts);
  row('first visit: stub + full snippet + config', first);
  row('returning visit: stub + core + config', stub + core);
  row('returning visit that opens the preferences', stub + core + ui + texts);
  row('first visit that opens the preferences', first + ui + texts);
  console.log(`budget (first visit, gzip): ${BUDGET} B; ${first < BUDGET ? 'OK' : 'OVER'} by ${Math.abs(BUDGET - first)} B`);
  if (first >= BUDGET) process.exit(1);
}

if (process.argv[1] == fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message || e);
    process.exit(1);
  });
}

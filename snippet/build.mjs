// Builds the snippet into cmp_server/static/accord.js and checks its size: esbuild bundles
// and minifies src/index.js (CSS as a string) into one IIFE, terser compresses it further.
//
//   node build.mjs            build, print sizes, fail over budget
//   node build.mjs --check    build in memory and fail if the committed file differs (CI)
//
// The budget (DESIGN.md, Targets) is on what a visitor downloads: the engine, its CSS and the
// configuration the server embeds for the demo site (3 categories, English and French),
// gzip -9, under 6.8 KB, read as 6,800 bytes. test/demo-snippet-config.json is that embedded
// form (cmp_server/services/sites.py snippet_config); tests/snippet/test_embedded_config.py
// keeps it so. Node's zlib (Chromium's) compresses this about 45 B less tightly than the
// server's (Python's zlib), so the figure printed here errs on the safe side.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { minify } from 'terser';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const OUT = here('../cmp_server/static/accord.js');
const DEMO_CONFIG = here('test/demo-snippet-config.json');
const PLACEHOLDER = '__ACCORD_CONFIG__';
const BUDGET = 6800; // bytes, gzip -9, engine + CSS + embedded config; the total must be under it

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

export async function build() {
  const result = await esbuild.build({
    entryPoints: [here('src/index.js')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    legalComments: 'none',
    // Internal property names end with "_" and are shortened; wire and API names are not.
    mangleProps: /_$/,
    charset: 'utf8',
    write: false,
    plugins: [cssAsText],
  });
  // A second compression pass: terser finds about 2% more than esbuild alone.
  // unsafe_arrows turns function expressions that use neither `this` nor `arguments` into
  // arrows, which is safe here: nothing calls them with `new` or reads their prototype.
  const { code } = await minify(result.outputFiles[0].text, {
    ecma: 2020,
    compress: { passes: 3, unsafe_arrows: true },
    mangle: true,
    format: { comments: false },
  });
  const count = code.split(PLACEHOLDER).length - 1;
  if (count != 1) throw new Error(`the build must contain ${PLACEHOLDER} exactly once, found ${count}`);
  return code;
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
  const code = await build();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(OUT, 'utf8');
    } catch (e) {
      // missing counts as different
    }
    if (committed != code) {
      console.error(`${OUT} is not the build of snippet/src: run \`npm run build\` and commit it`);
      process.exit(1);
    }
    console.log(`${OUT} matches the build of snippet/src`);
  } else {
    writeFileSync(OUT, code);
  }
  const config = JSON.parse(readFileSync(DEMO_CONFIG, 'utf8'));
  const total = embed(code, config);
  const engine = gz(code);
  const all = gz(total);
  const kb = (n) => (n / 1024).toFixed(2) + ' KB';
  console.log(`engine + CSS:           ${code.length} B raw, ${engine} B gzip (${kb(engine)})`);
  console.log(`with demo config:       ${Buffer.byteLength(total)} B raw, ${all} B gzip (${kb(all)})`);
  console.log(`budget (gzip, total):   ${BUDGET} B; ${all < BUDGET ? 'OK' : 'OVER'} by ${Math.abs(BUDGET - all)} B`);
  if (all >= BUDGET) process.exit(1);
}

if (process.argv[1] == fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message || e);
    process.exit(1);
  });
}

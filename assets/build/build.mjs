#!/usr/bin/env node
// Builds assets/static/ from Bootstrap Italia, keeping only what the portal's pages use:
//   css/portal.css  purged + minified Bootstrap Italia, our @font-face rules, assets/src/portal.css
//   fonts/*.woff2   Titillium Web 400 and 600, subset to the Latin of it/en/fr/es/ro/sq
//   icons.svg       the symbols listed in icons.txt
// Usage (from the repository root, see README.md):
//   node assets/build/build.mjs            CSS + icons; fonts only when missing
//   node assets/build/build.mjs --fonts    also re-subset the fonts (needs pyftsubset + brotli)
//   ASSETS_EXTRA_CONTENT=/tmp/a.html,/tmp/b.html node assets/build/build.mjs
//                                          purge against throwaway pages too (never a committed input)
//
// Minifier: clean-css rather than lightningcss. clean-css is plain JavaScript, so the lockfile has no
// per-platform native binary and `npm ci` does the same thing on every machine; its level-2 pass merges
// the duplicate rules Bootstrap Italia's Sass leaves behind. Bootstrap Italia ships already minified,
// so a stronger minifier has little left to gain (not measured here).
import { readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { PurgeCSS } from 'purgecss';
import CleanCSS from 'clean-css';
import postcss from 'postcss';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const bi = join(here, 'node_modules', 'bootstrap-italia', 'dist');
const out = join(root, 'assets', 'static');
const args = new Set(process.argv.slice(2));

// One list for both pyftsubset and the CSS unicode-range, so the two cannot drift apart.
// Basic Latin, Latin-1 (à è ì ò ù ç ë ñ « » …), ă â î ș ț (and the cedilla forms ş ţ still typed in
// Romanian), œ Ÿ for French, dashes, typographic quotes, bullet, ellipsis, ‹ ›, €, ™, minus.
const LATIN = 'U+0020-007E,U+00A0-00FF,U+0102-0103,U+0152-0153,U+015E-015F,U+0162-0163,U+0178,' +
  'U+0218-021B,U+2013-2014,U+2018-201E,U+2022,U+2026,U+2039-203A,U+20AC,U+2122,U+2212';

// Bootstrap Italia asks for 400, 600 (buttons, labels, breadcrumbs, h4–h6: most bold text) and 700
// (h1–h3, b, strong, .fw-bold). We ship 400 and 600 and declare the 600 file for 700 as well: the
// browser then uses real semibold outlines for every bold weight and never synthesises bold.
const FONTS = [
  { file: 'titillium-web-400.woff2', src: 'titillium-web-v10-latin-ext_latin-regular.woff2', weights: [400] },
  { file: 'titillium-web-600.woff2', src: 'titillium-web-v10-latin-ext_latin-600.woff2', weights: [600, 700] },
];

// Class names the templates cannot show literally: state toggled from Go, or built from a variable.
const SAFELIST = [
  'active', 'show', 'disabled', 'is-invalid',
  'alert-danger', 'alert-success', 'alert-info', 'alert-warning', // flash kind → "alert-{{.Kind}}"
  'visually-hidden', 'visually-hidden-focusable',
  'html', 'body',
  // Selectors made only of pseudo-classes/elements have nothing to find in the content, and PurgeCSS
  // drops them: that would remove Bootstrap Italia's keyboard focus ring
  // (":focus:not([data-focus-mouse=true])"), ::placeholder and the ::-webkit-* form resets.
  /^:/,
];
// Attribute selectors kept whatever the content says: the values are filled in at run time
// (dir="{{.Dir}}", lang="{{.Lang}}", <details open>, aria-*), and data-focus-mouse carries
// Bootstrap Italia's keyboard focus ring (":focus:not([data-focus-mouse=true])").
const DYNAMIC_ATTRIBUTES = ['dir', 'lang', 'open', 'aria-current', 'aria-invalid', 'aria-expanded',
  'aria-disabled', 'data-focus-mouse', 'disabled', 'readonly', 'checked', 'hidden'];
// @font-face rules for fonts we do not ship (VideoJS comes as a 10 KB data: URI).
const DROP_FONTS = /videojs|lora|roboto mono/i;

const kb = (n) => (n / 1024).toFixed(1).padStart(7) + ' KB';

async function walk(dir, keep, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules' && !e.name.startsWith('.')) await walk(p, keep, acc); }
    else if (keep(e.name)) acc.push(p);
  }
  return acc;
}

// ---------------------------------------------------------------- icons
async function buildIcons() {
  const names = (await readFile(join(here, 'icons.txt'), 'utf8')).split('\n')
    .map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const sprite = await readFile(join(bi, 'svg', 'sprites.svg'), 'utf8');
  const symbols = new Map();
  for (const m of sprite.matchAll(/<symbol\b([^>]*)>([\s\S]*?)<\/symbol>/g)) {
    const id = /\bid="([^"]+)"/.exec(m[1])?.[1];
    const viewBox = /\bviewBox="([^"]+)"/.exec(m[1])?.[1];
    if (id) symbols.set(id, { viewBox, body: m[2] });
  }
  // Icons Bootstrap Italia lacks (it-world) are drawn by us in assets/src/icons/<name>.svg.
  for (const n of names) {
    const own = join(root, 'assets', 'src', 'icons', `${n}.svg`);
    if (symbols.has(n) || !existsSync(own)) continue;
    const m = /<svg\b([^>]*)>([\s\S]*)<\/svg>/.exec(await readFile(own, 'utf8'));
    symbols.set(n, { viewBox: /\bviewBox="([^"]+)"/.exec(m[1])?.[1], body: m[2] });
  }
  const missing = names.filter((n) => !symbols.has(n));
  if (missing.length) {
    throw new Error(`icons.txt: neither in bootstrap-italia's sprite nor in assets/src/icons/: ${missing.join(', ')}`);
  }
  const body = [...new Set(names)].map((n) => {
    const s = symbols.get(n);
    const inner = s.body.replace(/>\s+</g, '><').replace(/\s{2,}/g, ' ').trim();
    return `<symbol id="${n}"${s.viewBox ? ` viewBox="${s.viewBox}"` : ''}>${inner}</symbol>`;
  }).join('');
  await writeFile(join(out, 'icons.svg'), `<svg xmlns="http://www.w3.org/2000/svg">${body}</svg>\n`);
}

// ---------------------------------------------------------------- fonts
function findSubsetter() {
  // Debian's `fonttools` package gives pyftsubset; python3-fonttools alone gives the module. A pyenv
  // python3 earlier in PATH may lack both, so /usr/bin/python3 is tried explicitly.
  const tries = [['pyftsubset', []], ['/usr/bin/python3', ['-m', 'fontTools.subset']], ['python3', ['-m', 'fontTools.subset']]];
  for (const [cmd, pre] of tries) {
    const r = spawnSync(cmd, [...pre, '--help'], { stdio: 'ignore' });
    if (r.status === 0) return [cmd, pre];
  }
  return null;
}

async function buildFonts() {
  const dir = join(out, 'fonts');
  await mkdir(dir, { recursive: true });
  const sub = findSubsetter();
  for (const f of FONTS) {
    const src = join(bi, 'fonts', 'Titillium_Web', f.src);
    const dst = join(dir, f.file);
    let ok = false;
    if (sub) {
      const r = spawnSync(sub[0], [...sub[1], src, `--unicodes=${LATIN}`, '--flavor=woff2',
        '--layout-features=kern,liga,locl', '--no-hinting', '--desubroutinize', `--output-file=${dst}`],
      { encoding: 'utf8' });
      ok = r.status === 0;
      if (!ok) console.warn(`fonts: pyftsubset failed for ${f.src} (python3-brotli missing?):\n${r.stderr}`);
    }
    if (!ok) {
      console.warn(`fonts: WARNING shipping the unsubset ${f.src}; install Debian's fonttools + python3-brotli and run with --fonts`);
      await writeFile(dst, await readFile(src));
    }
  }
  // The font's licence travels with it; written, not copied, so it does not keep the package's 0755 mode.
  await writeFile(join(dir, 'OFL.txt'), await readFile(join(bi, 'fonts', 'Titillium_Web', 'OFL.txt')));
}

function fontFaceCss() {
  // url() is relative to css/portal.css, so it works wherever static/ is mounted.
  return FONTS.flatMap((f) => f.weights.map((w) =>
    `@font-face{font-family:"Titillium Web";font-style:normal;font-weight:${w};font-display:swap;` +
    `src:url(../fonts/${f.file}) format("woff2");unicode-range:${LATIN}}`)).join('\n');
}

// ---------------------------------------------------------------- css
// Bootstrap Italia has no RTL build: it writes margin-left, left:0, text-align:left… Rewriting those to
// logical properties keeps LTR pixel-identical and makes the kept components mirror under dir="rtl".
const LOGICAL = {
  'margin-left': 'margin-inline-start', 'margin-right': 'margin-inline-end',
  'padding-left': 'padding-inline-start', 'padding-right': 'padding-inline-end',
  'border-left': 'border-inline-start', 'border-right': 'border-inline-end',
  'border-left-width': 'border-inline-start-width', 'border-right-width': 'border-inline-end-width',
  'border-left-color': 'border-inline-start-color', 'border-right-color': 'border-inline-end-color',
  'border-left-style': 'border-inline-start-style', 'border-right-style': 'border-inline-end-style',
  'border-top-left-radius': 'border-start-start-radius', 'border-top-right-radius': 'border-start-end-radius',
  'border-bottom-left-radius': 'border-end-start-radius', 'border-bottom-right-radius': 'border-end-end-radius',
  left: 'inset-inline-start', right: 'inset-inline-end',
};
const splitValue = (v) => postcss.list.space(v);

function toLogical(rule) {
  // left:50% + translateX(-50%) centres a box; mirrored it would be off by its own width.
  const centred = rule.nodes.some((d) => d.prop === 'transform' && /translate(X)?\(/i.test(d.value));
  rule.walkDecls((d) => {
    const prop = d.prop.toLowerCase();
    if (LOGICAL[prop]) {
      if ((prop === 'left' || prop === 'right') && centred) return;
      d.prop = LOGICAL[prop];
    } else if (prop === 'text-align' && /^(left|right)$/i.test(d.value)) {
      d.value = d.value.toLowerCase() === 'left' ? 'start' : 'end';
    } else if ((prop === 'float' || prop === 'clear') && /^(left|right)$/i.test(d.value)) {
      d.cloneBefore(); // physical fallback for browsers without float:inline-start
      d.value = d.value.toLowerCase() === 'left' ? 'inline-start' : 'inline-end';
    } else if (prop === 'margin' || prop === 'padding' || prop === 'border-width') {
      const v = splitValue(d.value);
      if (v.length === 4 && v[1] !== v[3]) {
        const [block, inline] = prop === 'border-width'
          ? ['border-block-width', 'border-inline-width'] : [`${prop}-block`, `${prop}-inline`];
        d.cloneBefore({ prop: block, value: `${v[0]} ${v[2]}` });
        d.prop = inline;
        d.value = `${v[3]} ${v[1]}`;
      }
    }
  });
}

// Background positions cannot be written logically: each rule that sets one gets a "[dir=rtl]" twin
// right after it with the position mirrored (alert icons, the select arrow, the invalid-field mark).
// Every such rule is twinned, mirrored or not, so the twins keep the original cascade order.
function mirrorPosition(layer) {
  const v = splitValue(layer);
  if (v.some((t) => /^(left|right)$/i.test(t))) {
    return v.map((t) => (/^left$/i.test(t) ? 'right' : /^right$/i.test(t) ? 'left' : t)).join(' ');
  }
  if (v.length <= 2 && !/^(center|top|bottom)$/i.test(v[0])) return `right ${v[0]} top ${v[1] ?? 'center'}`;
  return layer;
}

function addRtlTwin(rule) {
  const decls = rule.nodes.filter((d) => d.type === 'decl' && d.prop === 'background-position');
  // a rule written for one direction already (portal.css's "[dir=rtl] …") is left as it is
  if (!decls.length || rule.selectors.every((s) => s.startsWith('[dir='))) return;
  const twin = rule.clone({ selectors: rule.selectors.map((s) => `[dir=rtl] ${s}`), nodes: [] });
  for (const d of decls) twin.append(d.clone({ value: postcss.list.comma(d.value).map(mirrorPosition).join(',') }));
  rule.after(twin);
}

function postPurge(css) {
  const rootNode = postcss.parse(css);
  // PurgeCSS (fontFace: true) already drops @font-face rules no kept rule names; this catches the rest.
  rootNode.walkAtRules('font-face', (at) => {
    if (at.nodes.some((d) => d.prop === 'font-family' && DROP_FONTS.test(d.value))) at.remove();
  });
  rootNode.walkDecls((d) => {
    // Lora is not shipped, and a family written out in full (Lora, Titillium Web) would escape the
    // per-script stacks of portal.css: every text face goes through the one variable.
    if (d.prop === 'font-family' && /lora|titillium/i.test(d.value)) d.value = 'var(--bs-font-sans-serif)';
    // Fonts as data: URIs belong to components we do not use; any left are dead weight.
    if (/url\(\s*["']?data:(application\/(x-)?font|font\/)/i.test(d.value)) d.remove();
  });
  const rules = [];
  rootNode.walkRules((r) => { if (r.parent?.type !== 'atrule' || !/keyframes$/.test(r.parent.name)) rules.push(r); });
  for (const r of rules) { toLogical(r); addRtlTwin(r); }
  rootNode.walkComments((c) => c.remove());
  return rootNode.toString();
}

// clean-css 5.3.3 rewrites "0%" to "0" even inside url() strings, which breaks the percent-encoded
// hsl(…) colours in Bootstrap Italia's data: SVGs (the select arrow vanished). url() values are
// therefore swapped for placeholders while minifying and put back untouched afterwards.
function minify(css) {
  const urls = [];
  const masked = css.replace(/url\(\s*(?:"[^"]*"|'[^']*'|[^)"']*)\s*\)/g, (u) => `url(__URL${urls.push(u) - 1}__)`);
  const min = new CleanCSS({ level: 2, inline: false, rebase: false }).minify(masked);
  if (min.errors.length) throw new Error(`clean-css: ${min.errors.join('; ')}`);
  for (const w of min.warnings) console.warn(`clean-css: ${w}`);
  return min.styles.replace(/url\(__URL(\d+)__\)/g, (_, i) => urls[+i].replace(/^url\(\s*/, 'url(').replace(/\s*\)$/, ')'));
}

async function contentFiles() {
  const files = await walk(join(root, 'portal'), (n) => /\.(html|gohtml|tmpl|go)$/.test(n));
  const extra = [...(process.env.ASSETS_EXTRA_CONTENT ?? '').split(','),
    ...[...args].filter((a) => a.startsWith('--content=')).map((a) => a.slice('--content='.length))]
    .map((s) => s.trim()).filter(Boolean);
  for (const e of extra) if (!existsSync(e)) throw new Error(`extra content not found: ${e}`);
  return { files, extra };
}

async function buildCss() {
  const { files, extra } = await contentFiles();
  const templates = files.filter((f) => !f.endsWith('.go')).length;
  console.log(`css: purging against ${files.length} file(s) under portal/ (${templates} template(s))` +
    (extra.length ? ` + extra: ${extra.join(', ')}` : ''));
  if (templates === 0 && !extra.length) console.warn('css: WARNING no templates yet: output keeps only the safelist');

  const biCss = (await readFile(join(bi, 'css', 'bootstrap-italia.min.css'), 'utf8'))
    .replace(/^\uFEFF/, '').replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
  const ours = await readFile(join(root, 'assets', 'src', 'portal.css'), 'utf8');
  // Our file goes through the same purge, inside an ignore block, so that the Bootstrap Italia
  // variables it reads (var(--bs-…)) count as used; its own selectors are kept whole.
  const ourVars = [...new Set([...ours.matchAll(/var\(\s*(--[\w-]+)/g)].map((m) => m[1]))];
  const [purged] = await new PurgeCSS().purge({
    content: [...files, ...extra],
    css: [{ raw: `${biCss}\n/* purgecss start ignore */\n${ours}\n/* purgecss end ignore */\n` }],
    safelist: { standard: SAFELIST, variables: ourVars },
    dynamicAttributes: DYNAMIC_ATTRIBUTES,
    fontFace: true, keyframes: true, variables: true,
  });
  const css = `${fontFaceCss()}\n${postPurge(purged.css)}`;
  const styles = minify(css);
  await mkdir(join(out, 'css'), { recursive: true });
  await writeFile(join(out, 'css', 'portal.css'), styles + '\n');
  const count = (re, s) => (s.match(re) ?? []).length;
  console.log(`css: @font-face ${count(/@font-face/g, biCss)} in bootstrap-italia, ${count(/@font-face/g, purged.css)} after purge, ` +
    `${count(/@font-face/g, styles)} in output (ours, Titillium Web); data: URIs ${count(/data:/g, biCss)} → ` +
    `${count(/data:/g, styles)} (SVG icons of kept components)`);
}

// ---------------------------------------------------------------- report
async function report() {
  const files = (await walk(out, () => true)).sort();
  console.log(`\n${'file'.padEnd(34)}${'raw'.padStart(10)}${'gzip'.padStart(10)}${'brotli'.padStart(10)}`);
  const sizes = {};
  for (const f of files) {
    const b = await readFile(f);
    const gz = gzipSync(b, { level: 9 }).length;
    const br = brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
    const name = relative(out, f);
    sizes[name] = { raw: b.length, gz };
    console.log(`${name.padEnd(34)}${kb(b.length)}${kb(gz)}${kb(br)}`);
  }
  // woff2 is already compressed: count it raw.
  const first = (sizes['css/portal.css']?.gz ?? 0) + (sizes['icons.svg']?.gz ?? 0) +
    FONTS.reduce((n, f) => n + (sizes[`fonts/${f.file}`]?.raw ?? 0), 0);
  console.log(`\nfirst load of a Latin-script page, without its HTML: ${kb(first).trim()} ` +
    `(CSS gzip + icons gzip + both fonts); budget 50 KB leaves ${kb(50 * 1024 - first).trim()} for HTML`);
}

await mkdir(out, { recursive: true });
await buildIcons();
if (args.has('--fonts') || FONTS.some((f) => !existsSync(join(out, 'fonts', f.file)))) await buildFonts();
await buildCss();
await report();

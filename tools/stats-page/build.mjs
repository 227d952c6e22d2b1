// Bundles src/stats.js (the page's script with the parts of Chart.js it draws with) and src/stats.css into the
// files the server embeds: stats.js, stats.css, LICENSES.txt (the licence of every bundled package) and VERSIONS.
// Run by build.sh.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../api/assets/stats');
mkdirSync(out, { recursive: true });
const banner = '/* The govgraph statistics page: built by tools/stats-page/build.sh; see LICENSES.txt and VERSIONS beside this file. */';

const result = await esbuild.build({
  entryPoints: [join(here, 'src/stats.js'), join(here, 'src/stats.css')],
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  banner: { js: banner, css: banner },
});

// The packages whose code went into the bundle, found from the inputs esbuild read.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//);
  if (!match) continue;
  const dir = join(here, match[1], match[2]);
  if (packages.has(dir)) continue;
  packages.set(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
}
const sorted = [...packages.entries()].sort(([, a], [, b]) => a.name.localeCompare(b.name));

const licenceFile = (dir) =>
  readdirSync(dir)
    .filter((name) => /^(licen[cs]e|copying)(\.|$|-)/i.test(name))
    .sort()[0];

let licences = 'Licences of the packages bundled into stats.js (tools/stats-page/build.sh).\n';
for (const [dir, manifest] of sorted) {
  const file = licenceFile(dir);
  const text = file
    ? readFileSync(join(dir, file), 'utf8').trim()
    : `The package ships no licence file; its package.json declares the licence ${manifest.license ?? '(none)'}` +
      (manifest.repository ? `, source at ${manifest.repository.url ?? manifest.repository}.` : '.');
  licences += `\n${'='.repeat(78)}\n${manifest.name} ${manifest.version} (${manifest.license ?? 'no licence field'})\n${'='.repeat(78)}\n\n${text}\n`;
}
writeFileSync(join(out, 'LICENSES.txt'), licences);

const esbuildVersion = JSON.parse(readFileSync(join(here, 'node_modules/esbuild/package.json'), 'utf8')).version;
let versions =
  'Bundled by tools/stats-page/build.sh from tools/stats-page/package-lock.json (minified) with ' +
  `esbuild ${esbuildVersion}.\nPackages in the bundle:\n`;
for (const [dir, manifest] of sorted) {
  versions += `${manifest.name} ${manifest.version}  ${relative(here, dir)}\n`;
}
writeFileSync(join(out, 'VERSIONS'), versions);

for (const name of ['stats.js', 'stats.css']) {
  console.log(`${name}: ${readFileSync(join(out, name)).length} bytes`);
}
console.log(`${sorted.length} packages; licences in LICENSES.txt`);

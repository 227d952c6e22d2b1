// Bundles src/index.jsx (GraphiQL, React, the explorer plugin, graphql) into the files the server embeds:
// graphiql.js, graphiql.css, LICENSES.txt (the licence of every bundled package) and VERSIONS. Run by build.sh.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../api/assets/graphiql');
mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(here, 'src/index.jsx')],
  outfile: join(out, 'graphiql.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  banner: {
    js: '/* GraphiQL for govgraph: built by tools/graphiql/build.sh; see LICENSES.txt and VERSIONS beside this file. */',
    css: '/* GraphiQL for govgraph: built by tools/graphiql/build.sh; see LICENSES.txt and VERSIONS beside this file. */',
  },
});

// The packages whose code went into the bundle, found from the inputs esbuild read.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//);
  if (!match) continue;
  const dir = join(here, match[1], match[2]);
  if (packages.has(dir)) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  packages.set(dir, manifest);
}
const sorted = [...packages.entries()].sort(([, a], [, b]) =>
  a.name === b.name ? a.version.localeCompare(b.version) : a.name.localeCompare(b.name),
);

const licenceFile = (dir) =>
  readdirSync(dir)
    .filter((name) => /^(licen[cs]e|copying)(\.|$|-)/i.test(name))
    .sort()[0];

let licences =
  'Licences of the packages bundled into graphiql.js and graphiql.css (tools/graphiql/build.sh).\n';
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
  'Bundled by tools/graphiql/build.sh from tools/graphiql/package-lock.json (production, minified) with ' +
  `esbuild ${esbuildVersion}.\nPackages in the bundle:\n`;
for (const [dir, manifest] of sorted) {
  versions += `${manifest.name} ${manifest.version}  ${relative(here, dir)}\n`;
}
writeFileSync(join(out, 'VERSIONS'), versions);

for (const name of ['graphiql.js', 'graphiql.css']) {
  const size = readFileSync(join(out, name)).length;
  console.log(`${name}: ${size} bytes`);
}
console.log(`${sorted.length} packages; licences in LICENSES.txt`);

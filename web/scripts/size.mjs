// Prints the gzipped size of the initial JS and CSS that dist/index.html loads.
// Usage: node scripts/size.mjs [--max-kb 150]   (exits 1 when over the budget)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const args = process.argv.slice(2);
const maxKb = args.includes('--max-kb') ? Number(args[args.indexOf('--max-kb') + 1]) : 150;
const indexPath = path.join(dist, 'index.html');
if (!fs.existsSync(indexPath)) {
  console.error('dist/index.html not found: run `npm run build` first');
  process.exit(2);
}
const html = fs.readFileSync(indexPath, 'utf8');
const refs = new Set();
for (const m of html.matchAll(/<script[^>]+src="([^"]+)"/g)) refs.add(m[1]);
for (const m of html.matchAll(/<link[^>]+rel="(?:stylesheet|modulepreload)"[^>]*href="([^"]+)"/g)) refs.add(m[1]);
for (const m of html.matchAll(/<link[^>]+href="([^"]+)"[^>]*rel="(?:stylesheet|modulepreload)"/g)) refs.add(m[1]);
let js = 0;
let css = 0;
for (const ref of refs) {
  const file = path.join(dist, ref.replace(/^\//, ''));
  if (!fs.existsSync(file)) continue;
  const gz = zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
  if (file.endsWith('.css')) css += gz;
  else if (file.endsWith('.js')) js += gz;
  console.log(`${ref}  ${(gz / 1024).toFixed(1)} KB gzip`);
}
const total = js + css;
console.log(`initial JS ${(js / 1024).toFixed(1)} KB + CSS ${(css / 1024).toFixed(1)} KB = ${(total / 1024).toFixed(1)} KB gzipped (budget ${maxKb} KB)`);
process.exit(total > maxKb * 1024 ? 1 : 0);

// Bundles the real next-auth/react client into static apps authbff can serve
// with SPA_DIR=dist-v4 (or dist-v5): `npm run build`.
import { build } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const embedded = join(here, '..', '..', 'static', 'assets');

function installed(name) {
  try {
    require.resolve(`${name}/react`);
    return true;
  } catch {
    return false;
  }
}

const flavours = [{ name: 'v4', pkg: 'next-auth' }, { name: 'v5', pkg: 'next-auth-v5' }];

for (const { name, pkg } of flavours) {
  if (!installed(pkg)) {
    console.log(`skip ${name}: ${pkg} is not installed`);
    continue;
  }
  const out = join(here, `dist-${name}`);
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'assets'), { recursive: true });
  await build({
    entryPoints: [join(here, 'src', `${name}.jsx`)],
    outfile: join(out, 'assets', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    logLevel: 'warning',
    // Outside Next.js the client reads process.env.NEXTAUTH_URL at import:
    // an empty process.env gives it the default base path /api/auth.
    define: {
      'process.env.NODE_ENV': '"production"',
      'process.env': '{}',
    },



  });
  await copyFile(join(here, 'src', 'index.html'), join(out, 'index.html'));
  for (const asset of ['style.css', 'favicon.svg']) {
    await copyFile(join(embedded, asset), join(out, 'assets', asset));
  }
  const { size } = await stat(join(out, 'assets', 'app.js'));
  console.log(`dist-${name}/assets/app.js ${size} bytes`);
}

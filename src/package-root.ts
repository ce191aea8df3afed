// Where the package's own files are (package.json, the native addon),
// found from this module's location: it runs from src/ under tsx, from
// dist/, or bundled into dist/cli/ (the CLI), at different depths.

import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: { root: string; version: string } | null = null;

function locate(): { root: string; version: string } {
  if (found !== null) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tracering') return (found = { root: dir, version: pkg.version ?? '0' });
    } catch {
      // no package.json here, or not ours: look further up
    }
    if (dirname(dir) === dir) return (found = { root: join(start, '..'), version: '0' });
  }
}

/** The package's root directory (where package.json is). */
export function packageRoot(): string {
  return locate().root;
}

/** The package's version ('0' if its package.json cannot be read). */
export function packageVersion(): string {
  return locate().version;
}

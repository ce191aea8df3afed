// Every input the fuzzer ever found (test/fixtures/fuzz/<target>/*.bin)
// now ends cleanly or with a coded error: no crash, no hang, no heap
// exhaustion. The seeds of every target run too.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { TargetRunner } from '../../fuzz/runner.js';
import type { FuzzTarget } from '../../fuzz/target.js';

const root = join(import.meta.dirname, '../..');
const targetsDir = join(root, 'fuzz/targets');
const findingsDir = join(root, 'test/fixtures/fuzz');

for (const file of fs.readdirSync(targetsDir).filter((f) => f.endsWith('.ts')).sort()) {
  const module = pathToFileURL(join(targetsDir, file)).href;
  describe(`fuzz target ${file}`, () => {
    it('its seeds and every saved finding end cleanly or with a coded error', async () => {
      const target = ((await import(module)) as { default: FuzzTarget }).default;
      const dir = join(findingsDir, target.name);
      const saved = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [];
      // A generous watchdog: a hang is a hang on any machine; a slow machine is not.
      const runner = new TargetRunner({ module, timeoutMs: 30_000 });
      try {
        for (const [i, input] of target.seeds().entries()) {
          const v = await runner.run(input);
          assert.equal(v.kind, 'ok', `seed ${i}: ${v.kind === 'ok' ? '' : v.detail}`);
        }
        for (const name of saved) {
          const v = await runner.run(new Uint8Array(fs.readFileSync(join(dir, name))));
          assert.equal(v.kind, 'ok', `${target.name}/${name}: ${v.kind === 'ok' ? '' : v.detail}`);
        }
      } finally {
        await runner.close();
      }
    });
  });
}

// Every ```ts block of README.md, run as written: saved as a .ts file in a
// CommonJS project that depends on tracering, type-checked with the
// project's TypeScript (with the running kernel's declarations from
// `tracering types`) and run under tsx against the real kernel. Each must
// exit 0 with output, leave no instance and no ring file behind, and run
// a second time.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kernelOrSkip } from '../helpers/kernel.js';
import { UserProject, repoRoot } from '../helpers/user-project.js';

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const blocks = tsBlocks(readFileSync(join(repoRoot, 'README.md'), 'utf8'));

test('README.md has TypeScript examples', () => {
  assert.ok(blocks.length >= 3, `found ${blocks.length} ts blocks`);
});

test('README examples type-check against the kernel declarations', (t) => {
  if (kernelOrSkip(t) === null) return;
  using project = new UserProject('trreadme-');
  const generated = project.types('kernel-events.d.ts');
  assert.equal(generated.status, 0, generated.stderr);
  const files = blocks.map((code, i) => {
    project.write(`example${i + 1}.ts`, code);
    return `example${i + 1}.ts`;
  });
  const r = project.compile([...files, 'kernel-events.d.ts']);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

for (const [i, code] of blocks.entries()) {
  test(`README example ${i + 1} runs as written, twice`, (t) => {
    const tracefs = kernelOrSkip(t);
    if (tracefs === null) return;
    using project = new UserProject('trreadme-');
    const file = project.write(`example${i + 1}.ts`, code);
    const ringFiles = [...code.matchAll(/'(\/dev\/shm\/[^']+)'/g)].map((m) => m[1]!);
    for (const round of [1, 2]) {
      const r = project.run(file, 90_000);
      assert.equal(r.signal, null, `round ${round}: killed by ${r.signal} (timeout?)\n${r.stderr}`);
      assert.equal(r.status, 0, `round ${round}: exit ${r.status}\n${r.stderr}`);
      assert.ok(r.stdout.trim().length > 0, `round ${round}: printed nothing`);
      assert.doesNotMatch(r.stdout + r.stderr, /Unknown type|Error|\[FAILED TO PARSE\]/, `round ${round}`);
      // Its own: other tracering processes on the machine create and remove instances meanwhile.
      const left: string[] = tracefs.instances().filter((n) => n.startsWith(`tracering-${r.pid}-`));
      assert.deepEqual(left, [], `round ${round}: instances left behind`);
      for (const ring of ringFiles) assert.equal(fs.existsSync(ring), false, `round ${round}: ${ring} left behind`);
    }
  });
}

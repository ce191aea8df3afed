// Typed events through the project's own TypeScript: declarations that
// `tracering types` writes from the running kernel make a program that
// uses the right fields compile (and run, seeing events) and one with a
// misspelt field fail; application ring schemas type their events from
// their definitions, with no generation step.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelOrSkip } from '../helpers/kernel.js';
import { UserProject } from '../helpers/user-project.js';

const kernelProgram = (field: string) => `import { events } from 'tracering';

async function main(): Promise<void> {
  let switches = 0;
  let wakings = 0;
  for await (const ev of events({ events: ['sched:sched_switch', 'sched:sched_waking'], durationMs: 1000 })) {
    if (ev.name === 'sched_switch') {
      const next: number = ev.fields.${field};
      const comm: string = ev.fields.prev_comm;
      const state: bigint = ev.fields.prev_state;
      if (next >= 0 && comm.length >= 0 && state >= 0n) switches++;
    } else if (ev.name === 'sched_waking') {
      const cpu: number = ev.fields.target_cpu;
      if (cpu >= 0) wakings++;
    } else if (ev.type === 'lost') {
      const n: number = ev.count;
      void n;
    }
  }
  console.log(JSON.stringify({ switches, wakings }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

test('generated declarations: right fields compile and run, a misspelt field is an error', (t) => {
  if (kernelOrSkip(t) === null) return;
  using project = new UserProject('trtypes-');
  const generated = project.types('kernel-events.d.ts', ['-e', 'sched']);
  assert.equal(generated.status, 0, generated.stderr);
  project.write('good.ts', kernelProgram('next_pid'));
  project.write('bad.ts', kernelProgram('next_pidd'));
  project.write('undeclared.ts', kernelProgram('next_pid'));

  const good = project.compile(['good.ts', 'kernel-events.d.ts']);
  assert.equal(good.status, 0, `${good.stdout}${good.stderr}`);
  const bad = project.compile(['bad.ts', 'kernel-events.d.ts']);
  assert.notEqual(bad.status, 0, 'a misspelt field compiles');
  assert.match(bad.stdout, /bad\.ts\(\d+,\d+\): error TS2551: Property 'next_pidd' does not exist/);
  assert.equal(bad.stdout.match(/error TS/g)?.length, 1, bad.stdout);
  // Without the declarations the fields are untyped: the program must not compile as if they were.
  const untyped = project.compile(['undeclared.ts']);
  assert.notEqual(untyped.status, 0, 'fields are typed without declarations?');

  const run = project.run('good.ts', 60_000);
  assert.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout.trim().split('\n').pop()!) as { switches: number; wakings: number };
  assert.ok(seen.switches > 0, `the program saw no sched_switch (${run.stdout})`);
});

test('generated declarations cover every event of the kernel and compile', (t) => {
  if (kernelOrSkip(t) === null) return;
  using project = new UserProject('trtypes-');
  const generated = project.types('all.d.ts');
  assert.equal(generated.status, 0, generated.stderr);
  assert.match(generated.stderr, /^\d{3,} events declared/);
  project.write('uses.ts', `import { events } from 'tracering';
async function main(): Promise<void> {
  for await (const ev of events({ events: ['irq', 'sched:sched_process_exec'], durationMs: 10 })) {
    if (ev.name === 'irq_handler_entry') { const irq: number = ev.fields.irq; const name: string = ev.fields.name; void irq; void name; }
    if (ev.name === 'sched_process_exec') { const f: string = ev.fields.filename; void f; }
  }
}
void main();
`);
  const r = project.compile(['uses.ts', 'all.d.ts']);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

const ringProgram = (field: string) => `import { AppRing, events } from 'tracering';

async function main(): Promise<void> {
  const ring = AppRing.create({ subbufs: 8 });
  const request = ring.defineEvent({ name: 'request', fields: [['id', 'u32'], ['path', 'string'], ['bytes', 'u64']] });
  request.write(ring.writer(), 42, '/index.html', 10n);
  for await (const ev of events({ rings: [{ path: '/dev/shm/none', events: [request] }], durationMs: 10 })) {
    if (ev.name === 'request') {
      const id: number = ev.fields.${field};
      const path: string = ev.fields.path;
      const bytes: bigint = ev.fields.bytes;
      void id; void path; void bytes;
    }
  }
}
void main();
`;

test('application ring schemas type their events and writes without a generation step', () => {
  using project = new UserProject('trtypes-');
  project.write('ring-good.ts', ringProgram('id'));
  project.write('ring-bad.ts', ringProgram('idd'));
  project.write('ring-write.ts', `import { AppRing } from 'tracering';
const ring = AppRing.create({ subbufs: 8 });
const request = ring.defineEvent({ name: 'request', fields: [['id', 'u32'], ['path', 'string']] });
request.write(ring.writer(), '/index.html', 42);
`);
  const good = project.compile(['ring-good.ts']);
  assert.equal(good.status, 0, `${good.stdout}${good.stderr}`);
  const bad = project.compile(['ring-bad.ts']);
  assert.match(bad.stdout, /ring-bad\.ts\(\d+,\d+\): error TS(2551|2339): Property 'idd' does not exist/);
  const write = project.compile(['ring-write.ts']);
  assert.match(write.stdout, /ring-write\.ts\(4,\d+\): error TS2345/, 'values in the wrong order compile');
});

test('tracering types: a misspelt event or an unwritable output is a coded error, not a stack trace', (t) => {
  if (kernelOrSkip(t) === null) return;
  using project = new UserProject('trtypes-');
  const missing = project.types('x.d.ts', ['-e', 'sched:no_such_event']);
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /^tracering: no event matches "sched:no_such_event".*\[ERR_EVENT_NOT_FOUND\]\n$/s);
  const dir = project.types('.', ['-e', 'sched:sched_switch']);
  assert.equal(dir.status, 1, dir.stderr);
  assert.match(dir.stderr, /^tracering: cannot write \.: .*\[ERR_OUTPUT\]\n$/s);
});

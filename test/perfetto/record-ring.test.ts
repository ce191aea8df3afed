// `tracering record --ring RING -o x.perfetto-trace -- APP`: the app's
// slices (from its ring) and the kernel's scheduling of the same thread in
// one Perfetto trace.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AppRing } from '../../src/ring/app-ring.js';
import { runCli } from '../helpers/cli.js';
import { kernelOrSkip } from '../helpers/kernel.js';
import { big, list, type Obj, readTrace, unknownFields } from './decode.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'trtest-pfring-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('record --ring into Perfetto', () => {
  it('puts app slices and kernel sched events of the same thread in one trace', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const ringPath = `/dev/shm/trtest-pfring-${process.pid}`;
    AppRing.create({ path: ringPath, subbufs: 32, mode: 'block' }).close();
    try {
      const out = join(scratch, 'app.perfetto-trace');
      const child = join(import.meta.dirname, 'ring-writer-child.ts');
      const r = runCli(['record', '-e', 'sched:sched_switch', '--ring', ringPath, '-o', out, '--json', '--', process.execPath, '--import', 'tsx', child, ringPath]);
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { total: { events: number } };
      const tid = Number(r.stdout.trim().split('\n')[0]);
      assert.ok(tid > 0, `the app printed its thread id: ${r.stdout.slice(0, 100)}`);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);
      // Kernel: compact sched switches, some of them to or from the app's thread.
      const switchedTo = new Set<number>();
      let kernelEvents = 0;
      for (const p of packets) {
        const bundle = p.ftraceEvents as Obj | undefined;
        if (bundle === undefined) continue;
        const compact = bundle.compactSched as Obj | undefined;
        for (const pid of (compact?.switchNextPid as number[] | undefined) ?? []) switchedTo.add(Number(pid));
        kernelEvents += ((compact?.switchTimestamp as unknown[] | undefined)?.length ?? 0) + list(bundle, 'event').length;
      }
      assert.equal(kernelEvents, summary.total.events, 'every kernel event is in the trace');
      assert.ok(switchedTo.has(tid), 'the kernel scheduled the app thread');
      // App: a thread track for the app's thread, 20 nested request slices.
      const thread = packets.map((p) => p.trackDescriptor as Obj | undefined).find((d) => d?.thread !== undefined);
      assert.ok(thread !== undefined, 'a thread track');
      assert.equal(Number((thread.thread as Obj).tid), tid);
      const names = new Map<number, string>();
      let begins = 0;
      let ends = 0;
      for (const p of packets) {
        for (const n of list(p.internedData as Obj | undefined, 'eventNames')) names.set(Number(n.iid), n.name as string);
        const e = p.trackEvent as Obj | undefined;
        if (e === undefined) continue;
        assert.equal(big(e.trackUuid) !== 0n, true);
        if (Number(e.type) === 1 && (names.get(Number(e.nameIid)) ?? '').startsWith('request ')) begins++;
        if (Number(e.type) === 2) ends++;
      }
      assert.equal(begins, 20, 'request slices');
      assert.equal(ends, 40, 'every slice ended (request and parse)');
    } finally {
      fs.rmSync(ringPath, { force: true });
    }
  });
});

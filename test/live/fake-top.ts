// A fake data source for the live view: drives the real model and screen
// (runLiveView) with synthetic samples, so the terminal side can be tested
// in tmux without a capture. Rates are fixed per CPU; with --loss-after N
// the last CPU reports LOSS lost events from the N-th poll on.
//
//   node --import tsx test/live/fake-top.ts [--output screen|once|json] [--cpus N]
//        [--interval MS] [--loss-after N] [--loss COUNT] [--ring NAME] [--pid-file PATH]
//        [--duration MS] [--throw-after N] [--policy] [--scale X]
//
// SIGINT/SIGTERM end it as the command scope does (abort, then restore).
// Prints "fake-top: ended <reason>" (stderr) after the terminal is restored.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { type LiveOutput, runLiveView } from '../../src/live/live-view.js';
import { LiveModel } from '../../src/live/model.js';
import type { CountEntry, CpuSample, LiveSample } from '../../src/live/sample.js';
import { AdaptivePolicy, type PolicyDecision } from '../../src/capture/adaptive-policy.js';

const { values } = parseArgs({
  options: {
    output: { type: 'string', default: 'screen' },
    cpus: { type: 'string', default: '2' },
    interval: { type: 'string', default: '1000' },
    'loss-after': { type: 'string', default: '-1' },
    loss: { type: 'string', default: '1234' },
    ring: { type: 'string' },
    'pid-file': { type: 'string' },
    duration: { type: 'string' },
    'throw-after': { type: 'string', default: '-1' },
    /** Run the adaptive policy on the synthetic counters: its paths and decisions show in the view. */
    policy: { type: 'boolean', default: false },
    /** Multiplies the synthetic rates. */
    scale: { type: 'string', default: '1' },
  },
});
const scale = Number(values.scale);

const cpus = Number(values.cpus);
const lossAfter = Number(values['loss-after']);
const lossCount = Number(values.loss);
const throwAfter = Number(values['throw-after']);
if (values['pid-file']) fs.writeFileSync(values['pid-file'], String(process.pid));

const EVENTS = ['sched:sched_switch', 'sched:sched_wakeup', 'irq:irq_handler_entry', 'ftrace:print', 'syscalls:sys_enter_read'];
const TASKS: Array<[number, string]> = [[1, 'systemd'], [812, 'node'], [4242, 'bash'], [77, 'kworker/0:1'], [9001, 'stress-ng']];
const start = performance.now();
const state = Array.from({ length: cpus }, () => ({ events: 0, bytes: 0 }));
const ring = { events: 0, bytes: 0 };
let polls = 0;
let last = start;

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort(sig));

const model = new LiveModel({ startMs: start });
const policy = values.policy
  ? new AdaptivePolicy({ cpus: state.map((_, cpu) => ({ cpu, subbufSize: 4096, subbufs: 352, path: 'mmap' })), mmapAvailable: true, bufferPercent: 50, startMs: start })
  : null;
if (policy) policy.observe(start, state.map((_, cpu) => ({ cpu, events: 0, bytes: 0, fillPercent: 0, wakeups: 0, lost: 0, dropped: 0 })));
const end = await runLiveView({
  output: values.output as LiveOutput,
  intervalMs: Number(values.interval),
  model,
  signal: controller.signal,
  ...(values.duration !== undefined ? { durationMs: Number(values.duration) } : {}),
  feed: {
    poll() {
      const now = performance.now();
      const dt = (now - last) / 1000;
      last = now;
      if (polls === throwAfter) throw new Error('fake feed failed');
      const samples: CpuSample[] = state.map((s, cpu) => {
        const rate = scale * 20_000 * (cpu + 1) * (1 + 0.5 * Math.sin(polls / 3 + cpu));
        const n = Math.round(rate * dt);
        s.events += n;
        s.bytes += n * 28;
        const lossy = lossAfter >= 0 && polls >= lossAfter && cpu === cpus - 1;
        return {
          cpu,
          mode: policy ? (policy.settings().cpus[cpu]?.path ?? 'mmap') : cpu % 2 === 0 ? 'mmap' : 'read',
          events: s.events,
          bytes: s.bytes,
          lost: lossy ? lossCount : 0,
          dropped: 0,
          fillPercent: lossy ? 100 : 5 + cpu * 10,
          subbufSize: 4096,
          bufferKb: 1408,
        };
      });
      const events: CountEntry[] = EVENTS.map((name, i) => ({ key: 300 + i, name, count: Math.round((1000 * (EVENTS.length - i)) * dt) + polls }));
      const tasks: CountEntry[] = TASKS.map(([pid, name], i) => ({ key: pid, name, count: Math.round(500 * (i + 1) * dt) }));
      const rings = [];
      if (values.ring !== undefined) {
        const n = Math.round(5000 * dt);
        ring.events += n;
        ring.bytes += n * 40;
        rings.push({ name: values.ring, events: ring.events, bytes: ring.bytes, lost: 0, dropped: 0, fillPercent: 3 });
      }
      polls++;
      let decisions: PolicyDecision[] = [];
      if (policy) {
        decisions = policy.observe(now, samples.map((c) => ({ cpu: c.cpu, events: c.events, bytes: c.bytes, fillPercent: c.fillPercent, wakeups: polls * 10, lost: c.lost, dropped: c.dropped })));
      }
      const sample: LiveSample = { atMs: now, clock: 'mono', buffer: 'fake', cpus: samples, rings, selfCpuPercent: 0.4, decisions };
      return { sample, counts: { events, tasks } };
    },
  },
}).catch((error: unknown) => {
  process.stderr.write(`fake-top: failed ${(error as Error).message}\n`);
  process.exit(3);
});
process.stderr.write(`fake-top: ended ${end.reason} after ${end.frames} frames\n`);

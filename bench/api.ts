// The front door's cost: events/s through `for await (const ev of
// events(...))` and through batches(), against today's batch callback
// (TraceSource.drain's onBatch, the callback stream() calls) on the same
// data in the same run.
//
// Each round fills CPU TRBENCH_CPU of a private instance with exactly
// TRBENCH_EVENTS raw markers (bench/c/fill.c, overwrite off so nothing is
// lost), then consumes them with one of:
//   callback        onBatch counting records: the raw walk, no decoding
//   callback+decode onBatch turning every record into the same event object
//                   events() yields (EventBuilder: fields, names, comm)
//   events()        for await over events({ instance, drain: true })
//   batches()       for await over batches({ instance, drain: true })
// timing the consumption only (from the first event to the last; opening
// and the capture thread's start-up are setup, as in bench/drain.ts), and
// checking every event arrived. Rounds rotate the order; medians are
// reported. Goal (issue 12): events() within 1.5x of the callback doing
// the same work (callback+decode).
//
// Environment: TRBENCH_EVENTS (default 1000000), TRBENCH_ROUNDS (5),
// TRBENCH_CPU (the last CPU).
//
// Run: npm run bench -- api   (or node --import tsx bench/api.ts)

import os from 'node:os';
import { EventBuilder } from '../src/api/event-builder.js';
import { batches, events } from '../src/api/events.js';
import { TraceSource } from '../src/kernel/trace-source.js';
import type { Instance } from '../src/kernel/tracefs.js';
import { loadDecodeContext } from '../src/output/decode-context.js';
import { compileC, envInt, median, runIfMain, runJson, usableTracefs } from './lib/common.js';

const GOAL = 1.5;
const WRITE_BYTES = 16;
const FILL_MAX_MS = 60_000;

interface Sample {
  events: number;
  /** Wall time of the consumption. */
  ns: number;
  /** CPU time of the process over it (all threads: the capture thread's too), robust to a loaded machine. */
  cpuNs: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

type Way = 'callback' | 'callback+decode' | 'events()' | 'batches()';
const WAYS: readonly Way[] = ['callback', 'callback+decode', 'events()', 'batches()'];

let interrupted = false;

function recordBytes(writeBytes: number): number {
  const payload = 8 + writeBytes;
  const len = (payload + 4 + 3) & ~3;
  return len === 12 ? 16 : len;
}

function setup(inst: Instance, cpu: number, events: number): void {
  inst.setOption('overwrite', false); // a mis-sized buffer refuses writes instead of losing events
  inst.setSubbufSizeKb(4);
  inst.setBufferSizeKb(1);
  const data = 4096 - 16;
  const subbufs = Math.ceil((events / Math.floor(data / recordBytes(WRITE_BYTES))) * 1.02) + 8;
  inst.setCpuBufferSizeKb(cpu, Math.ceil((subbufs * data) / 1024));
}

function fill(inst: Instance, fillBin: string, cpu: number, events: number): void {
  inst.clear();
  const r = runJson<{ written: number; stop: string }>(
    fillBin,
    ['--file', inst.file('trace_marker_raw'), '--cpu', String(cpu), '--count', String(events), '--size', String(WRITE_BYTES), '--max-ms', String(FILL_MAX_MS)],
    FILL_MAX_MS + 10_000,
    () => (interrupted = true),
  );
  const stats = inst.cpuStats(cpu);
  if (r.written !== events || stats.entries !== events || stats.overrun !== 0) {
    throw new Error(`fill: ${r.written} written (${r.stop}), the kernel holds ${JSON.stringify(stats)}`);
  }
}

function viaCallback(inst: Instance, cpu: number, builder: EventBuilder | null): Sample {
  const source = TraceSource.open(inst, { cpus: [cpu], checkConsumers: false });
  try {
    let n = 0;
    let keep: unknown = null;
    const c0 = cpuNow();
    const t0 = process.hrtime.bigint();
    source.drain((batch) => {
      if (builder === null) n += batch.count;
      else for (let i = 0; i < batch.count; i++, n++) keep = builder.build(batch, i);
    });
    const ns = Number(process.hrtime.bigint() - t0);
    const cpuNs = cpuNow() - c0;
    if (keep === undefined) throw new Error('unreachable');
    return { events: n, ns, cpuNs };
  } finally {
    source.close();
  }
}

async function viaIterator(inst: Instance, way: 'events()' | 'batches()'): Promise<Sample> {
  let n = 0;
  let t0 = 0n;
  let c0 = 0;
  // Staging as large as the kernel buffer: the capture thread never waits for the loop.
  const options = { instance: inst.name!, drain: true, reorderWindowMs: 0, staging: { bytes: 128 << 20 } };
  if (way === 'events()') {
    for await (const ev of events(options)) {
      if (n === 0) {
        c0 = cpuNow();
        t0 = process.hrtime.bigint();
      }
      if (ev.type === 'event') n++;
    }
  } else {
    for await (const chunk of batches(options)) {
      if (n === 0) {
        c0 = cpuNow();
        t0 = process.hrtime.bigint();
      }
      for (const ev of chunk) if (ev.type === 'event') n++;
    }
  }
  return { events: n, ns: Number(process.hrtime.bigint() - t0), cpuNs: cpuNow() - c0 };
}

export async function run(): Promise<void> {
  const tracefs = usableTracefs('api');
  if (tracefs === null) return;
  const count = envInt('TRBENCH_EVENTS', 1_000_000, 10_000, 20_000_000);
  const rounds = envInt('TRBENCH_ROUNDS', 5, 1, 50);
  const cpu = envInt('TRBENCH_CPU', os.availableParallelism() - 1, 0, 4095);
  const bin = compileC(['fill'] as const);
  const onSignal = () => (interrupted = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const inst = tracefs.createUniqueInstance('trbench');
  const samples = new Map<Way, Sample[]>(WAYS.map((w) => [w, []]));
  try {
    setup(inst, cpu, count);
    // The decode context of the callback+decode way, loaded once (events() loads its own before its first event).
    const builder = new EventBuilder(loadDecodeContext({ root: tracefs.root, array: inst.path }));
    for (let round = 0; round <= rounds; round++) {
      // Round 0 warms up (JIT, decode context, capture thread code); the order rotates.
      const order = WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]!);
      for (const way of order) {
        if (interrupted) throw new Error('interrupted');
        fill(inst, bin.fill, cpu, count);
        const s = way === 'callback' || way === 'callback+decode' ? viaCallback(inst, cpu, way === 'callback+decode' ? builder : null) : await viaIterator(inst, way);
        if (s.events !== count) throw new Error(`${way}: ${s.events} events of ${count}`);
        if (round > 0) samples.get(way)!.push(s);
        process.stdout.write(`round ${round} ${way}: ${((s.events / s.ns) * 1e3).toFixed(2)} M events/s wall, ${((s.events / s.cpuNs) * 1e3).toFixed(2)} per CPU second\n`);
      }
    }
  } finally {
    inst.remove();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const wall = (w: Way) => count / (median(samples.get(w)!.map((s) => s.ns)) / 1e9);
  const cpu1 = (w: Way) => count / (median(samples.get(w)!.map((s) => s.cpuNs)) / 1e9);
  console.log(`\n${count} events (raw markers, ${WRITE_BYTES + 8}-byte payloads) on CPU ${cpu}, median of ${rounds} rounds, load average ${os.loadavg()[0]!.toFixed(1)}`);
  console.log('events/s: wall clock, and per CPU second (the process, every thread); ratios: time per event against callback+decode (same work)');
  console.log('way                  wall M/s   ratio     CPU M/s   ratio');
  for (const w of WAYS) {
    console.log(
      `${w.padEnd(18)} ${(wall(w) / 1e6).toFixed(2).padStart(10)}   ${(wall('callback+decode') / wall(w)).toFixed(2).padStart(5)}x ${(cpu1(w) / 1e6).toFixed(2).padStart(10)}   ${(cpu1('callback+decode') / cpu1(w)).toFixed(2).padStart(5)}x`,
    );
  }
  const ratio = wall('callback+decode') / wall('events()');
  const summary = {
    suite: 'api',
    events: count,
    rounds,
    wallRates: Object.fromEntries(WAYS.map((w) => [w, Math.round(wall(w))])),
    cpuRates: Object.fromEntries(WAYS.map((w) => [w, Math.round(cpu1(w))])),
    eventsVsCallbackDecode: Number(ratio.toFixed(3)),
    eventsVsCallbackDecodeCpu: Number((cpu1('callback+decode') / cpu1('events()')).toFixed(3)),
    batchesVsCallbackDecode: Number((wall('callback+decode') / wall('batches()')).toFixed(3)),
    goal: GOAL,
    goalMet: ratio <= GOAL,
    loadAverage: os.loadavg()[0],
  };
  console.log(JSON.stringify(summary));
}

runIfMain(import.meta.url, '--child', async () => {}, run, () => interrupted);

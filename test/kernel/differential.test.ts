// Live differential test: the kernel's own `trace` text is the judge.
//
// For each configuration, in a private instance: enable every event system
// the kernel offers (for this process, its children, kernel threads and
// idle: see traceOnlyOurs), run a bounded workload (test/helpers/workload.ts),
// stop tracing, save the kernel's `trace` text, then consume the raw pages
// (a snapshot by read(), or live mmap / read() readers), render them with
// our pipeline and compare event by event (continuation lines included).
// Prints the per-event match table; every event must be byte-identical,
// except the explained exceptions below (each with its cause).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { HZ_KEY, type KernelConstants } from '../../src/decode/kernel-constants.js';
import { TraceSource } from '../../src/kernel/trace-source.js';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import type { BatchSource } from '../../src/layout/batch-source.js';
import { type DecodeContext, kernelConstantsOf, loadDecodeContext } from '../../src/output/decode-context.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { Recording } from '../../src/recording/recording.js';
import { writeSnapshot } from '../../src/pipeline/snapshot.js';
import {
  type Comparison,
  type Explain,
  type RenderedTrace,
  compareTraces,
  formatSamples,
  formatTable,
  probeVmemmapBase,
  renderEvents,
  splitKernelText,
} from '../helpers/differential.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';
import { type InjectionReport, checkRaceJudge } from '../helpers/race-checks.js';
import { type RaceJudge, type RenderWindow, RenderWindowProbe, explainRaces, pidsUnderTwoNames } from '../helpers/render-races.js';
import { runWorkload } from '../helpers/workload.js';

/**
 * Event systems not enabled, with the reason. Everything else the kernel
 * offers is enabled (syscalls and raw_syscalls included).
 * - ftrace: its events (print, raw_data, function...) are internal and have
 *   no enable switch; print and raw_data come from trace_marker(_raw).
 */
const EXCLUDED_SYSTEMS = new Map([['ftrace', 'internal events, no enable switch']]);

/**
 * kmem's page=%p is `(struct page *)vmemmap_base + pfn`; vmemmap_base is a
 * KASLR-randomised kernel variable that user space cannot read here, so the
 * test measures it first (probeVmemmapBase). Only if that fails do these
 * events render as "[FAILED TO PARSE] field=value..." and count as explained.
 */
const VMEMMAP_EVENTS = /^(kmem:mm_page_(alloc|alloc_extfrag|alloc_zone_locked|free|free_batched|pcpu_drain)|vmscan:mm_vmscan_write_folio)$/;

/**
 * Differences with a known cause that no decoder can remove: the kernel
 * renders the COMM and TGID columns from saved_cmdlines / saved_tgids, and
 * writeback's age= from jiffies, when `trace` is read, and we read the same
 * state a moment later (test/helpers/render-races.ts). Each is accepted only
 * where that state demonstrably changed in between (readings before,
 * during and after the kernel's rendering, and of the tables our side
 * used), and the rest of the line must be
 * identical; checkRaceJudge() proves on this run's own lines that real
 * differences are still caught.
 *
 * Returns the race judge for one comparison, and its self-check on the
 * same run's lines.
 */
function raceJudge(window: RenderWindow, ctx: DecodeContext, kernelText: string) {
  const hz = ctx.constants.values.get(HZ_KEY);
  const clock = { jiffies: ctx.constants.values.get('jiffies') ?? null, hz: hz === undefined ? null : Number(hz) };
  // Events whose print fmt reads the kernel's jiffies (not jiffies_to_msecs() of a field).
  const jiffiesEvents = new Set([...ctx.registry.formats()].filter((f) => /\bjiffies\b/.test(f.printFmt)).map((f) => `${f.system}:${f.name}`));
  const kernelEvents = splitKernelText(kernelText).events;
  return {
    judge: explainRaces(window, pidsUnderTwoNames(kernelEvents), clock, jiffiesEvents),
    check(ours: RenderedTrace): InjectionReport {
      const kernel = new Set(kernelEvents);
      return checkRaceJudge(ours.events.filter((e) => kernel.has(e.text)), kernelEvents, window, clock, jiffiesEvents);
    },
  };
}

function explain(vmemmapKnown: boolean, races: RaceJudge): Explain {
  return (name, ours, kernel) => {
    if (!vmemmapKnown && VMEMMAP_EVENTS.test(name)) return ours.includes('[FAILED TO PARSE]') ? 'vmemmap_base unknown' : null;
    return races(name, ours, kernel)?.join(' + ') ?? null;
  };
}

interface Config {
  name: string;
  clock: string;
  subbufKb: number;
  /** snapshot: writeSnapshot (read()) + Recording; mmap/read: live TraceSource readers. */
  reader: 'snapshot' | 'mmap' | 'read';
  /** Trace options to set (besides hash-ptr, always off). */
  options?: Record<string, boolean>;
  /**
   * A small ring in overwrite mode, so that events are overwritten: the
   * `trace` file then marks where each CPU's buffer starts. Otherwise the
   * ring holds everything (overwrite off: a flood from another process is
   * dropped, never overwrites what is there).
   */
  overrun?: boolean;
}

const CONFIGS: Config[] = [
  { name: 'local clock, 4 KiB sub-buffers, snapshot', clock: 'local', subbufKb: 4, reader: 'snapshot' },
  { name: 'counter clock, live mmap', clock: 'counter', subbufKb: 4, reader: 'mmap' },
  { name: 'mono clock, snapshot', clock: 'mono', subbufKb: 4, reader: 'snapshot' },
  { name: '8 KiB sub-buffers, live read()', clock: 'local', subbufKb: 8, reader: 'read' },
  { name: '64 KiB sub-buffers, live mmap', clock: 'local', subbufKb: 64, reader: 'mmap' },
  {
    name: 'options record-tgid, verbose, sym-offset, sym-addr on, irq-info off, snapshot',
    clock: 'local',
    subbufKb: 4,
    reader: 'snapshot',
    options: { 'record-tgid': true, 'irq-info': false, verbose: true, 'sym-offset': true, 'sym-addr': true },
  },
  { name: 'overwritten events (small ring, overwrite on), snapshot', clock: 'local', subbufKb: 4, reader: 'snapshot', overrun: true },
];

/**
 * Traces this process (its threads and, through event-fork, the
 * workload's children), the kernel's threads (kthreadd's children, and
 * the ones it forks later) and the idle tasks: not other user processes.
 * Otherwise, on a busy machine, their events fill the ring before the
 * workload has run (a fork storm writes about a million events a second),
 * the workload's own events are dropped, and the amount of text to
 * compare grows with the load.
 */
function traceOnlyOurs(inst: Instance): void {
  const pids = new Set<number>([0, 2]);
  for (const tid of fs.readdirSync('/proc/self/task')) pids.add(Number(tid));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === 2) pids.add(Number(entry));
    } catch {
      // the task ended meanwhile
    }
  }
  inst.setOption('event-fork', true);
  inst.writeText('set_event_pid', [...pids].join(' '));
}

/** Set to a directory to keep each configuration's kernel text and ours there. */
const DUMP_DIR = process.env.TRACERING_DIFF_DUMP;

/** Per-CPU ring size: room for the workload several times over (or, to overrun, a fraction of it). */
const BUFFER_KB = 12288;
const OVERRUN_BUFFER_KB = 1024;
const WORKLOAD = { rounds: 3, maxMs: 1500 };
/** Systems whose events the workload always produces. */
const REQUIRED_SYSTEMS = ['sched', 'timer', 'kmem', 'signal', 'raw_syscalls', 'syscalls', 'ext4', 'filemap', 'net', 'sock', 'tcp', 'skb', 'ftrace'];

let vmemmapBase: bigint | null | undefined;

/** Measured once per run (same boot for every configuration). */
function vmemmap(tracefs: Tracefs): bigint | null {
  if (vmemmapBase === undefined) {
    using inst = testInstance(tracefs);
    const pageSize = kernelConstantsOf(tracefs.root).typeSizes.get('struct page');
    vmemmapBase = pageSize === undefined ? null : probeVmemmapBase(inst, pageSize);
  }
  return vmemmapBase;
}

function dump(config: Config, kernelText: string, ours: RenderedTrace): void {
  if (DUMP_DIR === undefined) return;
  const base = join(DUMP_DIR, config.name.replace(/[^A-Za-z0-9]+/g, '-'));
  fs.mkdirSync(DUMP_DIR, { recursive: true });
  fs.writeFileSync(`${base}.kernel.txt`, kernelText);
  fs.writeFileSync(`${base}.ours.txt`, ours.header + ours.events.map((e) => e.text).join(''));
}

async function runConfig(t: TestContext, tracefs: Tracefs, config: Config): Promise<void> {
  const started = performance.now();
  const phases: string[] = [];
  let lap = started;
  const phase = (name: string) => {
    const now = performance.now();
    phases.push(`${name} ${((now - lap) / 1000).toFixed(1)}`);
    lap = now;
  };
  const base = vmemmap(tracefs);
  phase('probe');
  if (base === null) t.diagnostic('vmemmap_base could not be measured: kmem:mm_page_* events are expected to differ');
  using inst = testInstance(tracefs);
  const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-diff-'));
  try {
    inst.tracingOn = false;
    // hash-ptr (on by default) makes the kernel print plain %p hashed with a
    // boot-time secret key: nothing outside the kernel can reproduce it.
    inst.setOption('hash-ptr', false);
    inst.setOption('overwrite', config.overrun ?? false);
    for (const [name, on] of Object.entries(config.options ?? {})) inst.setOption(name, on);
    if (config.subbufKb !== inst.subbufSizeKb) inst.setSubbufSizeKb(config.subbufKb);
    inst.setBufferSizeKb(config.overrun ? OVERRUN_BUFFER_KB : BUFFER_KB);
    if (config.clock !== inst.traceClock) inst.traceClock = config.clock;
    const systems: string[] = [];
    const refused: string[] = [];
    for (const system of inst.eventSystems().filter((s) => !EXCLUDED_SYSTEMS.has(s))) {
      try {
        inst.enableEvents([system]);
        systems.push(system);
      } catch (error) {
        refused.push(`${system} (${(error as Error).message})`);
      }
    }
    if (refused.length > 0) t.diagnostic(`systems the kernel would not enable: ${refused.join(', ')}`);
    traceOnlyOurs(inst);
    inst.clear();
    phase('setup');

    const work = fs.mkdtempSync(join(scratch, 'work-'));
    inst.tracingOn = true;
    let workload;
    try {
      workload = await runWorkload({ dir: work, array: inst, ...WORKLOAD });
    } finally {
      inst.tracingOn = false;
    }
    phase('workload');
    const cpus = inst.cpus();
    const stats = cpus.map((cpu) => inst.cpuStats(cpu));
    const overrun = stats.reduce((a, s) => a + s.overrun, 0);
    if (config.overrun) assert.ok(overrun > 0, 'the small ring overran');
    else for (const [i, s] of stats.entries()) assert.equal(s.overrun, 0, `cpu ${cpus[i]}: nothing may be overwritten`);
    // The `trace` file's "##### CPU N buffer started ####" lines (TRACE_FILE_ANNOTATE).
    const annotate = overrun > 0 && inst.option('annotate');
    const dropped = stats.reduce((a, s) => a + s.droppedEvents, 0);
    const figures = {
      entriesInBuffer: stats.reduce((a, s) => a + s.entries, 0),
      entriesWritten: stats.reduce((a, s) => a + s.entries + s.overrun, 0),
      cpus: cpus.length,
    };
    // The kernel renders COMM, TGID and age= from global state as it is read: record that state around it.
    const raceProbe = new RenderWindowProbe(tracefs.root);
    const kernelText = raceProbe.readKernelText(inst.file('trace'));
    phase('read trace');

    const withVmemmap = (k: KernelConstants): KernelConstants =>
      base === null ? k : { ...k, values: new Map([...k.values, ['vmemmap_base', base]]) };
    let comparison: Comparison;
    let raceCheck: InjectionReport;
    let eventsRendered: number;
    if (config.reader === 'snapshot') {
      const dir = join(scratch, 'snapshot');
      await writeSnapshot(inst, dir, { tracefsRoot: tracefs.root });
      const recording = Recording.open(dir);
      assert.equal(recording.clock, config.clock);
      assert.equal(recording.layout.subbufSize, config.subbufKb * 1024);
      const ctx = loadDecodeContext({ root: dir, constants: withVmemmap(kernelConstantsOf(dir)) });
      const races = raceJudge(raceProbe.finish(dir), ctx, kernelText);
      const readers = recording.openReaders();
      try {
        const ours = renderEvents(readers, ctx, { ...figures, cpus: recording.meta?.onlineCpus ?? cpus.length }, annotate);
        phase('consume, render');
        comparison = compareTraces(kernelText, ours, explain(base !== null, races.judge));
        raceCheck = races.check(ours);
        phase('compare');
        assert.equal(ours.losses > 0, overrun > 0, 'loss reports exactly when events were overwritten');
        eventsRendered = ours.events.length;
        dump(config, kernelText, ours);
        // The timeline renderer (what `tracering report` prints) gives the same text.
        const again = recording.openReaders();
        let full = '';
        try {
          // As `tracering report` prints a recording: the trace file has no loss markers.
          const timeline = new TimelineRenderer(again, ctx, {
            format: 'text',
            write: (s) => (full += s),
            lostMarkers: false,
            annotateCpuStart: annotate,
          });
          timeline.header({ ...figures, cpus: recording.meta?.onlineCpus ?? cpus.length });
          timeline.run();
        } finally {
          for (const r of again) r.close();
        }
        assert.equal(full, ours.header + ours.events.map((e) => e.text).join(''));
      } finally {
        for (const r of readers) r.close();
      }
    } else {
      using source = TraceSource.open(inst, { mode: config.reader });
      assert.equal(source.mode, config.reader);
      // The global files from a copy, so that the race judge knows the very table our side used.
      const globals = join(scratch, 'globals');
      fs.mkdirSync(globals);
      // (Read and written: tracefs files say they are empty, so copyFile would copy nothing.)
      for (const file of ['saved_cmdlines', 'saved_tgids', 'printk_formats']) fs.writeFileSync(join(globals, file), fs.readFileSync(join(tracefs.root, file)));
      const ctx = loadDecodeContext({ root: globals, array: inst.path, constants: withVmemmap(kernelConstantsOf(tracefs.root)) });
      const races = raceJudge(raceProbe.finish(globals), ctx, kernelText);
      const ours = renderEvents(source.readers as readonly BatchSource[], ctx, figures, annotate);
      phase('consume, render');
      comparison = compareTraces(kernelText, ours, explain(base !== null, races.judge));
      raceCheck = races.check(ours);
      phase('compare');
      assert.equal(ours.losses, 0);
      eventsRendered = ours.events.length;
      dump(config, kernelText, ours);
      assert.equal(source.finish().total.lost, 0);
    }

    phase('rest');
    // --- report ---------------------------------------------------------
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    t.diagnostic(
      `${config.name}: ${workload.rounds} workload rounds, ${eventsRendered} events ` +
        `(${dropped} dropped by a full buffer, ${overrun} overwritten), ${systems.length} systems enabled; ${seconds} s (${phases.join(', ')})`,
    );
    for (const line of formatTable(comparison)) t.diagnostic(line);

    // --- verdict ---------------------------------------------------------
    for (const s of comparison.perEvent.values()) {
      if (s.explained === 0) continue;
      t.diagnostic(`explained: ${s.name}: ${s.explained} of ${s.total}: ${[...s.causes].map(([c, n]) => `${n} by ${c}`).join(', ')}`);
    }
    for (const line of formatSamples(comparison)) t.diagnostic(line);
    t.diagnostic(`race judge: ${raceCheck.cases} injected cases on this run's lines, ${raceCheck.failures.length} judged wrongly`);
    assert.deepEqual(raceCheck.failures, [], 'injected differences the race judge got wrong');
    const unexplained = [...comparison.perEvent.values()].filter((s) => s.samples.length > 0).map((s) => s.name);
    assert.ok(comparison.headerMatches, 'header');
    assert.equal(comparison.orderBreak, -1, 'events in the kernel order');
    assert.deepEqual(comparison.kernelOnly, [], 'events the kernel printed and we did not');
    assert.deepEqual(comparison.ourOnly, [], 'events we printed and the kernel did not');
    assert.deepEqual(unexplained, [], 'events whose text differs without a known cause');
    assert.equal(comparison.ourEvents, comparison.kernelEvents);
    const seenSystems = new Set([...comparison.perEvent.keys()].map((n) => n.split(':')[0]));
    // (Overwritten rings keep only the end of the workload.)
    const required = config.overrun ? [] : REQUIRED_SYSTEMS.filter((s) => s === 'ftrace' || systems.includes(s));
    assert.deepEqual(required.filter((s) => !seenSystems.has(s)), [], 'systems the workload must exercise');
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

describe('differential test against the kernel text', () => {
  for (const config of CONFIGS) {
    it(config.name, async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      await runConfig(t, tracefs, config);
    });
  }
});

// Line-by-line comparison of the kernel's `trace` text with ours, per event.
//
// The kernel's text is cut into events at lines that start with the line
// prefix (task-pid, [tgid], [cpu], [flags], timestamp: see PREFIX); other
// lines (a print event's embedded newlines, hex dumps) continue the event
// before them. Our side
// renders event by event, so each of our events knows its system:event.
// Events are paired by (pid, cpu, timestamp text, occurrence), so one bad
// event does not shift the rest; the order of the pairs is checked apart.

import { EventRegistry } from '../../src/decode/registry.js';
import type { TraceArray } from '../../src/kernel/trace-array.js';
import { TraceSource } from '../../src/kernel/trace-source.js';
import type { DecodeContext } from '../../src/output/decode-context.js';
import type { HeaderFigures } from '../../src/output/kernel-text.js';
import { CpuMerger } from '../../src/output/merge.js';
import type { BatchSource } from '../../src/layout/batch-source.js';

/** One event as we render it. */
export interface OurEvent {
  /** "system:event" of the record's format ("?:<id>" if unknown). */
  name: string;
  text: string;
}

export interface RenderedTrace {
  header: string;
  events: OurEvent[];
  /** Loss reports the readers surfaced (none when nothing was overwritten). */
  losses: number;
}

/**
 * Renders every event the sources hold, one string per event, in timeline
 * order. With `annotate`, the `trace` file's "##### CPU N buffer started"
 * lines are added, at the end of the event before (where the kernel's text,
 * cut at line prefixes, has them).
 */
export function renderEvents(sources: readonly BatchSource[], ctx: DecodeContext, figures: HeaderFigures, annotate = false): RenderedTrace {
  const started = new Set<number>();
  const names = new Map<number, string>();
  const nameOf = (id: number): string => {
    let n = names.get(id);
    if (n === undefined) {
      const f = ctx.renderer.plan(id).format;
      n = f === null ? `?:${id}` : `${f.system}:${f.name}`;
      names.set(id, n);
    }
    return n;
  };
  const events: OurEvent[] = [];
  let losses = 0;
  new CpuMerger(sources).run({
    event: (batch, i) => {
      const id = batch.view.getUint16(batch.offset(i), ctx.littleEndian);
      if (annotate && !started.has(batch.cpu)) {
        started.add(batch.cpu);
        const last = events[events.length - 1];
        if (last !== undefined) last.text += ctx.text.cpuStarted(batch.cpu);
      }
      events.push({ name: nameOf(id), text: ctx.text.line(batch, i) });
    },
    lost: () => losses++,
  });
  return { header: ctx.text.header(figures), events, losses };
}

// "%16s-%-7d " ["(%7d) " tgid] "[%03d] " [five flags (irq-info)] " %5lu.%06lu: " or " %12llu: "
const PREFIX = /^.{16}-(\d+) *(?:\((?: *\d+|-------)\) )?\[(\d{3,})\] (?:\S{5} )? *(\d+(?:\.\d{6})?): /;

/** The kernel's `trace` text: its header lines and one string per event (with its newline). */
export function splitKernelText(text: string): { header: string; events: string[] } {
  const lines = text.split(/(?<=\n)/);
  let i = 0;
  let header = '';
  while (i < lines.length && lines[i]!.startsWith('#')) header += lines[i++];
  const events: string[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (PREFIX.test(line) || events.length === 0) events.push(line);
    else events[events.length - 1] += line;
  }
  return { header, events };
}

function keyOf(text: string): string | null {
  const m = PREFIX.exec(text);
  return m === null ? null : `${m[1]}|${m[2]}|${m[3]}`;
}

/** The event name the kernel printed after the prefix ("name: " or an ftrace body). */
function kernelName(text: string): string {
  const rest = text.replace(PREFIX, '');
  return /^([A-Za-z0-9_]+): /.exec(rest)?.[1] ?? '?';
}

export interface Mismatch {
  ours: string | null;
  kernel: string | null;
}

export interface EventStats {
  name: string;
  total: number;
  /** Byte-identical. */
  matched: number;
  /** Different, in a way `explain` accepted. */
  explained: number;
  /** How many of the explained differences each cause accounted for. */
  causes: Map<string, number>;
  /** Unexplained mismatches (the first few), then one explained one. */
  samples: Mismatch[];
  explainedSample: Mismatch | null;
}

/** Names the known cause of a difference between our text and the kernel's, or returns null. */
export type Explain = (name: string, ours: string, kernel: string) => string | null;

export interface Comparison {
  headerMatches: boolean;
  kernelHeader: string;
  ourHeader: string;
  kernelEvents: number;
  ourEvents: number;
  matched: number;
  /** Events in the kernel's text that we did not produce, and ours it did not print. */
  kernelOnly: Mismatch[];
  ourOnly: Mismatch[];
  /** First index where the order of paired events differs, or -1. */
  orderBreak: number;
  perEvent: Map<string, EventStats>;
}

const SAMPLES = 3;

export function compareTraces(kernelText: string, ours: RenderedTrace, explain: Explain = () => null): Comparison {
  const kernel = splitKernelText(kernelText);
  const queues = new Map<string, number[]>();
  kernel.events.forEach((e, i) => {
    const k = keyOf(e) ?? `?${i}`;
    let q = queues.get(k);
    if (q === undefined) queues.set(k, (q = []));
    q.push(i);
  });
  const perEvent = new Map<string, EventStats>();
  const stats = (name: string): EventStats => {
    let s = perEvent.get(name);
    if (s === undefined) perEvent.set(name, (s = { name, total: 0, matched: 0, explained: 0, causes: new Map(), samples: [], explainedSample: null }));
    return s;
  };
  const used = new Uint8Array(kernel.events.length);
  const ourOnly: Mismatch[] = [];
  const pairedKernelIndex: number[] = [];
  let matched = 0;
  for (const ev of ours.events) {
    const s = stats(ev.name);
    s.total++;
    const k = keyOf(ev.text);
    const q = k === null ? undefined : queues.get(k);
    const ki = q?.shift();
    if (ki === undefined) {
      if (s.samples.length < SAMPLES) s.samples.push({ ours: ev.text, kernel: null });
      if (ourOnly.length < SAMPLES) ourOnly.push({ ours: ev.text, kernel: null });
      continue;
    }
    used[ki] = 1;
    pairedKernelIndex.push(ki);
    const kt = kernel.events[ki]!;
    if (kt === ev.text) {
      s.matched++;
      matched++;
      continue;
    }
    const cause = explain(ev.name, ev.text, kt);
    if (cause !== null) {
      s.explained++;
      s.causes.set(cause, (s.causes.get(cause) ?? 0) + 1);
      s.explainedSample ??= { ours: ev.text, kernel: kt };
    } else if (s.samples.length < SAMPLES) s.samples.push({ ours: ev.text, kernel: kt });
  }
  const kernelOnly: Mismatch[] = [];
  kernel.events.forEach((e, i) => {
    if (used[i]) return;
    stats(`kernel-only:${kernelName(e)}`).total++;
    if (kernelOnly.length < SAMPLES) kernelOnly.push({ ours: null, kernel: e });
  });
  let orderBreak = -1;
  for (let i = 1; i < pairedKernelIndex.length && orderBreak < 0; i++) {
    if (pairedKernelIndex[i]! < pairedKernelIndex[i - 1]!) orderBreak = i;
  }
  return {
    headerMatches: kernel.header === ours.header,
    kernelHeader: kernel.header,
    ourHeader: ours.header,
    kernelEvents: kernel.events.length,
    ourEvents: ours.events.length,
    matched,
    kernelOnly,
    ourOnly,
    orderBreak,
    perEvent,
  };
}

/** A table of per-event match rates, worst first, then by name. */
export function formatTable(c: Comparison): string[] {
  const rows = [...c.perEvent.values()].sort((a, b) => a.matched / a.total - b.matched / b.total || a.name.localeCompare(b.name));
  const width = Math.max(10, ...rows.map((r) => r.name.length));
  const out = [`${'event'.padEnd(width)}  identical/total     rate  explained`];
  for (const r of rows) {
    const rate = ((100 * r.matched) / r.total).toFixed(2).padStart(7);
    out.push(`${r.name.padEnd(width)}  ${`${r.matched}/${r.total}`.padStart(15)}  ${rate}%${r.explained > 0 ? `  ${r.explained}` : ''}`);
  }
  const explained = rows.reduce((a, r) => a + r.explained, 0);
  const total = Math.max(c.ourEvents, c.kernelEvents);
  const rate = total === 0 ? '-' : ((100 * c.matched) / total).toFixed(3);
  out.push(
    `all: ${c.matched} of ${c.kernelEvents} kernel events byte-identical (${rate}%), ${explained} differ as explained, ` +
      `${total - c.matched - explained} unexplained; ${rows.length} event types; header ${c.headerMatches ? 'identical' : 'DIFFERS'}`,
  );
  return out;
}

/** Unexplained mismatches (and one explained example per event) as readable text. */
export function formatSamples(c: Comparison): string[] {
  const out: string[] = [];
  const show = (label: string, s: string | null) => out.push(`  ${label}: ${s === null ? '(none)' : JSON.stringify(s)}`);
  for (const s of c.perEvent.values()) {
    if (s.explainedSample !== null) {
      const causes = [...s.causes].map(([cause, n]) => `${n} ${cause}`).join(', ');
      out.push(`${s.name}: ${s.explained} of ${s.total} differ as explained (${causes}), e.g.`);
      show('ours  ', s.explainedSample.ours);
      show('kernel', s.explainedSample.kernel);
    }
    if (s.samples.length === 0) continue;
    out.push(`${s.name}: ${s.total - s.matched - s.explained} of ${s.total} differ`);
    for (const m of s.samples) {
      show('ours  ', m.ours);
      show('kernel', m.kernel);
    }
  }
  for (const m of c.kernelOnly) show('kernel only', m.kernel);
  if (!c.headerMatches) {
    show('our header   ', c.ourHeader);
    show('kernel header', c.kernelHeader);
  }
  return out;
}

/**
 * vmemmap_base of the running kernel, measured: kmem's mm_page_* print fmts
 * compute `page=%p` as `(struct page *)vmemmap_base + pfn`, and
 * vmemmap_base (a KASLR-randomised variable) is not exposed to user space
 * here (no /proc/kcore, no CONFIG_KALLSYMS_ALL). pagemap:mm_lru_insertion
 * records both a folio pointer and its pfn, so
 * vmemmap_base = folio - pfn * sizeof(struct page). Captured in a private
 * instance while this process touches fresh memory; null if no record
 * showed up, the formats differ, or the records disagree.
 */
export function probeVmemmapBase(inst: TraceArray, pageSize: number): bigint | null {
  if (!inst.exists('events/pagemap/mm_lru_insertion')) return null;
  const format = [...EventRegistry.fromDirectory(inst.path, { systems: ['pagemap'] }).formats()].find((f) => f.name === 'mm_lru_insertion');
  const folio = format?.byName.get('folio');
  const pfn = format?.byName.get('pfn');
  if (format === undefined || folio?.size !== 8 || pfn?.size !== 8) return null;
  inst.setBufferSizeKb(1024);
  inst.enableEvents(['pagemap:mm_lru_insertion']);
  // Fresh anonymous pages go onto the LRU in per-CPU batches: touch plenty.
  for (let i = 0; i < 4; i++) Buffer.alloc(8 << 20, 1);
  inst.tracingOn = false;
  const bases = new Set<bigint>();
  const source = TraceSource.open(inst, { mode: 'read' });
  try {
    source.drain((batch) => {
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset(i);
        if (batch.view.getUint16(off, true) !== format.id) continue;
        const f = batch.view.getBigUint64(off + folio.offset, true);
        const p = batch.view.getBigUint64(off + pfn.offset, true);
        bases.add(BigInt.asUintN(64, f - p * BigInt(pageSize)));
      }
    });
  } finally {
    source.close();
  }
  return bases.size === 1 ? [...bases][0]! : null;
}

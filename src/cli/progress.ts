// The progress line of a recording (stderr, redrawn in place on a
// terminal) and its closing summary. Losses are highlighted, never hidden.

import type { RecordProgress, RecordSummary } from '../pipeline/record.js';
import { table } from './format.js';

const RED = '\x1b[1;31m';
const RESET = '\x1b[0m';

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export class ProgressLine {
  readonly #tty: boolean;
  readonly #write: (s: string) => void;
  readonly #intervalMs: number;
  #last = -Infinity;
  #prev: { at: number; events: Map<number, number> } | null = null;
  #shown = false;
  #lastDecision = '';

  constructor(options: { tty: boolean; intervalMs?: number; write?: (s: string) => void }) {
    this.#tty = options.tty;
    this.#intervalMs = options.intervalMs ?? (options.tty ? 250 : 1000);
    this.#write = options.write ?? ((s) => process.stderr.write(s));
  }

  /** Shows `p` if the interval has passed. `writtenBytes`: what the outputs wrote so far. */
  update(p: RecordProgress, writtenBytes: number): void {
    if (p.elapsedMs - this.#last < this.#intervalMs) return;
    this.#last = p.elapsedMs;
    const prev = this.#prev;
    const dt = prev === null ? p.elapsedMs : p.elapsedMs - prev.at;
    const perCpu = p.cpus.map((c) => {
      const before = prev?.events.get(c.cpu) ?? 0;
      return `cpu${c.cpu} ${rate(dt > 0 ? ((c.counters.events - before) * 1000) / dt : 0)}/s`;
    });
    this.#prev = { at: p.elapsedMs, events: new Map(p.cpus.map((c) => [c.cpu, c.counters.events])) };
    const lost = p.cpus.reduce((n, c) => n + c.counters.lost + c.stagingLost, 0);
    const dropped = p.cpus.reduce((n, c) => n + c.counters.dropped, 0);
    const losses = lost + dropped;
    const lossText = `lost ${lost}${dropped > 0 ? ` dropped ${dropped}` : ''}`;
    const d = p.decisions?.at(-1);
    if (d !== undefined) this.#lastDecision = `${d.cpu < 0 ? 'all' : `cpu${d.cpu}`} ${d.kind} ${d.from}->${d.to}`;
    const line =
      `${(p.elapsedMs / 1000).toFixed(1)}s  ${perCpu.join('  ')}  ${(writtenBytes / 1048576).toFixed(1)} MB  ` +
      (losses > 0 && this.#tty ? `${RED}${lossText}${RESET}` : lossText) +
      (p.stagingFill > 0.5 ? `  staging ${(p.stagingFill * 100).toFixed(0)}%` : '') +
      (this.#lastDecision !== '' ? `  [${this.#lastDecision}]` : '');
    if (this.#tty) this.#write(`\r\x1b[K${line}`);
    else this.#write(`${line}\n`);
    this.#shown = true;
  }

  /** Ends the line (before the summary). */
  done(): void {
    if (this.#shown && this.#tty) this.#write('\n');
  }
}

export function summaryText(s: RecordSummary, tty: boolean): string {
  const rows = s.cpus.map((c) => [c.cpu, c.mode, c.events, c.lost, c.dropped, c.stagingLost, c.bytes]);
  const t = s.total;
  rows.push(['total', s.mode, t.events, t.lost, t.dropped, t.stagingLost, t.bytes]);
  let text = table(['cpu', 'mode', 'events', 'lost', 'dropped', 'staging-lost', 'bytes'], rows);
  const losses = t.lost + t.dropped + t.stagingLost;
  if (losses > 0) {
    const msg = `events were lost: ${t.lost} overwritten in the kernel buffer, ${t.dropped} refused by a full buffer, ${t.stagingLost} dropped while the output was behind`;
    text += `\n${tty ? `${RED}${msg}${RESET}` : msg}`;
  }
  for (const d of s.decisions) text += `\nauto: ${d.cpu < 0 ? 'buffer' : `CPU ${d.cpu}`} ${d.kind} ${d.from} -> ${d.to}: ${d.reason}`;
  if (s.advice !== null) text += `\nadvice: ${s.advice.reason} (next time: -b ${s.advice.bufferKb})`;
  for (const r of s.reports) if (r.path !== null) text += `\nwrote ${r.path} (${r.kind}, ${(r.bytes / 1048576).toFixed(2)} MB, ${r.events} events)`;
  for (const n of s.notes) text += `\nnote: ${n}`;
  return `${text}\n`;
}

/** The summary as JSON: per CPU and total counters, the outputs, the end reason. */
export function summaryJson(s: RecordSummary): unknown {
  const counters = (c: RecordSummary['cpus'][number]) => ({
    cpu: c.cpu,
    mode: c.mode,
    events: c.events,
    bytes: c.bytes,
    subbufs: c.subbufs,
    lost: c.lost,
    dropped: c.dropped,
    stagingLost: c.stagingLost,
  });
  return {
    instance: s.instance,
    created: s.created,
    mode: s.mode,
    clock: s.clock,
    reason: s.reason,
    elapsedMs: s.elapsedMs,
    cpus: s.cpus.map(counters),
    total: {
      events: s.total.events,
      bytes: s.total.bytes,
      subbufs: s.total.subbufs,
      lost: s.total.lost,
      dropped: s.total.dropped,
      stagingLost: s.total.stagingLost,
    },
    outputs: s.reports.map((r) => ({ kind: r.kind, path: r.path, bytes: r.bytes, events: r.events, notes: r.notes })),
    command: s.command,
    decisions: s.decisions,
    advice: s.advice,
    notes: s.notes,
  };
}

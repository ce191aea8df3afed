// Verification helpers for bench/report.ts: run a text-producing command
// (tracering report, trace-cmd report) with its output piped here, and
// count its event lines per CPU and keep a sample of them, without holding
// the whole output (hundreds of MB) in memory.

import { spawn } from 'node:child_process';

/** What identifies an event line in both tools' text: task pid, CPU, timestamp (seconds.micros). */
export interface LineKey {
  pid: number;
  cpu: number;
  ts: string;
  line: string;
}

export interface LineScan {
  /** Every line of stdout. */
  lines: number;
  /** Lines that look like an event (a "-PID [CPU]" then a "seconds.micros:" timestamp). */
  events: number;
  /** Event lines per CPU number. */
  perCpu: Map<number, number>;
  /** Lines that are neither events nor known headers (the first few). */
  strays: string[];
  strayCount: number;
  /** Event number (0-based) -> key, for every `sampleEvery`-th event. */
  samples: Map<number, LineKey>;
  stderr: string;
  status: number | null;
  signal: string | null;
  ms: number;
}

// "comm-PID [CPU] flags? seconds.micros: ..."; the comm may contain anything,
// so the first "-PID [CPU]" followed by a timestamp is taken.
const EVENT = /-(\d+)\s+\[(\d+)\]\s+(?:\S+\s+)?(\d+\.\d+): /;

/**
 * Runs `cmd args` (stdin ignored, stdout piped), bounded by `timeoutMs`
 * (SIGKILL), and scans its output. `header(line)` says which non-event
 * lines are expected headers.
 */
export function scanCommand(
  cmd: string,
  args: string[],
  options: { timeoutMs: number; sampleEvery: number; header: (line: string) => boolean },
): Promise<LineScan> {
  const started = performance.now();
  const scan: LineScan = {
    lines: 0,
    events: 0,
    perCpu: new Map(),
    strays: [],
    strayCount: 0,
    samples: new Map(),
    stderr: '',
    status: null,
    signal: null,
    ms: 0,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    let rest = '';
    const line = (text: string) => {
      scan.lines++;
      const m = EVENT.exec(text);
      if (m === null) {
        if (!options.header(text)) {
          scan.strayCount++;
          if (scan.strays.length < 5) scan.strays.push(text.slice(0, 200));
        }
        return;
      }
      const cpu = Number(m[2]);
      scan.perCpu.set(cpu, (scan.perCpu.get(cpu) ?? 0) + 1);
      if (scan.events % options.sampleEvery === 0) {
        scan.samples.set(scan.events, { pid: Number(m[1]), cpu, ts: m[3]!, line: text.slice(0, 240) });
      }
      scan.events++;
    };
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      let start = 0;
      let text = rest + chunk;
      for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
        line(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      text = '';
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (scan.stderr.length < 4000) scan.stderr += chunk;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      if (rest.length > 0) line(rest);
      scan.status = status;
      scan.signal = signal;
      scan.ms = performance.now() - started;
      resolve(scan);
    });
  });
}

export interface SampleComparison {
  compared: number;
  /** Same pid, CPU and timestamp at the same position. */
  identical: number;
  /** Different event at that position, but the same timestamp (ordering of equal-time events). */
  ties: number;
  /** Positions where even the timestamps differ (a real disagreement). */
  mismatches: Array<{ index: number; ours: string; theirs: string }>;
}

/**
 * Compares the events both tools print at the same positions of the
 * timeline. Both order events by timestamp, so the n-th timestamp must agree
 * even where equal timestamps are ordered differently.
 */
export function compareSamples(ours: Map<number, LineKey>, theirs: Map<number, LineKey>): SampleComparison {
  const result: SampleComparison = { compared: 0, identical: 0, ties: 0, mismatches: [] };
  for (const [index, a] of ours) {
    const b = theirs.get(index);
    if (b === undefined) continue;
    result.compared++;
    if (a.ts !== b.ts) result.mismatches.push({ index, ours: a.line, theirs: b.line });
    else if (a.pid === b.pid && a.cpu === b.cpu) result.identical++;
    else result.ties++;
  }
  return result;
}

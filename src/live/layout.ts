// Lays a LiveFrame out on a grid of `columns` x `rows` cells: styled lines,
// each exactly `columns` cells wide, no more than `rows` of them. Pure: the
// terminal driver turns the lines into ANSI (ansi.ts), --once into plain
// text. Every character used is one cell wide (names from traces are
// reduced to printable ASCII), so padding by length is padding by width.
//
//   tracering top  inst  clock local  up 00:01:23  every 1.0 s  self 0.8% CPU
//   since start: lost 0  dropped 0  buffer 1408 KiB/CPU  sub-buffer 4 KiB
//   CPU   mode  events/s    MB/s  fill      lost   dropped  last 60 s
//   cpu0  mmap    12.3k    0.34    3%         0         0  ▁▂▃▄▅▆▇█▇▆
//   ...
//   EVENTS  sort: rate                  events/s       total  share
//   sched:sched_switch                    410.2k      12.3M  45.1%
//   q quit  p pause  z zero  s sort  e events  t tasks  ? help

import type { LiveFrame, RatePoint, RateRow } from './model.js';

export type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan' | 'inverse' | 'loss';

export interface Span {
  readonly text: string;
  readonly style?: Style;
}

export type Line = readonly Span[];

export interface GridSize {
  readonly columns: number;
  readonly rows: number;
}

/** The smallest grid the view lays out on; below it a one-line notice. */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 12;

const SPARK = ['\u2581', '\u2582', '\u2583', '\u2584', '\u2585', '\u2586', '\u2587', '\u2588'];

/** Printable ASCII only: comms and names come from traces. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** 12345 -> '12.3k'; below 1000 the integer. */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** A loss count: exact while it fits the column. */
function exact(n: number, width: number): string {
  const s = String(n);
  return s.length <= width ? s : compact(n);
}

function sizeText(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : bytes % 1024 === 0 ? `${bytes >> 10} KiB` : `${bytes} B`;
}

function kbText(kb: number): string {
  return kb % 1024 === 0 ? `${kb / 1024} MiB` : `${kb} KiB`;
}

function clockText(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

function padEnd(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

function padStart(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : ' '.repeat(width - text.length) + text;
}

/** Fits a line to exactly `columns` cells: cut at the edge, padded with spaces. */
export function fit(spans: readonly Span[], columns: number): Span[] {
  const out: Span[] = [];
  let used = 0;
  for (const s of spans) {
    if (used >= columns) break;
    const text = s.text.length > columns - used ? s.text.slice(0, columns - used) : s.text;
    if (text.length === 0) continue;
    out.push(s.style === undefined ? { text } : { text, style: s.style });
    used += text.length;
  }
  if (used < columns) out.push({ text: ' '.repeat(columns - used) });
  return out;
}

/** The rates of the last `windowMs` before `nowMs` in `cells` cells (max per cell), scaled to the window's peak. */
export function sparkline(history: readonly RatePoint[], nowMs: number, windowMs: number, cells: number): string {
  if (cells <= 0) return '';
  const values = new Array<number>(cells).fill(-1);
  const start = nowMs - windowMs;
  for (const p of history) {
    if (p.atMs <= start || p.atMs > nowMs) continue;
    const cell = Math.min(cells - 1, Math.floor(((p.atMs - start) * cells) / windowMs - 1e-9));
    if (p.perSec > (values[cell] as number)) values[cell] = p.perSec;
  }
  const peak = Math.max(0, ...values);
  let out = '';
  for (const v of values) {
    if (v < 0) out += ' ';
    else if (peak === 0 || v === 0) out += SPARK[0];
    else out += SPARK[Math.max(1, Math.min(7, Math.ceil((v / peak) * 7)))];
  }
  return out;
}

// Column widths of the CPU table.
const W_LABEL = 6;
const W_MODE = 5;
const W_RATE = 9;
const W_MBS = 8;
const W_FILL = 6;
const W_LOSS = 10;
const FIXED = W_LABEL + W_MODE + W_RATE + W_MBS + W_FILL + W_LOSS * 2 + 2;

function rateRow(row: RateRow, frame: LiveFrame, sparkCells: number, windowMs: number): Span[] {
  const fillStyle: Style | undefined = row.fillPercent >= 80 ? 'red' : row.fillPercent >= 50 ? 'yellow' : undefined;
  const rate = row.eventsPerSec === null ? '-' : compact(row.eventsPerSec);
  const mbs = row.bytesPerSec === null ? '-' : (row.bytesPerSec / 1e6).toFixed(2);
  const spans: Span[] = [
    { text: padEnd(printable(row.label), W_LABEL), style: 'bold' },
    { text: padEnd(row.mode === 'all' ? '' : row.mode, W_MODE), ...(row.mode === 'read' ? { style: 'cyan' as const } : row.mode === 'ring' ? { style: 'dim' as const } : {}) },
    { text: padStart(rate, W_RATE) },
    { text: padStart(mbs, W_MBS) },
    { text: padStart(`${Math.round(row.fillPercent)}%`, W_FILL), ...(fillStyle ? { style: fillStyle } : {}) },
    { text: padStart(exact(row.lost, W_LOSS - 1), W_LOSS), ...(row.lost > 0 ? { style: 'loss' as const } : {}) },
    { text: padStart(exact(row.dropped, W_LOSS - 1), W_LOSS), ...(row.dropped > 0 ? { style: 'loss' as const } : {}) },
    { text: '  ' },
  ];
  if (sparkCells > 0) spans.push({ text: sparkline(row.history, frame.atMs, windowMs, sparkCells), style: 'green' });
  return spans;
}

function header(frame: LiveFrame, columns: number): Span[][] {
  const buffer = frame.buffer === '' ? 'top level' : printable(frame.buffer);
  const first: Span[] = [{ text: 'tracering top', style: 'bold' }];
  if (frame.paused) first.push({ text: ' ' }, { text: 'PAUSED', style: 'inverse' });
  first.push({
    text: `  ${buffer}  clock ${printable(frame.clock)}  up ${clockText(frame.elapsedMs)}  every ${(frame.intervalMs / 1000).toFixed(1)} s  self ${frame.selfCpuPercent.toFixed(1)}% CPU`,
  });
  const sizes = frame.subbufSizes.map(sizeText).join('/');
  const kbs = frame.bufferKbs.map(kbText).join('/');
  // Losses first: a narrow terminal cuts the end of the line.
  const second: Span[] = [
    { text: 'since start: ' },
    { text: `lost ${frame.lostSinceStart}`, ...(frame.lostSinceStart > 0 ? { style: 'loss' as const } : {}) },
    { text: '  ' },
    { text: `dropped ${frame.droppedSinceStart}`, ...(frame.droppedSinceStart > 0 ? { style: 'loss' as const } : {}) },
    { text: `  buffer ${kbs || '?'}/CPU  sub-buffer ${sizes || '?'}` },
  ];
  return [fit(first, columns), fit(second, columns)];
}

const HELP: readonly string[] = [
  'keys',
  '  q  quit (also Ctrl-C)',
  '  p  pause: the rows freeze, the loss totals above do not',
  '  z  zero the counts and the table (losses since start stay above)',
  '  s  cycle the sort: rate, total, name',
  '  e  top events        t  top tasks',
  '  ?  this help (any key closes it)',
  '',
  'rows: events/s and MB/s over the last interval; fill = unread share of',
  'the ring; lost = overwritten before read, dropped = refused by a full',
  'buffer (counted since the last zero); red means events were lost.',
];

/** The frame as lines for a `columns` x `rows` grid. */
export function layoutFrame(frame: LiveFrame, size: GridSize, windowMs = 60_000): Line[] {
  const { columns, rows } = size;
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    // The losses first: on a narrow terminal they are what must still show.
    const lost = frame.lostSinceStart;
    const dropped = frame.droppedSinceStart;
    const notice: Span[] = [
      { text: `lost ${lost}`, ...(lost > 0 ? { style: 'loss' as const } : {}) },
      { text: ' ' },
      { text: `dropped ${dropped}`, ...(dropped > 0 ? { style: 'loss' as const } : {}) },
      { text: `  tracering top: ${columns}x${rows} is too small (${MIN_COLUMNS}x${MIN_ROWS})` },
    ];
    return [fit(notice, columns)];
  }
  const lines: Span[][] = header(frame, columns);
  const sparkCells = Math.max(0, Math.min(60, columns - FIXED));
  lines.push(
    fit(
      [
        {
          text: `${padEnd('CPU', W_LABEL)}${padEnd('mode', W_MODE)}${padStart('events/s', W_RATE)}${padStart('MB/s', W_MBS)}${padStart('fill', W_FILL)}${padStart('lost', W_LOSS)}${padStart('dropped', W_LOSS)}  ${sparkCells >= 9 ? `last ${windowMs / 1000} s` : ''}`,
          style: 'inverse',
        },
      ],
      columns,
    ),
  );
  // Below the rows: the footer, at least three table lines with their title, decisions if any.
  const decisionLines = Math.min(2, frame.decisions.length);
  const reserved = 1 + 4 + decisionLines;
  const rowBudget = Math.max(1, rows - lines.length - reserved);
  const all = [...frame.cpus, ...frame.rings];
  const showTotal = frame.cpus.length > 1;
  const wanted = all.length + (showTotal ? 1 : 0);
  if (wanted <= rowBudget) {
    for (const r of all) lines.push(fit(rateRow(r, frame, sparkCells, windowMs), columns));
    if (showTotal) lines.push(fit(rateRow(frame.total, frame, sparkCells, windowMs), columns));
  } else {
    // Too many to list: the rows that fit, then one line for the rest whose losses stay visible.
    const shown = all.slice(0, Math.max(0, rowBudget - 1));
    for (const r of shown) lines.push(fit(rateRow(r, frame, sparkCells, windowMs), columns));
    const rest = all.slice(shown.length);
    let lost = 0;
    let rate = 0;
    for (const r of rest) {
      lost += r.lost + r.dropped;
      rate += r.eventsPerSec ?? 0;
    }
    lines.push(
      fit(
        [
          { text: `+${rest.length} more: ${compact(rate)} events/s, ` },
          { text: `lost+dropped ${lost}`, ...(lost > 0 ? { style: 'loss' as const } : {}) },
          { text: `; total ${compact(frame.total.eventsPerSec ?? 0)} events/s`, style: 'dim' },
        ],
        columns,
      ),
    );
  }
  for (const d of frame.decisions.slice(-decisionLines)) {
    const where = d.cpu < 0 ? 'buffer' : `cpu${d.cpu}`;
    lines.push(fit([{ text: `auto ${where} ${d.kind} ${d.from}->${d.to}: `, style: 'yellow' }, { text: printable(d.reason) }], columns));
  }
  const tableRows = rows - lines.length - 1;
  if (frame.help) {
    for (const text of HELP.slice(0, tableRows)) lines.push(fit([{ text }], columns));
  } else {
    const title = frame.table === 'events' ? 'EVENTS' : 'TASKS';
    const nameWidth = Math.max(10, columns - 34);
    const zeroed = frame.zeroedAtMs === null ? '' : `  zeroed ${clockText(frame.atMs - frame.zeroedAtMs)} ago`;
    lines.push(
      fit(
        [
          {
            text: `${padEnd(`${title}  sort: ${frame.sort}  (${frame.topCount})${zeroed}`, nameWidth)}${padStart('events/s', 11)}${padStart('total', 12)}${padStart('share', 8)}   `,
            style: 'inverse',
          },
        ],
        columns,
      ),
    );
    for (const r of frame.top.slice(0, tableRows - 1)) {
      const name = frame.table === 'tasks' ? `${printable(r.name)}-${r.key}` : printable(r.name);
      lines.push(
        fit(
          [
            { text: padEnd(name, nameWidth) },
            { text: padStart(compact(r.perSec), 11) },
            { text: padStart(compact(r.total), 12) },
            { text: padStart(`${r.share.toFixed(1)}%`, 8), style: 'dim' },
          ],
          columns,
        ),
      );
    }
  }
  while (lines.length < rows - 1) lines.push(fit([], columns));
  lines.push(
    fit(
      [
        { text: 'q', style: 'bold' },
        { text: ' quit  ' },
        { text: 'p', style: 'bold' },
        { text: frame.paused ? ' resume  ' : ' pause  ' },
        { text: 'z', style: 'bold' },
        { text: ' zero  ' },
        { text: 's', style: 'bold' },
        { text: ' sort  ' },
        { text: 'e', style: 'bold' },
        { text: ' events  ' },
        { text: 't', style: 'bold' },
        { text: ' tasks  ' },
        { text: '?', style: 'bold' },
        { text: ' help' },
      ],
      columns,
    ),
  );
  return lines;
}

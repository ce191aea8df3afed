// Turning the runs into figures: per consumer and rate, medians and
// spreads; the highest lossless rate; the goals of issues 7, 9 and 14.

import { median } from '../lib/common.js';
import type { RunResult } from './measure.js';
import { rateText } from './ladder.js';

export interface Cell {
  consumer: string;
  targetRate: number;
  runs: RunResult[];
  /** No run lost anything (tool and kernel agree on it). */
  lossless: boolean;
  lossPct: [number, number];
  cpuPerM: { median: number; min: number; max: number };
  rate: number;
  others: number;
  stopMs: { median: number; min: number; max: number };
  bytesPerEvent: number | null;
  checks: string[];
}

const range = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

export function cellsOf(runs: readonly RunResult[]): Map<string, Map<number, Cell>> {
  const out = new Map<string, Map<number, Cell>>();
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const key = `${r.consumer}\u0000${r.targetRate}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, rs] of groups) {
    const [consumer, rate] = key.split('\u0000') as [string, string];
    const losses = rs.map((r) => (r.generated > 0 ? (100 * Math.max(r.losses, r.kernelLosses ?? 0)) / r.generated : 0));
    const bpe = rs.filter((r) => r.outputBytes !== null && r.events > 0).map((r) => r.outputBytes! / r.events);
    const cell: Cell = {
      consumer,
      targetRate: Number(rate),
      runs: rs,
      lossless: rs.every((r) => r.losses === 0 && (r.kernelLosses ?? 0) === 0),
      lossPct: [Math.min(...losses), Math.max(...losses)],
      cpuPerM: range(rs.map((r) => r.cpuNs / 1e6 / (r.events / 1e6))),
      rate: median(rs.map((r) => r.rate)),
      others: median(rs.map((r) => r.others)),
      stopMs: range(rs.map((r) => r.stopMs)),
      bytesPerEvent: bpe.length > 0 ? median(bpe) : null,
      checks: rs.flatMap((r) => r.checks),
    };
    const m = out.get(consumer) ?? new Map<number, Cell>();
    m.set(cell.targetRate, cell);
    out.set(consumer, m);
  }
  return out;
}

/** Ladder order: paced rates ascending, then unpaced (0 = the generator's maximum). */
export function ladderOrder(rates: readonly number[]): number[] {
  return [...rates].sort((a, b) => (a === 0 ? 1 : b === 0 ? -1 : a - b));
}

/** The highest rate of the ladder at which every run was lossless, with every lower rate lossless too; -1 if none. */
export function maxLossless(cells: Map<number, Cell> | undefined, rates: readonly number[]): number {
  if (cells === undefined) return -1;
  let best = -1;
  for (const r of ladderOrder(rates)) {
    const c = cells.get(r);
    if (c === undefined || !c.lossless) break;
    best = r;
  }
  return best;
}

export const lossText = (c: Cell | undefined) =>
  c === undefined ? '-' : c.lossless ? '0' : c.lossPct[0] === c.lossPct[1] ? `${c.lossPct[1].toFixed(2)}%` : `${c.lossPct[0].toFixed(2)}-${c.lossPct[1].toFixed(2)}%`;

export const spread = (x: { median: number; min: number; max: number }, d = 0) =>
  x.min === x.max ? x.median.toFixed(d) : `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`;

export function maxText(rate: number, cells: Map<number, Cell> | undefined): string {
  if (rate < 0) return 'none';
  const got = cells?.get(rate)?.rate;
  return rate === 0 ? `max (${got !== undefined ? (got / 1e6).toFixed(2) : '?'} M/s achieved)` : rateText(rate);
}

export function printTable(head: string[], rows: string[][], leftCols = 1): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

// The rate ladder: every consumer at every rate, repeated; the order of
// consumers rotates from one rate and repetition to the next so that a
// change in the machine's load does not always fall on the same one.

import type { Tracefs } from '../../src/kernel/tracefs.js';
import type { Consumer } from './consumers.js';
import { InterruptedError, checkInterrupted, interrupted } from './guard.js';
import { type Bins, type RunResult, type RunSettings, runOnce } from './measure.js';
import { withTopLevelSaved } from './toplevel-guard.js';

export interface LadderSettings extends Omit<RunSettings, 'syscallRate'> {
  /** Events per second (two per syscall); 0 = the generator unpaced. */
  rates: readonly number[];
  reps: number;
  stateDir: string;
}

export interface Failed {
  consumer: string;
  targetRate: number;
  error: string;
}

export const rateText = (eventsPerS: number) => (eventsPerS === 0 ? 'max' : `${(eventsPerS / 1e6).toFixed(2)} M/s`);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function describeRun(r: RunResult): string {
  const lossPct = r.generated > 0 ? (100 * r.losses) / r.generated : 0;
  return (
    `got ${(r.rate / 1e6).toFixed(3)} M/s, ${(r.events / 1e6).toFixed(2)} M events, ` +
    `lost ${r.losses}${r.losses > 0 ? ` (${lossPct.toFixed(2)}%)` : ''}, ` +
    `CPU ${(r.cpuNs / 1e6 / (r.events / 1e6)).toFixed(0)} ms/M, stop ${r.stopMs.toFixed(0)} ms` +
    (r.outputBytes !== null ? `, ${(r.outputBytes / r.events).toFixed(1)} B/ev` : '') +
    `; machine ${pct(r.busy)} busy (others ${pct(r.others)})` +
    (r.checks.length > 0 ? `; CHECK: ${r.checks.join('; ')}` : '')
  );
}

export async function runLadder(
  tracefs: Tracefs,
  consumers: readonly Consumer[],
  s: LadderSettings,
  bins: Bins,
  budget: { deadline: number },
): Promise<{ runs: RunResult[]; failed: Failed[]; skippedForTime: number }> {
  const runs: RunResult[] = [];
  const failed: Failed[] = [];
  let skippedForTime = 0;
  const active = consumers.filter((c) => !c.unavailable);
  for (let rep = 0; rep < s.reps; rep++) {
    for (let ri = 0; ri < s.rates.length; ri++) {
      const rate = s.rates[ri]!;
      const shift = (rep + ri) % Math.max(1, active.length);
      const order = [...active.slice(shift), ...active.slice(0, shift)];
      for (const c of order) {
        checkInterrupted();
        if (Date.now() > budget.deadline) {
          skippedForTime++;
          continue;
        }
        const settings: RunSettings = { ...s, syscallRate: rate / 2 };
        const label = `  [${rep + 1}/${s.reps}] ${rateText(rate).padStart(9)}  ${c.label.padEnd(38)}`;
        try {
          const once = () => runOnce(tracefs, c, settings, bins);
          const r = c.family === 'trace-cmd' ? await withTopLevelSaved(tracefs.root, s.stateDir, `${c.id} at ${rateText(rate)}`, once) : await once();
          runs.push(r);
          console.log(`${label} ${describeRun(r)}`);
        } catch (error) {
          if (error instanceof InterruptedError || interrupted() !== null) throw error;
          const message = (error as Error).message.split('\n').slice(0, 3).join(' | ');
          failed.push({ consumer: c.id, targetRate: rate, error: message });
          console.log(`${label} FAILED: ${message}`);
        }
      }
    }
  }
  return { runs, failed, skippedForTime };
}

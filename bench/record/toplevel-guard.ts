// Runs trace-cmd with the top-level settings saved before and restored
// after (also on Ctrl-C: guard.ts restores on exit and signals), and keeps
// the evidence: what trace-cmd changed, and the diff after restoring
// (empty when the restore is complete).

import { join } from 'node:path';
import { holdTopLevel, releaseTopLevel } from './guard.js';
import { diffTopLevel, saveTopLevel, settingCount } from './toplevel.js';

export interface RestoreRecord {
  what: string;
  settings: number;
  /** Top-level settings that differed right after trace-cmd exited. */
  touched: string[];
  /** Writes the kernel refused while restoring. */
  refused: string[];
  /** Differences left after restoring (must be none). */
  after: string[];
}

export const restoreLog: RestoreRecord[] = [];

export async function withTopLevelSaved<T>(root: string, stateDir: string, what: string, fn: () => Promise<T>): Promise<T> {
  const before = saveTopLevel(root);
  holdTopLevel(before, join(stateDir, 'toplevel-saved.json'));
  try {
    return await fn();
  } finally {
    const touched = diffTopLevel(before, saveTopLevel(root));
    const refused = releaseTopLevel();
    const after = diffTopLevel(before, saveTopLevel(root));
    restoreLog.push({ what, settings: settingCount(before), touched, refused, after });
  }
}

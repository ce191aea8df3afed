// Runs one target's inputs in a worker thread (heap-limited by the parent):
// each message is an input; the answer says how it ended. A hang is the
// parent's to detect (no answer within the watchdog's time).

import { parentPort, workerData } from 'node:worker_threads';
import { TraceringError } from '../src/errors.js';
import type { FuzzTarget } from './target.js';

export type Outcome = { ok: true; coded: string | null } | { ok: false; error: string };

const { module } = workerData as { module: string };
const target = ((await import(module)) as { default: FuzzTarget }).default;

parentPort!.on('message', async (input: Uint8Array) => {
  let outcome: Outcome;
  try {
    await target.run(input);
    outcome = { ok: true, coded: null };
  } catch (error) {
    outcome =
      error instanceof TraceringError
        ? { ok: true, coded: error.code }
        : { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) };
  }
  parentPort!.postMessage(outcome);
});
parentPort!.postMessage('ready');

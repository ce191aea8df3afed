// Fuzz target: native.stagePages, the capture thread's per-page path, on
// hostile pages. Whatever the page holds, the native side must publish it
// only when the TypeScript walker finds it clean, with the walker's event
// count, and otherwise hand it back untouched (a disagreement is a plain
// Error: a finding).

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { StagingRing } from '../../src/capture/staging-ring.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';
import { builtPage, stageAndCheck } from '../../test/helpers/stage-check.js';
import type { FuzzTarget } from '../target.js';

const PAGE = 4096;
const layout = hostSubbufLayout(PAGE);
const CAPTURES = join(import.meta.dirname, '../../test/fixtures');
let ring: StagingRing | null = null;
let file: string | null = null;

export const target: FuzzTarget = {
  name: 'stage-pages',
  seeds() {
    const out: Uint8Array[] = [];
    for (const capture of ['sched', 'markers']) {
      const raw = fs.readFileSync(join(CAPTURES, capture, 'tracefs/per_cpu/cpu0/trace_pipe_raw'));
      for (let at = 0; at + PAGE <= raw.length && out.length < 8; at += PAGE) out.push(new Uint8Array(raw.subarray(at, at + PAGE)));
    }
    // Pages with every record type (large records, time extends and stamps, discarded events).
    for (let i = 1; i <= 8; i++) out.push(builtPage(i, layout));
    return out;
  },
  run(input) {
    const page = new Uint8Array(PAGE);
    page.set(input.subarray(0, PAGE));
    ring ??= StagingRing.create({ cpus: 1, slots: 2, slotSize: PAGE }, 'block');
    if (file === null) {
      file = join(fs.mkdtempSync(join(os.tmpdir(), 'tr-fuzz-stage-')), 'page');
      process.once('exit', () => fs.rmSync(join(file!, '..'), { recursive: true, force: true }));
    }
    fs.writeFileSync(file, page);
    const fd = fs.openSync(file, 'r');
    try {
      stageAndCheck(ring, fd, page, layout, ring.produced(0));
    } finally {
      fs.closeSync(fd);
    }
  },
};

export default target;

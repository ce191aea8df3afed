// Fuzz target: trace.dat bytes. run() opens the file from memory, loads
// its formats into an EventRegistry, and walks every record of every page
// of every buffer; it may throw only TraceringError subclasses (coded
// errors), never anything else, and never hang or allocate without bound.

import fs from 'node:fs';
import { join } from 'node:path';
import { EventRegistry } from '../../src/decode/registry.js';
import { TraceDat } from '../../src/tracedat/index.js';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/formats');

/** Opens `input` and reads all of it; returns the records walked. */
export function walkTraceDat(input: Uint8Array): number {
  const dat = TraceDat.fromBytes(input, 'fuzz input');
  try {
    new EventRegistry(dat.formatSource());
    let records = 0;
    for (const buffer of dat.buffers) {
      if (buffer.kind !== 'flyrecord') continue;
      for (const reader of dat.openCpus(buffer)) {
        for (let batch = reader.next(); batch !== null; batch = reader.next()) records += batch.count;
      }
    }
    return records;
  } finally {
    dat.close();
  }
}

export default {
  name: 'tracedat',
  seeds(): Uint8Array[] {
    return fs
      .readdirSync(FIXTURES)
      .filter((n) => n.endsWith('.dat'))
      .sort()
      .map((n) => new Uint8Array(fs.readFileSync(join(FIXTURES, n))));
  },
  run(input: Uint8Array): void {
    walkTraceDat(input);
  },
};

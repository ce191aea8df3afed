// Fuzz target: a format file with the code it makes and the records it
// reads. The input is
//
//   [u16 LE n] [n bytes: the format file, UTF-8] [the rest: a record payload]
//
// (an input shorter than 2 + n is all format file, payload empty). The
// format is parsed (format-file.ts), its print fmt compiled by the
// interpreter (printfmt/), its typed decoder and JSON writer generated
// (row-codegen.ts, json-emit.ts); the payload, with the format's id in its
// first two bytes, is then rendered as kernel text and JSON Lines, decoded
// into tables and objects, whole and cut at every length up to 64 bytes
// and a few beyond. Only TraceringError subclasses (coded errors) may
// escape.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchDecoder } from '../../src/decode/batch-decoder.js';
import { EventDecoder } from '../../src/decode/field-decoder.js';
import { parseFormatFile } from '../../src/decode/format-file.js';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import { EventRegistry, type FormatSource } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { TextOut } from '../../src/decode/text-out.js';
import type { FuzzTarget } from '../target.js';
import { RecordBatch } from '../../src/layout/record.js';
import { JsonLines } from '../../src/output/json-lines.js';
import { TaskNames } from '../../src/output/task-names.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

/** One format file in memory. */
class OneFormat implements FormatSource {
  readonly label = 'fuzz';
  constructor(readonly text: string) {}
  listEvents(): [string, string][] {
    return [['fuzz', 'event']];
  }
  readFormat(): string {
    return this.text;
  }
  readOptional(): string | null {
    return null;
  }
}

let symbols: SymbolTable | null = null;
function fixtureSymbols(): SymbolTable {
  symbols ??= SymbolTable.parse(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'kallsyms.gz'))));
  return symbols;
}

const utf8 = new TextDecoder();
const tasks = new TaskNames(new Map([[1, 'fuzz']]));
const out = new TextOut(1 << 16);

function split(input: Uint8Array): { text: string; payload: Uint8Array } {
  if (input.length < 2) return { text: utf8.decode(input), payload: new Uint8Array(0) };
  const n = input[0]! | (input[1]! << 8);
  if (2 + n > input.length) return { text: utf8.decode(input), payload: new Uint8Array(0) };
  return { text: utf8.decode(input.subarray(2, 2 + n)), payload: input.subarray(2 + n) };
}

function run(input: Uint8Array): void {
  const { text, payload } = split(input);
  // A malformed format is a coded error (MalformedInputError), which may escape.
  parseFormatFile(text, { system: 'fuzz', longSize: 8 });
  const registry = new EventRegistry(new OneFormat(text), { reloadIntervalMs: 1e9 });
  const format = registry.formats().next().value;
  if (format === undefined) return;
  const renderer = new EventRenderer(registry, { symbols: fixtureSymbols() });
  const json = new JsonLines(registry, tasks, true, renderer);
  const batchDecoder = new BatchDecoder(registry);
  const decoder = new EventDecoder(format);
  // The payload with the format's id, cut at every length up to 64 bytes, then whole.
  const full = new Uint8Array(Math.max(8, payload.length));
  full.set(payload);
  full[0] = format.id & 0xff;
  full[1] = format.id >> 8;
  const lengths = new Set<number>([full.length, format.fixedSize, format.fixedSize + 1]);
  for (let n = 0; n <= Math.min(64, full.length); n++) lengths.add(n);
  const cuts = [...lengths].filter((n) => n >= 0 && n <= full.length);
  const bytes = new Uint8Array(cuts.reduce((a, n) => a + ((n + 7) & ~3), 0) + 8);
  const view = new DataView(bytes.buffer);
  const batch = new RecordBatch(cuts.length);
  batch.reset(bytes, view, 0, 0);
  let at = 0;
  cuts.forEach((n, i) => {
    bytes.set(full.subarray(0, n), at);
    batch.records.set([at, n, 0, 1000 + i], i * 4);
    at += (n + 7) & ~3;
  });
  batch.count = cuts.length;
  for (let i = 0; i < batch.count; i++) {
    out.reset();
    renderer.writeText(view, bytes, batch.offset(i), batch.length(i), out);
    out.reset();
    json.writeLine(out, batch, i);
    // Invalid JSON would be a SyntaxError: a finding.
    JSON.parse(out.toString());
    decoder.toObject(view, bytes, batch.offset(i), batch.length(i), false);
  }
  batchDecoder.decode(batch);
}

/** Every format file of the fixtures, with zeros and with a patterned payload. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'format') {
        const text = fs.readFileSync(p);
        for (const payload of [new Uint8Array(64), Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 255)]) {
          const input = new Uint8Array(2 + text.length + payload.length);
          input[0] = text.length & 0xff;
          input[1] = text.length >> 8;
          input.set(text, 2);
          input.set(payload, 2 + text.length);
          out.push(input);
        }
      }
    }
  };
  for (const capture of ['sched', 'markers']) walk(path.join(FIXTURES, capture, 'tracefs', 'events'));
  return out;
}

export const target: FuzzTarget = { name: 'format-file', seeds, run };

export default target;

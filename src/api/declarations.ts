// TypeScript declarations for kernel events, from their format files:
// what `tracering types` writes. Each event becomes a KernelEvents entry
// (module augmentation of the package's interface) whose field types are
// exactly what the object decoder gives (EventDecoder.value): numbers,
// bigint for 8-byte integers, strings for character data, Uint8Array for
// byte arrays, number[] / bigint[] for other arrays, set-bit indices for
// bitmasks.

import type { EventFormat, FieldFormat } from '../decode/format-file.js';

/** The TypeScript type of a field's decoded value. */
export function fieldTsType(f: FieldFormat): string {
  if (f.kind === 'int' || f.kind === 'pointer') return f.size === 8 ? 'bigint' : 'number';
  if (f.isString) return 'string';
  if (f.isBitmask) return 'readonly number[]';
  if (f.kind === 'blob' || f.elementSize === 1 || ![2, 4, 8].includes(f.elementSize)) return 'Uint8Array';
  return f.elementSize === 8 ? 'readonly bigint[]' : 'readonly number[]';
}

/** Options of declarationsFor(). */
export interface DeclarationOptions {
  /** The module to augment (default 'tracering'). */
  module?: string;
  /** Lines for the header comment (where the formats came from). */
  header?: readonly string[];
}

/** A declaration file: every format as a KernelEvents entry, sorted by system and name. */
export function declarationsFor(formats: readonly EventFormat[], options: DeclarationOptions = {}): string {
  const sorted = [...formats].sort((a, b) => key(a).localeCompare(key(b)));
  const lines: string[] = [];
  for (const line of options.header ?? []) lines.push(`// ${line}`);
  lines.push('export {};', '', `declare module ${JSON.stringify(options.module ?? 'tracering')} {`, '  interface KernelEvents {');
  for (const format of sorted) {
    lines.push(`    /** ${format.system}:${format.name} (id ${format.id}) */`);
    lines.push(`    ${JSON.stringify(key(format))}: {`);
    for (const f of format.fields) {
      if (!f.common) lines.push(`      /** \`${f.type} ${f.name}\` (offset ${f.offset}, size ${f.size}) */`);
      lines.push(`      readonly ${f.name}: ${fieldTsType(f)};`);
    }
    lines.push('    };');
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

function key(f: EventFormat): string {
  return `${f.system}:${f.name}`;
}

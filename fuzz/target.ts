// What a fuzz target is: seeds (valid inputs to mutate) and run(input),
// which must return or throw a TraceringError (a coded error), and never
// throw anything else, hang, or allocate without bound.

export interface FuzzTarget {
  readonly name: string;
  seeds(): Uint8Array[];
  run(input: Uint8Array): void | Promise<void>;
}

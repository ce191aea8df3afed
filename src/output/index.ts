// tracering/output: kernel text (line prefix, header, loss markers), JSON
// Lines, the CPU merge, decode contexts.

export { loadDecodeContext, loadSymbols, type DecodeContext, type DecodeContextOptions } from './decode-context.js';
export { JsonLines } from './json-lines.js';
export { KernelText, type KernelTextOptions, type HeaderFigures } from './kernel-text.js';
export { latencyFlags, clockInNs } from './line-prefix.js';
export { CpuMerger, type MergeVisitor } from './merge.js';
export { TimelineRenderer, type OutputFormat, type RenderOptions, type RenderSummary } from './report.js';
export { TaskNames } from './task-names.js';

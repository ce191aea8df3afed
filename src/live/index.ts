// The live view (`tracering top`, `record --live`): what the command wires.
//   feed:   LiveSample + IntervalCounts (TopSink.take()) once per interval
//   model:  LiveModel (rates, totals, history, tables; keys' commands)
//   output: runLiveView (full screen, --once, --json)

export type { CountEntry, CpuSample, IntervalCounts, LiveSample, ReadMode, RingSample } from './sample.js';
export { LiveModel, SORT_KEYS, type LiveFrame, type LiveModelOptions, type RatePoint, type RateRow, type SortKey, type TableKind, type TopRow } from './model.js';
export { TopSink, type CursorTally } from './top-sink.js';
export { runLiveView, MIN_INTERVAL_MS, MAX_INTERVAL_MS, type LiveEndReason, type LiveFeed, type LiveOutput, type LiveTick, type LiveViewEnd, type LiveViewOptions } from './live-view.js';
export { layoutFrame, MIN_COLUMNS, MIN_ROWS, type GridSize, type Line, type Span, type Style } from './layout.js';
export { ansiLine, plainLine, plainText } from './ansi.js';
export { frameJson, type FrameJson, type RowJson, type TopJson } from './frame-json.js';
export { parseKeys, type LiveCommand } from './keys.js';
export { TerminalScreen, type TerminalHandlers } from './terminal.js';
export { SelfCpuMeter } from './self-cpu.js';

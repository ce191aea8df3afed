// The front door: events(), batches() and their types.

export { declarationsFor, fieldTsType, type DeclarationOptions } from './declarations.js';
export type {
  CommonFields,
  EventSelector,
  KernelEvent,
  KernelEventKey,
  KernelEvents,
  LostRecord,
  SelectedKernelEvent,
  StreamItem,
  TraceEvent,
  UnknownRecord,
  UntypedFields,
} from './event-types.js';
export { batches, events, type EventStream, type EventsOptions } from './events.js';
export type { RingItem, RingSelector, SchemaEvent, SchemaFields } from './ring-types.js';

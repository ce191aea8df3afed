// tracering/ring: application rings (shared memory with the kernel's ring
// design): memory, writer, reader, schemas as kernel format files.

export type { FieldInputs, FieldTypeInput, FieldTypeValue, SchemaEvent, SchemaFields, SchemaSystem, SchemaValues } from '../api/ring-types.js';
export { type RingMode, RING_MODES } from '../layout/ring-control.js';
export { AppEvent, type AppFieldValue } from './app-event.js';
export { AppRing, type AppRingOptions, type RingHandle, type RingStats } from './app-ring.js';
export { RingReader, RingChannel } from './reader.js';
export { type EventSchema, type FieldType, APP_EVENT_ID_BASE } from './schema.js';
export { TraceApi, type Span, TRACE_API_SYSTEM, TRACE_API_EVENTS } from './trace-api.js';
export { RingWriter, type RingWriterOptions, type ClockMode } from './writer.js';

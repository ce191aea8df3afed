// tracering/consumer: the consumer side of the mapping protocol, shared by
// kernel buffers and application rings, and its loss accounting.

export { type CpuReaderCounters, newCounters } from './counters.js';
export { LossLedger } from './loss-ledger.js';
export { MappedConsumer, type MappedChannel, type MappedConsumerOptions } from './mapped-consumer.js';

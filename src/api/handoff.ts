// The hand-over between a sink (the producer, driven by the pipeline) and
// an async iterator (the consumer, driven by the user's loop): chunks of
// decoded items, backpressure both ways. The producer waits until the
// consumer has taken everything queued (drained()); the consumer waits
// until there is a chunk, the end, or a failure (take()). Cancelling (the
// loop broke out) discards what is queued and releases the producer.

export class Handoff<T> {
  readonly #queue: T[][] = [];
  #ended = false;
  #cancelled = false;
  #failure: { error: unknown } | null = null;
  #consumerWake: (() => void) | null = null;
  #producerWake: (() => void) | null = null;

  /** The consumer stopped: nothing more is queued or waited for. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Chunks queued and not yet taken. */
  get queued(): number {
    return this.#queue.length;
  }

  push(chunk: T[]): void {
    if (this.#cancelled || this.#ended || chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#wakeConsumer();
  }

  /** No more chunks will come. */
  end(): void {
    this.#ended = true;
    this.#wakeConsumer();
  }

  /** The producer failed: the consumer's next take() rejects with `error` (after what was queued). */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#ended = true;
    this.#wakeConsumer();
  }

  cancel(): void {
    this.#cancelled = true;
    this.#queue.length = 0;
    this.#wakeProducer();
    this.#wakeConsumer();
  }

  /** Settles once the consumer has taken every queued chunk (at once when cancelled or empty). */
  drained(): Promise<void> {
    if (this.#queue.length === 0 || this.#cancelled) return Promise.resolve();
    return new Promise((resolve) => {
      this.#producerWake = resolve;
    });
  }

  /** The next chunk; null at the end. */
  async take(): Promise<T[] | null> {
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk !== undefined) {
        if (this.#queue.length === 0) this.#wakeProducer();
        return chunk;
      }
      if (this.#cancelled) return null;
      if (this.#failure !== null) throw this.#failure.error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#consumerWake = resolve;
      });
    }
  }

  #wakeConsumer(): void {
    const wake = this.#consumerWake;
    this.#consumerWake = null;
    wake?.();
  }

  #wakeProducer(): void {
    const wake = this.#producerWake;
    this.#producerWake = null;
    wake?.();
  }
}

/**
 * Group commit for a database reached over a socket: requests that arrive
 * while `maxInFlight` batches are already running wait and leave together in
 * the next batches (at most `maxBatch` each), so under load one round trip,
 * one backend wake-up and one WAL flush serve many requests, while a lone
 * request leaves at once (after the current event-loop turn, which gathers
 * what arrived in the same turn).
 *
 * Not DataLoader: it dispatches every turn however many batches are still
 * running, so batches stay as small as the arrivals of one turn; bounding
 * the batches in flight is what lets them grow with the load.
 */
export interface MicroBatcherOptions {
  /** Requests per batch. */
  readonly maxBatch: number;
  /** Batches running at once; the rest wait. */
  readonly maxInFlight: number;
}

/**
 * Runs one batch: one outcome per request, in request order, so one
 * request's error fails that request alone. A rejection fails them all.
 */
export type BatchRunner<I, O> = (
  requests: readonly I[],
) => Promise<readonly PromiseSettledResult<O>[]>;

interface Waiting<I, O> {
  readonly request: I;
  readonly resolve: (value: O) => void;
  readonly reject: (reason: unknown) => void;
}

export class MicroBatcher<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly runBatch: BatchRunner<I, O>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) {
      throw new RangeError("maxBatch and maxInFlight must be at least 1");
    }
  }

  submit(request: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (!this.scheduled && this.inFlight < this.options.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  /**
   * Shares what waits among the free slots: if it all left as one batch,
   * the calls in flight would fall into step (one batch out, its callers
   * answered, their next requests all back as one batch) and one database
   * backend would do the work of all while the others idle.
   */
  private dispatch(): void {
    while (this.waiting.length > 0 && this.inFlight < this.options.maxInFlight) {
      const free = this.options.maxInFlight - this.inFlight;
      const size = Math.min(this.options.maxBatch, Math.ceil(this.waiting.length / free));
      const batch = this.waiting.splice(0, size);
      this.inFlight++;
      void this.run(batch);
    }
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outcomes = await this.runBatch(batch.map((w) => w.request));
      if (outcomes.length !== batch.length) {
        throw new Error(`batch of ${batch.length} returned ${outcomes.length} outcomes`);
      }
      batch.forEach((w, i) => {
        const o = outcomes[i]!;
        if (o.status === "fulfilled") w.resolve(o.value);
        else w.reject(o.reason);
      });
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.inFlight--;
      this.dispatch();
    }
  }
}

/** Hands the PDF to its destination a page at a time, at the pace the destination takes it. */

/**
 * Moves PDF bytes from pdfkit to `out` and remembers when `out` asked us to wait;
 * `ready()` is where the writer waits, between pages.
 *
 * The bytes are pulled (`doc.read()`) rather than taken from 'data' events: pdfkit pushes
 * into its Readable, which may defer 'data' to `process.nextTick`, and a loop over a
 * synchronous iterable is one unbroken chain of microtasks that nextTick never gets
 * between. Events would then pile the whole PDF up in pdfkit's buffer unseen by
 * `out.write`'s answer; pulling after each page keeps both buffers to about a page.
 */
export class BackpressuredOutput {
  private needDrain = false;
  private failure: Error | undefined = undefined;
  private wake: (() => void) | undefined;
  private readonly out: NodeJS.WritableStream;
  private readonly signal: AbortSignal | undefined;

  constructor(out: NodeJS.WritableStream, signal: AbortSignal | undefined) {
    this.out = out;
    this.signal = signal;
    out.on("drain", this.onDrain);
    out.on("error", this.onError);
    signal?.addEventListener("abort", this.onAbort);
  }

  /** Writes out whatever pdfkit has produced so far. */
  pump(doc: PDFKit.PDFDocument): void {
    for (let chunk: unknown = doc.read(); chunk !== null; chunk = doc.read()) {
      if (this.failure !== undefined) return;
      if (!(chunk instanceof Uint8Array)) throw new TypeError("pdfkit produced something other than bytes");
      if (!this.out.write(chunk)) this.needDrain = true;
    }
  }

  /** Resolves once `out` has room again; throws what went wrong with `out` or the abort reason. */
  async ready(): Promise<void> {
    // Give the event loop a turn at every page even when `out` never pushes back, so a big
    // sheet does not starve the server's other requests.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.needDrain && this.failure === undefined && this.signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.check();
  }

  check(): void {
    this.signal?.throwIfAborted();
    if (this.failure !== undefined) {
      throw this.failure;
    }
  }

  /** Ends `out` and resolves when it has flushed everything. */
  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.wake = () => {
        reject(this.failure ?? new Error("the output failed"));
      };
      this.out.end(() => {
        resolve();
      });
    });
  }

  detach(): void {
    this.out.removeListener("drain", this.onDrain);
    this.out.removeListener("error", this.onError);
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.wake?.();
  };

  private readonly onError = (error: unknown): void => {
    this.failure ??= error instanceof Error ? error : new Error("the output failed", { cause: error });
    this.wake?.();
  };

  private readonly onAbort = (): void => {
    this.wake?.();
  };
}

/** One call waiting for its reply: a promise, a timeout that progress resets. */

import { DasfError, DasfTimeoutError } from './errors';

/** What a call expects back: a `response`, or a `pong` to a ping. */
export type ReplyKind = 'response' | 'pong';

/** A pending call; settles exactly once (resolve, reject or timeout). */
export class PendingCall<T = unknown> {
  readonly promise: Promise<T>;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: Error) => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private settled = false;

  constructor(
    readonly context: string,
    readonly what: string,
    readonly expects: ReplyKind,
    private readonly timeoutMs: number,
    private readonly onSettle: (call: PendingCall<T>) => void,
    readonly onProgress?: (report: unknown) => void
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.touch();
  }

  /** Whether the call already has its outcome. */
  get done(): boolean {
    return this.settled;
  }

  /** Restart the timeout: the backend is still alive and working on this call. */
  touch(): void {
    if (this.settled || !(this.timeoutMs > 0 && Number.isFinite(this.timeoutMs))) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.reject(new DasfTimeoutError(this.what, this.timeoutMs)),
      this.timeoutMs
    );
  }

  resolve(value: T): void {
    if (this.finish()) {
      this.resolveFn(value);
    }
  }

  reject(error: DasfError): void {
    if (this.finish()) {
      this.rejectFn(error);
    }
  }

  private finish(): boolean {
    if (this.settled) {
      return false;
    }
    this.settled = true;
    clearTimeout(this.timer);
    this.onSettle(this);
    return true;
  }
}

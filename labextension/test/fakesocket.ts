/** An in-memory WebSocket for unit tests: records what the client sends, injects frames. */

import { WebSocketLike } from '../src/dasf/socket';

export class FakeSocket implements WebSocketLike {
  static created: FakeSocket[] = [];
  /** Whether new sockets open by themselves (on the next tick). */
  static autoOpen = true;

  readyState = 0;
  readonly sent: any[] = [];
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((event: any) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.created.push(this);
    if (FakeSocket.autoOpen) {
      setTimeout(() => this.open(), 0);
    }
  }

  static reset(): void {
    FakeSocket.created = [];
    FakeSocket.autoOpen = true;
  }

  /** The newest socket whose URL path starts with `/ws/<prefix>`. */
  static find(prefix: string): FakeSocket {
    const found = FakeSocket.created.filter(s => new URL(s.url).pathname.startsWith(`/ws/${prefix}`));
    if (found.length === 0) {
      throw new Error(`no socket for ${prefix}; have ${FakeSocket.created.map(s => s.url)}`);
    }
    return found[found.length - 1];
  }

  open(): void {
    if (this.readyState === 0) {
      this.readyState = 1;
      this.onopen?.({});
    }
  }

  send(data: string): void {
    if (this.readyState !== 1) {
      throw new Error('send on a socket that is not open');
    }
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) {
      return;
    }
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Deliver a frame (an object is sent as JSON text). */
  receive(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
}

/** Wait until `predicate` holds (polling the event loop), or fail after `ms`. */
export async function until(predicate: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error('condition not reached');
    }
    await new Promise(resolve => setTimeout(resolve, 1));
  }
}

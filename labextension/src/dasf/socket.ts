/** The few WebSocket features the client uses, and opening one with a timeout. */

import { DasfConnectionError } from './errors';

/** The subset of the WHATWG WebSocket that the client needs (browser, Node 22, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}

/** A WebSocket class: the global one, or e.g. the `ws` package's in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` of an open socket (the same in every implementation). */
export const OPEN = 1;

/** The global WebSocket class, or undefined where there is none (Node < 22). */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** The URL with its token query parameter masked, for error messages. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1***');
}

/** Open a socket; reject with DasfConnectionError on error, early close or timeout. */
export function openSocket(
  url: string,
  Impl: WebSocketConstructor,
  timeoutMs: number
): Promise<WebSocketLike> {
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = new Impl(url);
    } catch (error) {
      reject(new DasfConnectionError(`cannot open ${redactUrl(url)}: ${String(error)}`));
      return;
    }
    const fail = (why: string): void => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(new DasfConnectionError(`cannot connect to ${redactUrl(url)}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = socket.onclose = null;
      resolve(socket);
    };
    socket.onerror = (event: any) => fail(event?.message ?? 'the broker refused the connection');
    socket.onclose = event =>
      fail(`closed during the handshake (code ${event?.code ?? '?'} ${event?.reason ?? ''})`);
  });
}

/** UTF-8 safe base64 for DASF payloads (bare btoa/atob break on non-Latin-1 text). */

import { DasfProtocolError } from './errors';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
// btoa/atob only handle "binary strings"; build them in slices to stay below the
// argument limit of String.fromCharCode for large payloads
const SLICE = 0x8000;

/** Base64 of raw bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

/** Raw bytes of a base64 text; DasfProtocolError if it is not base64. */
export function base64ToBytes(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new DasfProtocolError(`payload is not valid base64: ${preview(text)}`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/** Base64 of the UTF-8 encoding of `text`. */
export function encodeTextPayload(text: string): string {
  return bytesToBase64(encoder.encode(text));
}

/** The UTF-8 text inside a base64 payload; DasfProtocolError on bad base64 or UTF-8. */
export function decodeTextPayload(payload: string): string {
  const bytes = base64ToBytes(payload);
  try {
    return decoder.decode(bytes);
  } catch {
    throw new DasfProtocolError('payload is not valid UTF-8');
  }
}

/** Base64 payload of a JSON value. */
export function encodeJsonPayload(value: unknown): string {
  return encodeTextPayload(JSON.stringify(value));
}

/** The JSON value inside a base64 payload; DasfProtocolError if it is not JSON. */
export function decodeJsonPayload(payload: string): unknown {
  const text = decodeTextPayload(payload);
  try {
    return JSON.parse(text);
  } catch {
    throw new DasfProtocolError(`payload is not JSON: ${preview(text)}`);
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
}

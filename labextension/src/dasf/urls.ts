/** Websocket URLs of a DASF broker base URL (PROTOCOL.md §2.2), token as query parameter. */

import { DasfError } from './errors';

// the rules of dasf_jupyter/protocol/names.py (one table of cases tests both languages)
const TOPIC_PATTERN = /^[A-Za-z0-9][-_.A-Za-z0-9]*$/;
const TOPIC_MAX_LENGTH = 200;
/** Characters of a long request topic a response topic keeps (as the Python client). */
export const RESPONSE_TOPIC_PREFIX_LENGTH = 183;

/** Why `topic` cannot be a topic name, or null if it can. */
export function topicNameError(topic: unknown): string | null {
  if (typeof topic !== 'string' || topic.length === 0) {
    return 'must be a non-empty string';
  }
  if (topic.length > TOPIC_MAX_LENGTH) {
    return `longer than ${TOPIC_MAX_LENGTH} characters`;
  }
  if (!TOPIC_PATTERN.test(topic)) {
    return "use letters, digits, '-', '_' and '.', starting with a letter or digit";
  }
  if (topic.includes('..')) {
    return "'..' is not allowed";
  }
  return null;
}

/** Throw a DasfError unless `topic` is a name a DASF broker can route. */
export function checkTopic(topic: string): string {
  const why = topicNameError(topic);
  if (why !== null) {
    throw new DasfError(`invalid topic name ${JSON.stringify(topic).slice(0, 220)}: ${why}`);
  }
  return topic;
}

/** Random lowercase hex digits (crypto where available: response topics must not collide). */
export function randomHex(digits: number): string {
  const bytes = new Uint8Array(Math.ceil(digits / 2));
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => void } })
    .crypto;
  if (crypto?.getRandomValues) {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = Math.floor(Math.random() * 256);
    }
  }
  return Array.from(bytes, b => b.toString(16).padStart(2, '0'))
    .join('')
    .slice(0, digits);
}

/** A private response topic for `topic`, as the reference TS client names them. */
export function newResponseTopic(topic: string): string {
  return `${topic.slice(0, RESPONSE_TOPIC_PREFIX_LENGTH)}_${randomHex(12)}`;
}

/** Consumer subscription name, as the reference TS client names them. */
export function newSubscription(): string {
  return `web-frontend-${new Date().toISOString()}`;
}

/** Builds producer and consumer URLs below one broker base URL (e.g. `ws://host/ws`). */
export class BrokerUrls {
  private readonly base: URL;

  /** `base` may be ws(s)://, http(s):// (mapped to ws) or, in a browser, a relative path. */
  constructor(base: string, token?: string) {
    this.base = parseBase(base);
    if (token) {
      this.base.searchParams.set('token', token);
    }
  }

  /** `<base>/<topic>`: publish to `topic`. */
  producer(topic: string): string {
    return this.below(checkTopic(topic));
  }

  /** `<base>/<topic>/<subscription>`: receive from `topic`. */
  consumer(topic: string, subscription: string): string {
    return this.below(`${checkTopic(topic)}/${encodeURIComponent(subscription)}`);
  }

  /** The base URL without credentials, for display. */
  toString(): string {
    const shown = new URL(this.base.href);
    shown.searchParams.delete('token');
    return shown.href;
  }

  private below(path: string): string {
    const url = new URL(this.base.href);
    url.pathname = url.pathname.replace(/\/*$/, '/') + path;
    return url.href;
  }
}

function parseBase(base: string): URL {
  let url: URL;
  try {
    const location = (globalThis as { location?: { href: string } }).location;
    url = location ? new URL(base, location.href) : new URL(base);
  } catch {
    throw new DasfError(`invalid broker URL ${JSON.stringify(base)}: use ws://host:port/ws`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new DasfError(`broker URL must be ws:// or wss://, got ${JSON.stringify(base)}`);
  }
  return url;
}

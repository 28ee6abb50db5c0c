/** DASF frames on the wire (PROTOCOL.md §3): publish, publish ack, delivery, consumer ack. */

import { DasfProtocolError } from './errors';

/** Values of the `messageType` property. */
export const MessageType = {
  ping: 'ping',
  pong: 'pong',
  request: 'request',
  response: 'response',
  info: 'info',
  apiInfo: 'api_info',
  progress: 'progress',
  log: 'log'
} as const;

/** Property keys of a DASF message (PROTOCOL.md §4). */
export const Prop = {
  messageType: 'messageType',
  requestContext: 'requestContext',
  responseTopic: 'response_topic',
  sourceTopic: 'source_topic',
  status: 'status',
  fragment: 'fragment',
  numFragments: 'num_fragments',
  info: 'info',
  apiInfo: 'api_info',
  errorType: 'dasf_error_type',
  traceback: 'dasf_traceback',
  /** seconds the broker may keep a request undelivered (the caller gives up then) */
  ttl: 'dasf_ttl'
} as const;

/** The `dasf_ttl` of a request: the caller's timeout less a margin for the transit. */
export function requestTtl(timeoutMs: number): string {
  const seconds = timeoutMs / 1000;
  return Math.max(seconds - Math.min(1, 0.1 * seconds), 0.001).toFixed(3);
}

/** Property values: strings in DASF, but ints survive the Django broker unchanged. */
export type Properties = Record<string, unknown>;

/** A frame sent on a producer socket. */
export interface PublishFrame {
  payload: string;
  properties: Properties;
  context: string;
}

/** The broker's answer to a publish, on the same producer socket. */
export interface PublishAck {
  result: string;
  context?: unknown;
  messageId?: string;
  errorMsg?: string;
}

/** A message delivered on a consumer socket. */
export interface Delivery {
  payload: string;
  properties: Properties;
  messageId?: string;
  publishTime?: string;
}

/** JSON text of a publish frame. */
export function encodePublish(payload: string, properties: Properties, context: string): string {
  const frame: PublishFrame = { payload, properties, context };
  return JSON.stringify(frame);
}

/** JSON text of the consumer ack of a delivery. */
export function encodeConsumerAck(messageId: string): string {
  return JSON.stringify({ messageId });
}

function parseObject(text: unknown, what: string): Record<string, unknown> {
  if (typeof text !== 'string') {
    throw new DasfProtocolError(`${what} is not a text frame`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DasfProtocolError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DasfProtocolError(`${what} is not a JSON object: ${text.slice(0, 80)}`);
  }
  return value as Record<string, unknown>;
}

/** Parse a publish ack; DasfProtocolError if the frame has no string `result`. */
export function decodePublishAck(text: unknown): PublishAck {
  const frame = parseObject(text, 'publish ack');
  if (typeof frame.result !== 'string') {
    throw new DasfProtocolError('publish ack without a "result" string');
  }
  return {
    result: frame.result,
    context: frame.context,
    messageId: typeof frame.messageId === 'string' ? frame.messageId : undefined,
    errorMsg: typeof frame.errorMsg === 'string' ? frame.errorMsg : undefined
  };
}

/** Parse a delivery; DasfProtocolError unless it has a string payload and properties object. */
export function decodeDelivery(text: unknown): Delivery {
  const frame = parseObject(text, 'delivery');
  const { payload, properties } = frame;
  if (typeof payload !== 'string') {
    throw new DasfProtocolError('delivery without a "payload" string');
  }
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    throw new DasfProtocolError('delivery without a "properties" object');
  }
  return {
    payload,
    properties: properties as Properties,
    messageId: typeof frame.messageId === 'string' ? frame.messageId : undefined,
    publishTime: typeof frame.publishTime === 'string' ? frame.publishTime : undefined
  };
}

/** A property as string (ints from the Django broker or Pulsar strings alike), or undefined. */
export function stringProp(properties: Properties, key: string): string | undefined {
  const value = properties[key];
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  return undefined;
}

/** A property as integer (Pulsar may send "3" for 3), or undefined if absent or not integral. */
export function intProp(properties: Properties, key: string): number | undefined {
  const value = properties[key];
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : undefined;
}

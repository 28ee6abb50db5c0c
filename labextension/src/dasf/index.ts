/** A DASF client for browsers and Node: call backend modules through a DASF broker. */

export * from './apiinfo';
export * from './base64';
export { DasfConnection, connect, DEFAULT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './connection';
export type { CallOptions, DasfConnectionOptions } from './connection';
export * from './envelope';
export * from './errors';
export * from './fragments';
export type { WebSocketConstructor, WebSocketLike } from './socket';
export { BrokerUrls, checkTopic, newResponseTopic } from './urls';

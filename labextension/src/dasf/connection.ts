/** `DasfConnection`: call DASF backend modules through a broker from a browser or Node. */

import { decodeJsonPayload, encodeJsonPayload } from './base64';
import { Reply, TopicChannel, ChannelHost } from './channel';
import { MessageType, Prop, stringProp } from './envelope';
import { DasfConnectionError, DasfError, DasfProtocolError } from './errors';
import { ModuleApiInfo } from './apiinfo';
import { DEFAULT_MAX_PAYLOAD_CHARS, DEFAULT_MAX_TOTAL_CHARS, FragmentAssembler } from './fragments';
import { WebSocketConstructor, WebSocketLike, globalWebSocket, openSocket } from './socket';
import { BrokerUrls, checkTopic } from './urls';

/** Options of a connection. */
export interface DasfConnectionOptions {
  /** API token, sent as `?token=` (browsers cannot set websocket headers). */
  token?: string;
  /** WebSocket class; defaults to the global one (browsers, Node >= 22). */
  WebSocketImpl?: WebSocketConstructor;
  /** Default time a call may go without any reply or progress, in ms (0: wait forever). */
  timeoutMs?: number;
  /** Time allowed to open a websocket, in ms. */
  connectTimeoutMs?: number;
  /**
   * Bound of all incomplete fragmented replies together, in base64 characters (default
   * {@link DEFAULT_MAX_TOTAL_CHARS}); past it the oldest is dropped and its call fails.
   */
  maxIncompleteReplyChars?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Called with every decoded progress report (a deprogressapi report object). */
  onProgress?: (report: unknown) => void;
  /** Time the call may go without any reply or progress, in ms; overrides the default. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A client of one DASF broker; sockets per topic are opened on first use and reused. */
export class DasfConnection {
  private readonly channels = new Map<string, TopicChannel>();
  private readonly pongSockets = new Map<string, Promise<WebSocketLike>>();
  private readonly host: ChannelHost;
  private readonly timeoutMs: number;
  private counter = 0;
  private closed = false;

  constructor(baseUrl: string, options: DasfConnectionOptions = {}) {
    const WebSocketImpl = options.WebSocketImpl ?? globalWebSocket();
    if (WebSocketImpl === undefined) {
      throw new DasfError(
        'no WebSocket class here: pass one as WebSocketImpl (e.g. from the "ws" package)'
      );
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.host = {
      urls: new BrokerUrls(baseUrl, options.token),
      WebSocketImpl,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      assembler: new FragmentAssembler(
        DEFAULT_MAX_PAYLOAD_CHARS,
        options.maxIncompleteReplyChars ?? DEFAULT_MAX_TOTAL_CHARS
      ),
      sendPong: (topic, frame) => this.sendPong(topic, frame),
      forget: channel => {
        if (this.channels.get(channel.topic) === channel) {
          this.channels.delete(channel.topic);
        }
      }
    };
  }

  /** The broker base URL, without the token. */
  get url(): string {
    return this.host.urls.toString();
  }

  /** Call a function (`{func_name, ...args}`) or method (`{class_name, ..., function}`). */
  async call<T = unknown>(
    topic: string,
    request: Record<string, unknown>,
    options: CallOptions = {}
  ): Promise<T> {
    checkRequest(request);
    const what = describe(topic, request);
    const reply = await this.send(topic, MessageType.request, encodeJsonPayload(request), {
      what,
      expects: 'response',
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      onProgress: options.onProgress
    });
    if (reply.payload === '') {
      throw new DasfProtocolError(`${what} answered with an empty payload`);
    }
    return decodeJsonPayload(reply.payload) as T;
  }

  /** The module's `api_info` (functions, classes, JSON schemas; PROTOCOL.md §11). */
  async apiInfo(topic: string, options: { timeoutMs?: number } = {}): Promise<ModuleApiInfo> {
    const reply = await this.send(topic, MessageType.apiInfo, '', {
      what: `api_info of ${topic}`,
      expects: 'response',
      timeoutMs: options.timeoutMs ?? this.timeoutMs
    });
    return propertyJson(reply, Prop.apiInfo, topic) as ModuleApiInfo;
  }

  /** The module's request JSON schema (the reply to `info`). */
  async info(topic: string, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const reply = await this.send(topic, MessageType.info, '', {
      what: `info of ${topic}`,
      expects: 'response',
      timeoutMs: options.timeoutMs ?? this.timeoutMs
    });
    return propertyJson(reply, Prop.info, topic);
  }

  /** Resolve once the module answers a ping; reject with DasfTimeoutError if it does not. */
  async ping(topic: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.send(topic, MessageType.ping, '', {
      what: `ping of ${topic}`,
      expects: 'pong',
      timeoutMs: options.timeoutMs ?? this.timeoutMs
    });
  }

  /** Close every socket; calls still waiting reject with DasfConnectionError. */
  close(): void {
    this.closed = true;
    for (const channel of [...this.channels.values()]) {
      channel.close(new DasfConnectionError('the connection was closed by the client'));
    }
    for (const socket of this.pongSockets.values()) {
      socket.then(s => s.close()).catch(() => undefined);
    }
    this.pongSockets.clear();
  }

  /** Calls still waiting for their reply, over all topics. */
  get pendingCount(): number {
    let count = 0;
    for (const channel of this.channels.values()) {
      count += channel.pendingCount;
    }
    return count;
  }

  private send(
    topic: string,
    messageType: string,
    payload: string,
    options: Parameters<TopicChannel['send']>[3]
  ): Promise<Reply> {
    if (this.closed) {
      return Promise.reject(new DasfConnectionError('the connection is closed'));
    }
    // like the reference TS client: contexts are strings counting from "1"
    const context = String(++this.counter);
    return this.channel(topic).send(context, messageType, payload, options);
  }

  private channel(topic: string): TopicChannel {
    checkTopic(topic);
    let channel = this.channels.get(topic);
    if (channel === undefined) {
      channel = new TopicChannel(topic, this.host);
      this.channels.set(topic, channel);
    }
    return channel;
  }

  private sendPong(topic: string, frame: string): void {
    if (this.closed) {
      return;
    }
    let socket = this.pongSockets.get(topic);
    if (socket === undefined) {
      const { urls, WebSocketImpl, connectTimeoutMs } = this.host;
      socket = openSocket(urls.producer(topic), WebSocketImpl, connectTimeoutMs);
      this.pongSockets.set(topic, socket);
      socket
        .then(s => {
          s.onclose = () => this.pongSockets.delete(topic);
        })
        .catch(() => this.pongSockets.delete(topic));
    }
    // a lost pong only makes a status page stale, so failures are ignored
    socket.then(s => s.send(frame)).catch(() => undefined);
  }
}

/** Open a connection (sockets open lazily, on the first call of each topic). */
export function connect(baseUrl: string, options: DasfConnectionOptions = {}): DasfConnection {
  return new DasfConnection(baseUrl, options);
}

function checkRequest(request: Record<string, unknown>): void {
  const ok =
    request !== null &&
    typeof request === 'object' &&
    !Array.isArray(request) &&
    (typeof request.func_name === 'string' || typeof request.class_name === 'string');
  if (!ok) {
    throw new DasfError(
      'a request is an object with "func_name" (function) or "class_name" (class), ' +
        'e.g. {func_name: "add", a: 1}'
    );
  }
}

function describe(topic: string, request: Record<string, unknown>): string {
  if (typeof request.class_name === 'string') {
    const method = (request.function as { func_name?: unknown } | undefined)?.func_name;
    return `${topic}.${request.class_name}.${String(method)}`;
  }
  return `${topic}.${String(request.func_name)}`;
}

function propertyJson(reply: Reply, key: string, topic: string): unknown {
  const text = stringProp(reply.properties, key);
  if (text === undefined) {
    throw new DasfProtocolError(`the reply of ${topic} has no "${key}" property`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // reference backends without a schema answer with a sentence instead of JSON
    throw new DasfProtocolError(`${topic} sent no ${key} schema: ${text.slice(0, 200)}`);
  }
}

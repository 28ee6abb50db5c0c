/** One request topic: a producer socket, a consumer on a private response topic, the calls. */

import { decodeJsonPayload, decodeTextPayload } from './base64';
import {
  Delivery,
  MessageType,
  Prop,
  Properties,
  decodeDelivery,
  decodePublishAck,
  encodeConsumerAck,
  encodePublish,
  requestTtl,
  stringProp
} from './envelope';
import {
  DasfConnectionError,
  DasfError,
  DasfPayloadTooLargeError,
  DasfProtocolError,
  DasfRefusedError,
  DasfRemoteError
} from './errors';
import { FragmentAssembler, fragmentIndex } from './fragments';
import { PendingCall, ReplyKind } from './pending';
import { OPEN, WebSocketConstructor, WebSocketLike, openSocket } from './socket';
import { BrokerUrls, newResponseTopic, newSubscription } from './urls';

/** The final message of a call, payload already reassembled. */
export interface Reply {
  payload: string;
  properties: Properties;
}

/** The broker's liveness topic: the only topic a client publishes pongs to. */
export const STATUS_PING_TOPIC = 'status-ping';
/** At most one pong per channel in this many milliseconds. */
const MIN_PONG_INTERVAL_MS = 1000;

/** What a channel needs from its connection. */
export interface ChannelHost {
  urls: BrokerUrls;
  WebSocketImpl: WebSocketConstructor;
  connectTimeoutMs: number;
  /** Fragments of the replies of all channels (request contexts are unique per connection). */
  assembler: FragmentAssembler;
  /** Publish a pong to `topic` (only ever the broker's `status-ping`). */
  sendPong(topic: string, frame: string): void;
  /** The channel's sockets closed; forget it so that the next call opens a new one. */
  forget(channel: TopicChannel): void;
}

/** Options of one message sent through a channel. */
export interface SendOptions {
  timeoutMs: number;
  expects: ReplyKind;
  what: string;
  onProgress?: (report: unknown) => void;
}

/** Calls to one backend topic over two websockets; opened on first use. */
export class TopicChannel {
  readonly responseTopic: string;
  private producer: WebSocketLike | undefined;
  private consumer: WebSocketLike | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;
  private readonly pending = new Map<string, PendingCall<Reply>>();
  private lastPongMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly topic: string,
    private readonly host: ChannelHost
  ) {
    this.responseTopic = newResponseTopic(topic);
  }

  /** Open both sockets (the consumer first, so that no reply can be missed). */
  open(): Promise<void> {
    // a failed open closes the channel, so that the next call starts a fresh one
    this.opening ??= this.connect().catch(error => {
      this.close(error instanceof DasfError ? error : new DasfConnectionError(String(error)));
      throw error;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const { urls, WebSocketImpl, connectTimeoutMs } = this.host;
    const consumerUrl = urls.consumer(this.responseTopic, newSubscription());
    this.consumer = await openSocket(consumerUrl, WebSocketImpl, connectTimeoutMs);
    this.watch(this.consumer, data => this.onDelivery(data));
    if (this.closed) {
      throw new DasfConnectionError('the connection was closed');
    }
    this.producer = await openSocket(urls.producer(this.topic), WebSocketImpl, connectTimeoutMs);
    this.watch(this.producer, data => this.onAck(data));
    if (this.closed) {
      throw new DasfConnectionError('the connection was closed');
    }
  }

  /** Publish a message to the topic and wait for its reply (or a rejection). */
  async send(
    context: string,
    messageType: string,
    payload: string,
    options: SendOptions
  ): Promise<Reply> {
    await this.open();
    const call = new PendingCall<Reply>(
      context,
      options.what,
      options.expects,
      options.timeoutMs,
      done => this.settled(done),
      options.onProgress
    );
    this.pending.set(context, call);
    const properties = {
      [Prop.messageType]: messageType,
      [Prop.responseTopic]: this.responseTopic,
      [Prop.requestContext]: context,
      // the broker drops it undelivered once we have given up: it never runs late
      [Prop.ttl]: requestTtl(options.timeoutMs)
    };
    const producer = this.producer;
    if (this.closed || producer === undefined || producer.readyState !== OPEN) {
      call.reject(new DasfConnectionError(`the connection to ${this.topic} is closed`));
    } else {
      producer.send(encodePublish(payload, properties, context));
    }
    return call.promise;
  }

  /** Close both sockets; pending calls reject with `error`. */
  close(error: DasfError = new DasfConnectionError('the connection was closed')): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const call of [...this.pending.values()]) {
      call.reject(error);
    }
    for (const socket of [this.producer, this.consumer]) {
      if (socket) {
        socket.onclose = socket.onmessage = socket.onerror = null;
        socket.close();
      }
    }
    this.host.forget(this);
  }

  /** Number of calls still waiting. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private watch(socket: WebSocketLike, onData: (data: unknown) => void): void {
    socket.onmessage = event => onData(event.data);
    socket.onerror = () => undefined; // the close event that follows reports it
    socket.onclose = event =>
      this.close(
        new DasfConnectionError(
          `lost the connection to the broker for ${JSON.stringify(this.topic)} ` +
            `(code ${event?.code ?? '?'}${event?.reason ? ': ' + event.reason : ''})`
        )
      );
  }

  private settled(call: PendingCall<Reply>): void {
    if (this.pending.get(call.context) === call) {
      this.pending.delete(call.context);
    }
    this.host.assembler.discard(`${call.context}/response`);
    this.host.assembler.discard(`${call.context}/progress`);
  }

  private onAck(data: unknown): void {
    let ack;
    try {
      ack = decodePublishAck(data);
    } catch (error) {
      console.warn(`DASF: ignoring a bad publish ack on ${this.topic}:`, error);
      return;
    }
    if (ack.result === 'ok') {
      return;
    }
    const context = ack.context === undefined || ack.context === null ? '' : String(ack.context);
    this.pending.get(context)?.reject(new DasfRefusedError(this.topic, ack.result, ack.errorMsg));
  }

  private onDelivery(data: unknown): void {
    let delivery: Delivery;
    try {
      delivery = decodeDelivery(data);
    } catch (error) {
      console.warn(`DASF: ignoring a bad frame on ${this.responseTopic}:`, error);
      return;
    }
    if (delivery.messageId !== undefined && this.consumer?.readyState === OPEN) {
      this.consumer.send(encodeConsumerAck(delivery.messageId));
    }
    const properties = delivery.properties;
    const type = stringProp(properties, Prop.messageType);
    if (type === MessageType.ping) {
      this.answerPing(properties);
      return;
    }
    const context = stringProp(properties, Prop.requestContext);
    const call = context === undefined ? undefined : this.pending.get(context);
    if (call === undefined) {
      return; // a broker probe meant for backends, or a late reply to a finished call
    }
    try {
      if (type === MessageType.progress) {
        this.onProgress(call, delivery);
      } else if (type === call.expects) {
        this.onReply(call, delivery);
      }
    } catch (error) {
      const reason = error instanceof DasfError ? error : new DasfProtocolError(String(error));
      call.reject(reason);
    }
  }

  private reassemble(call: PendingCall<Reply>, kind: string, delivery: Delivery): string | null {
    const index = fragmentIndex(delivery.properties);
    if (index === null) {
      return delivery.payload;
    }
    // dropped to bound the memory of all incomplete replies: the call fails at once
    const onDrop = (reason: string) =>
      call.reject(
        new DasfPayloadTooLargeError(
          `the ${kind} to ${call.what} on ${JSON.stringify(this.topic)} was dropped ` +
            `before all its fragments arrived: ${reason}`
        )
      );
    const key = `${call.context}/${kind}`;
    return this.host.assembler.add(key, index[0], index[1], delivery.payload, onDrop);
  }

  private onProgress(call: PendingCall<Reply>, delivery: Delivery): void {
    call.touch();
    const payload = this.reassemble(call, 'progress', delivery);
    if (payload === null || call.onProgress === undefined) {
      return;
    }
    let report: unknown;
    try {
      report = payload === '' ? null : decodeJsonPayload(payload);
    } catch (error) {
      console.warn(`DASF: ignoring a bad progress report from ${this.topic}:`, error);
      return;
    }
    try {
      call.onProgress(report);
    } catch (error) {
      // the caller's display code must not break the call
      console.error('DASF: the onProgress callback failed:', error);
    }
  }

  private onReply(call: PendingCall<Reply>, delivery: Delivery): void {
    call.touch();
    const payload = this.reassemble(call, 'response', delivery);
    if (payload === null) {
      return;
    }
    const properties = delivery.properties;
    if (stringProp(properties, Prop.status) === 'error') {
      call.reject(
        new DasfRemoteError(
          errorText(payload),
          this.topic,
          stringProp(properties, Prop.errorType),
          stringProp(properties, Prop.traceback)
        )
      );
      return;
    }
    call.resolve({ payload, properties });
  }

  /**
   * Answer the broker's liveness probe. Anyone who can publish to our response topic can
   * send a ping, so the pong only ever goes to the broker's status topic (never to a topic
   * the sender chose) and at most once a second: a ping flood costs no socket and no pong.
   */
  private answerPing(properties: Properties): void {
    const topic = stringProp(properties, Prop.responseTopic);
    const now = Date.now();
    if (topic !== STATUS_PING_TOPIC || now - this.lastPongMs < MIN_PONG_INTERVAL_MS) {
      return;
    }
    this.lastPongMs = now;
    const pong = {
      [Prop.messageType]: MessageType.pong,
      [Prop.requestContext]: properties[Prop.requestContext] ?? '',
      [Prop.sourceTopic]: this.responseTopic
    };
    const context = stringProp(properties, Prop.requestContext) ?? '';
    this.host.sendPong(topic, encodePublish('', pong, context));
  }
}

/** The message of an error response: plain UTF-8 text, shown raw if it is not. */
function errorText(payload: string): string {
  try {
    return decodeTextPayload(payload) || 'the backend reported an error without a message';
  } catch {
    return `the backend reported an error with an undecodable message: ${payload.slice(0, 80)}`;
  }
}

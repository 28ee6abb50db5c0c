import { encodeJsonPayload, encodeTextPayload } from '../src/dasf/base64';
import { DasfConnection } from '../src/dasf/connection';
import {
  DasfConnectionError,
  DasfError,
  DasfPayloadTooLargeError,
  DasfRefusedError,
  DasfRemoteError,
  DasfTimeoutError
} from '../src/dasf/errors';
import { FakeSocket, until } from './fakesocket';

const BASE = 'ws://broker.test:8000/ws';

function connection(options: Record<string, unknown> = {}): DasfConnection {
  return new DasfConnection(BASE, { WebSocketImpl: FakeSocket, ...options });
}

/** The producer socket of `topic` once the request is on it, and the consumer socket. */
async function sockets(topic = 'climate', count = 1): Promise<[FakeSocket, FakeSocket]> {
  await until(() => sent(topic) >= count);
  // the newest of each: earlier ones may be from a failed or lost connection
  const paths = FakeSocket.created.map(s => new URL(s.url).pathname);
  const producer = FakeSocket.created[paths.lastIndexOf(`/ws/${topic}`)];
  const consumers = FakeSocket.created.filter((_, i) => paths[i].startsWith(`/ws/${topic}_`));
  const consumer = consumers[consumers.length - 1];
  return [producer, consumer];
}

function sent(topic: string): number {
  const producers = FakeSocket.created.filter(s => new URL(s.url).pathname === `/ws/${topic}`);
  return producers.length ? producers[producers.length - 1].sent.length : 0;
}

let nextId = 0;

/** What `promise` settles with within `ms`, else the text 'still pending'. */
async function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise(resolve => (timer = setTimeout(() => resolve('still pending'), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function reply(
  consumer: FakeSocket,
  context: string,
  payload: string,
  properties: Record<string, unknown> = {}
): string {
  const messageId = `m${++nextId}`;
  consumer.receive({
    payload,
    properties: {
      messageType: 'response',
      status: 'success',
      requestContext: context,
      source_topic: 'climate',
      ...properties
    },
    context,
    messageId,
    publishTime: new Date().toISOString()
  });
  return messageId;
}

beforeEach(() => FakeSocket.reset());

describe('DasfConnection with a fake broker', () => {
  test('a call publishes a request and resolves with the decoded result', async () => {
    const conn = connection({ token: 's3cret' });
    const result = conn.call('climate', { func_name: 'add', a: 2, b: 3 });
    const [producer, consumer] = await sockets();
    const frame = producer.sent[0];
    expect(frame.context).toBe('1');
    expect(frame.properties.messageType).toBe('request');
    expect(frame.properties.requestContext).toBe('1');
    expect(frame.properties.response_topic).toMatch(/^climate_[0-9a-f]{12}$/);
    expect(Buffer.from(frame.payload, 'base64').toString()).toBe(
      '{"func_name":"add","a":2,"b":3}'
    );
    expect(new URL(consumer.url).pathname).toMatch(
      new RegExp(`^/ws/${frame.properties.response_topic}/web-frontend-`)
    );
    for (const socket of [producer, consumer]) {
      expect(new URL(socket.url).searchParams.get('token')).toBe('s3cret');
    }
    producer.receive({ result: 'ok', context: '1', messageId: 'x' });
    const messageId = reply(consumer, '1', encodeJsonPayload(5));
    await expect(result).resolves.toBe(5);
    expect(consumer.sent).toContainEqual({ messageId });
    expect(conn.pendingCount).toBe(0);
    conn.close();
  });

  test('request contexts are strings counting up, sockets are reused per topic', async () => {
    const conn = connection();
    const first = conn.call('climate', { func_name: 'add', a: 1 });
    const second = conn.call('climate', { func_name: 'add', a: 2 });
    const [producer, consumer] = await sockets('climate', 2);
    expect(producer.sent.map(f => f.properties.requestContext)).toEqual(['1', '2']);
    reply(consumer, '2', encodeJsonPayload('two'));
    reply(consumer, '1', encodeJsonPayload('one'));
    await expect(first).resolves.toBe('one');
    await expect(second).resolves.toBe('two');
    expect(FakeSocket.created).toHaveLength(2);
    conn.close();
  });

  test('an error response rejects with DasfRemoteError, never resolves a string', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: -1 });
    const [, consumer] = await sockets();
    reply(consumer, '1', encodeTextPayload('error executing request: Grüße sind ungültig'), {
      status: 'error',
      dasf_error_type: 'ValueError'
    });
    const error: any = await result.catch((e: any) => e);
    expect(error).toBeInstanceOf(DasfRemoteError);
    expect(error).toBeInstanceOf(DasfError);
    expect(error.message).toBe('error executing request: Grüße sind ungültig');
    expect(error.errorType).toBe('ValueError');
    expect(error.topic).toBe('climate');
    conn.close();
  });

  test('a refused publish rejects with the broker result', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 });
    const [producer] = await sockets();
    producer.receive({ result: 'User is not allowed to publish to this topic', context: '1' });
    await expect(result).rejects.toThrow(DasfRefusedError);
    await expect(result).rejects.toThrow(/not allowed to publish/);
    conn.close();
  });

  test('no reply rejects with DasfTimeoutError after timeoutMs', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 }, { timeoutMs: 50 });
    await expect(result).rejects.toThrow(DasfTimeoutError);
    expect(conn.pendingCount).toBe(0);
    conn.close();
  });

  test('progress reports reach the callback and reset the timeout', async () => {
    const conn = connection();
    const reports: unknown[] = [];
    const result = conn.call(
      'climate',
      { func_name: 'slow_mean', values: [1, 2] },
      { timeoutMs: 150, onProgress: r => reports.push(r) }
    );
    const [, consumer] = await sockets();
    // 6 reports 60 ms apart: 360 ms in all, far beyond the 150 ms timeout
    for (let i = 0; i < 6; i++) {
      await new Promise(resolve => setTimeout(resolve, 60));
      reply(consumer, '1', encodeJsonPayload({ step_message: `step ${i}`, status: 'running' }), {
        messageType: 'progress',
        status: 'running'
      });
    }
    reply(consumer, '1', encodeJsonPayload(1.5));
    await expect(result).resolves.toBe(1.5);
    expect(reports).toHaveLength(6);
    expect(reports[5]).toEqual({ step_message: 'step 5', status: 'running' });
    conn.close();
  });

  test('a throwing progress callback does not break the call', async () => {
    const conn = connection();
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const result = conn.call(
      'climate',
      { func_name: 'add', a: 1 },
      {
        onProgress: () => {
          throw new Error('display broke');
        }
      }
    );
    const [, consumer] = await sockets();
    reply(consumer, '1', encodeJsonPayload({}), { messageType: 'progress' });
    reply(consumer, '1', encodeJsonPayload(2));
    await expect(result).resolves.toBe(2);
    spy.mockRestore();
    conn.close();
  });

  test('a fragmented response is reassembled before decoding', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'greet' });
    const [, consumer] = await sockets();
    const whole = encodeJsonPayload(['hi Jürgen Grüße', 'hi Ada']);
    const size = 5;
    const chunks: string[] = [];
    for (let i = 0; i < whole.length; i += size) {
      chunks.push(whole.slice(i, i + size));
    }
    // deliver out of order: the last one first
    const order = [chunks.length - 1, ...chunks.keys()].slice(0, chunks.length);
    for (const index of order) {
      reply(consumer, '1', chunks[index], { fragment: index, num_fragments: chunks.length });
    }
    await expect(result).resolves.toEqual(['hi Jürgen Grüße', 'hi Ada']);
    conn.close();
  });

  test('past the total bound the oldest incomplete reply is dropped and its call fails at once', async () => {
    const conn = connection({ maxIncompleteReplyChars: 4096, timeoutMs: 60_000 });
    const first = conn.call('climate', { func_name: 'greet' });
    const firstError = first.catch((e: unknown) => e);
    const second = conn.call('climate', { func_name: 'greet' });
    const [, consumer] = await sockets('climate', 2);
    const whole = encodeJsonPayload('x'.repeat(6000));
    const chunks = [whole.slice(0, 3000), whole.slice(3000)];
    reply(consumer, '1', chunks[0], { fragment: 0, num_fragments: 2 });
    reply(consumer, '2', chunks[0], { fragment: 0, num_fragments: 2 });
    // long before the call's 60 s timeout
    const error: any = await within(firstError, 2000);
    expect(error).toBeInstanceOf(DasfPayloadTooLargeError);
    expect(error.message).toMatch(/the response to .* on "climate" was dropped before all its/);
    expect(error.message).toMatch(/exceeded 4096 characters in total/);
    // the newer call is intact and completes
    reply(consumer, '2', chunks[1], { fragment: 1, num_fragments: 2 });
    await expect(second).resolves.toBe('x'.repeat(6000));
    conn.close();
  });

  test('the total bound covers the replies of all topics of a connection', async () => {
    const conn = connection({ maxIncompleteReplyChars: 4096, timeoutMs: 60_000 });
    const first = conn.call('climate', { func_name: 'greet' }).catch((e: unknown) => e);
    const [, climate] = await sockets('climate');
    const second = conn.call('ocean', { func_name: 'greet' });
    const [, ocean] = await sockets('ocean');
    const whole = encodeJsonPayload('y'.repeat(6000));
    reply(climate, '1', whole.slice(0, 3000), { fragment: 0, num_fragments: 2 });
    reply(ocean, '2', whole.slice(0, 3000), { fragment: 0, num_fragments: 2 });
    const error: any = await within(first, 2000);
    expect(error).toBeInstanceOf(DasfPayloadTooLargeError);
    reply(ocean, '2', whole.slice(3000), { fragment: 1, num_fragments: 2 });
    await expect(second).resolves.toBe('y'.repeat(6000));
    conn.close();
  });

  test('a malformed fragment rejects the call', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'greet' });
    const [, consumer] = await sockets();
    reply(consumer, '1', 'abc', { fragment: 5, num_fragments: 2 });
    await expect(result).rejects.toThrow(/out of range/);
    conn.close();
  });

  test('injected pings reflect nowhere and a flood costs one pong socket and one pong', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 });
    const [, consumer] = await sockets();
    for (let i = 0; i < 50; i++) {
      const target = i % 2 === 0 ? `victim-${i}` : 'status-ping';
      consumer.receive({
        payload: '',
        properties: { messageType: 'ping', requestContext: i, response_topic: target },
        messageId: `flood-${i}`
      });
    }
    await until(() => FakeSocket.created.some(s => s.url.includes('/ws/status-ping')));
    const pongSocket = FakeSocket.find('status-ping');
    await until(() => pongSocket.sent.length === 1);
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(FakeSocket.created.filter(s => s.url.includes('victim-'))).toHaveLength(0);
    expect(pongSocket.sent).toHaveLength(1);
    reply(consumer, '1', encodeJsonPayload(2));
    await expect(result).resolves.toBe(2);
    conn.close();
  });

  test('a ping from the broker is answered with a pong to its response topic', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 });
    const [, consumer] = await sockets();
    consumer.receive({
      payload: '',
      properties: { messageType: 'ping', requestContext: 1, response_topic: 'status-ping' },
      messageId: 'probe-1'
    });
    await until(() => FakeSocket.created.some(s => s.url.includes('/ws/status-ping')));
    const pongSocket = FakeSocket.find('status-ping');
    await until(() => pongSocket.sent.length === 1);
    const pong = pongSocket.sent[0];
    expect(pong.payload).toBe('');
    expect(pong.properties.messageType).toBe('pong');
    expect(pong.properties.requestContext).toBe(1);
    expect(pong.properties.source_topic).toMatch(/^climate_/);
    expect(consumer.sent).toContainEqual({ messageId: 'probe-1' });
    // a broker api_info probe with the same context number is not taken as the reply
    consumer.receive({
      payload: '',
      properties: { messageType: 'api_info', requestContext: 1, response_topic: 'status-ping' },
      messageId: 'probe-2'
    });
    reply(consumer, '1', encodeJsonPayload(2));
    await expect(result).resolves.toBe(2);
    conn.close();
  });

  test('apiInfo reads the api_info property', async () => {
    const conn = connection();
    const apiInfo = { classes: [], functions: [{ name: 'add' }], rpc_schema: {} };
    const result = conn.apiInfo('climate');
    const [producer, consumer] = await sockets();
    expect(producer.sent[0].properties.messageType).toBe('api_info');
    expect(producer.sent[0].payload).toBe('');
    reply(consumer, '1', '', { api_info: JSON.stringify(apiInfo), status: undefined });
    await expect(result).resolves.toEqual(apiInfo);
    conn.close();
  });

  test('ping resolves on the pong', async () => {
    const conn = connection();
    const result = conn.ping('climate');
    const [producer, consumer] = await sockets();
    expect(producer.sent[0].properties.messageType).toBe('ping');
    reply(consumer, '1', '', { messageType: 'pong', status: undefined });
    await expect(result).resolves.toBeUndefined();
    conn.close();
  });

  test('a lost connection rejects pending calls; the next call reconnects', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 });
    const [producer] = await sockets();
    producer.close(1011, 'server error');
    await expect(result).rejects.toThrow(DasfConnectionError);
    await expect(result).rejects.toThrow(/1011: server error/);
    const again = conn.call('climate', { func_name: 'add', a: 1 });
    await until(() => FakeSocket.created.length === 4);
    const [, consumer] = [FakeSocket.created[3], FakeSocket.created[2]];
    await until(() => FakeSocket.created[3].sent.length === 1);
    reply(consumer, '2', encodeJsonPayload(2));
    await expect(again).resolves.toBe(2);
    conn.close();
  });

  test('close rejects pending calls and later calls', async () => {
    const conn = connection();
    const result = conn.call('climate', { func_name: 'add', a: 1 });
    await sockets();
    conn.close();
    await expect(result).rejects.toThrow(/closed by the client/);
    await expect(conn.call('climate', { func_name: 'add', a: 1 })).rejects.toThrow(
      DasfConnectionError
    );
    expect(FakeSocket.created.every(s => s.readyState === 3)).toBe(true);
  });

  test('a broker that never answers the handshake fails with DasfConnectionError', async () => {
    FakeSocket.autoOpen = false;
    const conn = connection({ connectTimeoutMs: 30, token: 'hide-me' });
    const error: any = await conn.call('climate', { func_name: 'add', a: 1 }).catch((e: any) => e);
    expect(error).toBeInstanceOf(DasfConnectionError);
    expect(error.message).toMatch(/no answer within 30 ms/);
    expect(error.message).not.toMatch(/hide-me/);
    conn.close();
  });

  test('after a failed handshake the next call connects afresh', async () => {
    FakeSocket.autoOpen = false;
    const conn = connection({ connectTimeoutMs: 30 });
    await expect(conn.call('climate', { func_name: 'add', a: 1 })).rejects.toThrow(
      DasfConnectionError
    );
    FakeSocket.autoOpen = true;
    const again = conn.call('climate', { func_name: 'add', a: 1 });
    const [, consumer] = await sockets();
    reply(consumer, '2', encodeJsonPayload(2));
    await expect(again).resolves.toBe(2);
    conn.close();
  });

  test('bad arguments fail clearly before anything is sent', async () => {
    const conn = connection();
    await expect(conn.call('climate', { a: 1 })).rejects.toThrow(/func_name/);
    await expect(conn.call('bad topic!', { func_name: 'add' })).rejects.toThrow(/invalid topic/);
    expect(() => new DasfConnection('ftp://x', { WebSocketImpl: FakeSocket })).toThrow(/ws:\/\//);
    expect(FakeSocket.created).toHaveLength(0);
  });

  test('an http base URL maps to ws and keeps its path', async () => {
    const conn = new DasfConnection('https://hub.test/user/x/dasf/ws/', {
      WebSocketImpl: FakeSocket,
      token: 'a b'
    });
    expect(conn.url).toBe('wss://hub.test/user/x/dasf/ws/');
    conn.ping('climate').catch(() => undefined);
    await until(() => FakeSocket.created.length === 1);
    const url = new URL(FakeSocket.created[0].url);
    expect(url.pathname).toMatch(/^\/user\/x\/dasf\/ws\/climate_[0-9a-f]+\/web-frontend-/);
    expect(url.searchParams.get('token')).toBe('a b');
    conn.close();
  });
});

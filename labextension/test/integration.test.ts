/**
 * The client against a LIVE broker and our Python backend modules; run by
 * tests/labextension/test_ts_client.py, which sets DASF_TEST_BROKER_URL and the topics.
 */

import WebSocket from 'ws';

import {
  BrokerUrls,
  DasfConnection,
  DasfConnectionError,
  DasfError,
  DasfPayloadTooLargeError,
  DasfRemoteError,
  MessageType,
  Prop,
  WebSocketConstructor,
  decodeDelivery,
  encodeConsumerAck,
  encodePublish,
  stringProp
} from '../src/dasf';

const url = process.env.DASF_TEST_BROKER_URL!;
const climate = process.env.DASF_TEST_CLIMATE_TOPIC!;
const peer = process.env.DASF_TEST_PEER_TOPIC!;
const peerFragmentSize = Number(process.env.DASF_TEST_PEER_FRAGMENT_SIZE);
const WebSocketImpl = (globalThis as any).WebSocket ?? (WebSocket as unknown as WebSocketConstructor);

let conn: DasfConnection;

beforeAll(() => {
  conn = new DasfConnection(url, { WebSocketImpl, timeoutMs: 30_000 });
});

afterAll(() => conn.close());

jest.setTimeout(60_000);

describe('TS client against the live broker and Python backend', () => {
  test('apiInfo lists the functions with their documentation', async () => {
    const info = await conn.apiInfo(climate);
    const names = info.functions.map(f => f.name).sort();
    expect(names).toEqual(['add', 'anomaly', 'make_grid', 'slow_mean']);
    const add = info.functions.find(f => f.name === 'add')!;
    expect(add.rpc_schema.description).toMatch(/Add two numbers/);
    expect(add.rpc_schema.properties.a.description).toBe('first number');
  });

  test('info returns the request schema', async () => {
    const schema = (await conn.info(climate)) as Record<string, unknown>;
    expect(typeof schema).toBe('object');
    expect(JSON.stringify(schema)).toMatch(/FuncAdd/);
  });

  test('ping resolves on the pong', async () => {
    await expect(conn.ping(climate)).resolves.toBeUndefined();
  });

  test('a function call resolves with the decoded result', async () => {
    await expect(conn.call(climate, { func_name: 'add', a: 2, b: 3 })).resolves.toBe(5);
    await expect(conn.call(climate, { func_name: 'add', a: 41 })).resolves.toBe(42);
  });

  test('concurrent calls each get their own result', async () => {
    const calls = [...Array(20).keys()].map(i => conn.call(climate, { func_name: 'add', a: i }));
    await expect(Promise.all(calls)).resolves.toEqual([...Array(20).keys()].map(i => i + 1));
  });

  test('an xarray result arrives as the codec JSON', async () => {
    const grid = (await conn.call(climate, { func_name: 'make_grid', n: 3 })) as unknown;
    expect(grid).not.toBeNull();
    expect(JSON.stringify(grid).length).toBeGreaterThan(20);
  });

  test('UTF-8 text survives the round trip', async () => {
    const text = 'Grüße aus Potsdam 🌍 — ½ °C ≠ ∞';
    await expect(conn.call(peer, { func_name: 'echo', text })).resolves.toBe(text);
  });

  test('a large result is fragmented by the backend and reassembled', async () => {
    const times = 400;
    const text = 'Grüße ';
    const encoded = Buffer.from(JSON.stringify(Array(times).fill(text))).toString('base64');
    // proves the reply was really split into several fragments
    expect(encoded.length).toBeGreaterThan(3 * peerFragmentSize);
    const result = await conn.call(peer, { func_name: 'repeat', text, times });
    expect(result).toEqual(Array(times).fill(text));
  });

  test('an exception in the backend rejects with DasfRemoteError and its type', async () => {
    const error: any = await conn
      .call(peer, { func_name: 'repeat', text: 'x', times: -1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DasfRemoteError);
    expect(error.errorType).toBe('ValueError');
    expect(error.message).toMatch(/times must not be negative, got -1/);
  });

  test('a request that fails validation rejects, never resolves an error string', async () => {
    const error: any = await conn
      .call(climate, { func_name: 'add', a: 'Grüße' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DasfRemoteError);
    expect(error.message).toMatch(/valid/);
  });

  test('progress reports arrive before the result', async () => {
    const reports: any[] = [];
    const result = await conn.call(
      climate,
      { func_name: 'slow_mean', values: [1, 2, 3], delay: 0.05 },
      { onProgress: report => reports.push(report) }
    );
    expect(result).toBe(2);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(reports)).toMatch(/3 of 3 values/);
  });

  test('a topic that nobody serves fails instead of hanging', async () => {
    const error: any = await conn
      .call('nobody-serves-this', { func_name: 'add', a: 1 }, { timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DasfError);
    expect(error.message).toMatch(/nobody-serves-this/);
  });

  test('an unknown token is refused at the handshake', async () => {
    const bad = new DasfConnection(url, { WebSocketImpl, token: 'not-a-real-token' });
    const error: any = await bad.call(climate, { func_name: 'add', a: 1 }).catch((e: unknown) => e);
    bad.close();
    expect(error).toBeInstanceOf(DasfConnectionError);
    expect(error.message).not.toMatch(/not-a-real-token/);
  });

  test('replies that never complete: the oldest is dropped and its call fails at once', async () => {
    const MiB = 1024 * 1024;
    const topic = `ts-fragcaps-${Date.now().toString(36)}`;
    const urls = new BrokerUrls(url);
    // a backend that answers each request with 3 of 4 fragments of 1 Mi characters
    const requests = new WebSocket(urls.consumer(topic, 'fake-backend'));
    const producers: WebSocket[] = [];
    let answered = 0;
    requests.on('message', (data: WebSocket.RawData) => {
      const delivery = decodeDelivery(data.toString());
      if (delivery.messageId !== undefined) {
        requests.send(encodeConsumerAck(delivery.messageId));
      }
      const props = delivery.properties;
      if (stringProp(props, Prop.messageType) !== MessageType.request) {
        return; // the broker's liveness probes
      }
      const context = stringProp(props, Prop.requestContext)!;
      const producer = new WebSocket(urls.producer(stringProp(props, Prop.responseTopic)!));
      producers.push(producer);
      producer.on('open', () => {
        for (let index = 0; index < 3; index++) {
          const fragment = {
            [Prop.messageType]: MessageType.response,
            [Prop.sourceTopic]: topic,
            [Prop.requestContext]: context,
            [Prop.fragment]: index,
            [Prop.numFragments]: 4
          };
          producer.send(encodePublish('A'.repeat(MiB), fragment, context));
        }
        answered += 1;
      });
    });
    await new Promise((resolve, reject) => {
      requests.on('open', resolve);
      requests.on('error', reject);
    });
    const capped = new DasfConnection(url, {
      WebSocketImpl,
      timeoutMs: 60_000,
      maxIncompleteReplyChars: 4 * MiB
    });
    try {
      const first = capped.call(topic, { func_name: 'f' }).catch((e: unknown) => e);
      await waitFor(() => answered >= 1, 20_000);
      await new Promise(resolve => setTimeout(resolve, 500)); // the first reply is older
      let secondDone = false;
      const second = capped.call(topic, { func_name: 'g' }).finally(() => (secondDone = true));
      second.catch(() => undefined);
      const started = Date.now();
      const error: any = await first;
      expect(Date.now() - started).toBeLessThan(20_000); // not the call's 60 s timeout
      expect(error).toBeInstanceOf(DasfPayloadTooLargeError);
      expect(error.message).toMatch(/dropped before all its fragments arrived/);
      expect(error.message).toMatch(/4 MiB in total/);
      expect(secondDone).toBe(false); // the newer incomplete reply is kept
    } finally {
      capped.close();
      requests.close();
      producers.forEach(p => p.close());
    }
  });
});

/** Poll until `predicate` holds, or fail after `ms`. */
async function waitFor(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error('condition not reached');
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

/**
 * The client against the REFERENCE stack: dasf-broker-django + a demessaging 0.6.4 backend;
 * run by tests/labextension/test_ts_client.py, which sets the env variables.
 */

import WebSocket from 'ws';

import {
  DasfConnection,
  DasfRefusedError,
  DasfRemoteError,
  WebSocketConstructor
} from '../src/dasf';

const url = process.env.DASF_TEST_REF_BROKER_URL!;
const topic = process.env.DASF_TEST_REF_TOPIC!;
const closedUrl = process.env.DASF_TEST_REF_CLOSED_BROKER_URL!;
const WebSocketImpl = (globalThis as any).WebSocket ?? (WebSocket as unknown as WebSocketConstructor);

let conn: DasfConnection;

beforeAll(() => {
  conn = new DasfConnection(url, { WebSocketImpl, timeoutMs: 30_000 });
});

afterAll(() => conn.close());

jest.setTimeout(60_000);

describe('TS client against dasf-broker-django and a demessaging backend', () => {
  test('apiInfo lists functions and classes', async () => {
    const info = await conn.apiInfo(topic);
    expect(info.functions.map(f => f.name)).toEqual(
      expect.arrayContaining(['add', 'echo', 'divide', 'slow'])
    );
    expect(info.classes.map(c => c.name)).toContain('Greeter');
  });

  test('function and method calls resolve', async () => {
    await expect(conn.call(topic, { func_name: 'add', a: 2, b: 3 })).resolves.toBe(5);
    await expect(
      conn.call(topic, { class_name: 'Greeter', name: 'Ada', function: { func_name: 'greet', times: 2 } })
    ).resolves.toEqual(['hi Ada', 'hi Ada']);
  });

  test('UTF-8 survives where the reference TS client breaks', async () => {
    const text = 'Grüße 🌍';
    await expect(conn.call(topic, { func_name: 'echo', text })).resolves.toBe(text);
  });

  test('a fragmented reply from demessaging is reassembled', async () => {
    const name = 'Jürgen '.repeat(40);
    const result = await conn.call(topic, {
      class_name: 'Greeter',
      name,
      function: { func_name: 'greet', times: 5 }
    });
    expect(result).toEqual(Array(5).fill(`hi ${name}`));
  });

  test('an error response rejects with DasfRemoteError', async () => {
    const error: any = await conn
      .call(topic, { func_name: 'divide', a: 1, b: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DasfRemoteError);
    expect(error.message).toMatch(/division by zero/);
  });

  test('progress reports of deprogressapi arrive', async () => {
    const reports: any[] = [];
    const result = await conn.call(
      topic,
      { func_name: 'slow', steps: 2 },
      { onProgress: report => reports.push(report) }
    );
    expect(result).toBe(2);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports[0].report_type).toBe('tree');
  });

  test("the broker's refusal to create a topic rejects the call", async () => {
    const refused = new DasfConnection(closedUrl, { WebSocketImpl, timeoutMs: 30_000 });
    const error: any = await refused
      .call('brand-new-topic', { func_name: 'add', a: 1 })
      .catch((e: unknown) => e);
    refused.close();
    expect(error).toBeInstanceOf(DasfRefusedError);
    expect(error.result).toMatch(/not allowed to create topics/);
  });
});

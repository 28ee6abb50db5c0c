import { brokerHttpUrl, fetchTopics, parseTopics, topicsUrl } from '../src/discovery';

describe('discovery API', () => {
  test.each([
    ['ws://127.0.0.1:8000/ws', 'http://127.0.0.1:8000'],
    ['ws://127.0.0.1:8000/ws/', 'http://127.0.0.1:8000'],
    ['wss://hub.test/user/ada/proxy/8000/ws?token=x', 'https://hub.test/user/ada/proxy/8000'],
    ['http://host:8000/', 'http://host:8000']
  ])('the HTTP base of %s is %s', (ws, http) => {
    expect(brokerHttpUrl(ws)).toBe(http);
  });

  test('the topics endpoint is below the HTTP base', () => {
    expect(topicsUrl('ws://h:1/ws')).toBe('http://h:1/api/topics/');
  });

  test('topics are parsed, sorted, and broken entries dropped', () => {
    const topics = parseTopics([
      { name: 'zeta', online: true, api_info: { functions: [], classes: [], rpc_schema: {} } },
      { name: 'alpha', online: 'yes', api_info: 'garbage', description: 'A' },
      { description: 'no name' },
      null
    ]);
    expect(topics.map(t => [t.name, t.online, t.apiInfo === null])).toEqual([
      ['alpha', false, true],
      ['zeta', true, false]
    ]);
    expect(() => parseTopics({ detail: 'x' })).toThrow(/list of topics/);
  });

  test('fetchTopics sends the token and reports HTTP errors with their detail', async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const ok = async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      return new Response(JSON.stringify([{ name: 'climate', online: true }]), { status: 200 });
    };
    const topics = await fetchTopics('http://b/api/topics/', 'tok', ok);
    expect(topics[0].name).toBe('climate');
    expect((calls[0][1]!.headers as Record<string, string>).Authorization).toBe('Token tok');

    const refused = async () =>
      new Response(JSON.stringify({ detail: 'unknown or revoked token' }), { status: 401 });
    await expect(fetchTopics('http://b/api/topics/', 'bad', refused)).rejects.toThrow(
      /401: unknown or revoked token/
    );
    const down = async (): Promise<Response> => {
      throw new TypeError('fetch failed');
    };
    await expect(fetchTopics('http://b/api/topics/', '', down)).rejects.toThrow(/cannot reach/);
  });
});

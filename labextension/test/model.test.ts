import { TopicInfo } from '../src/discovery';
import { BrokerConfig, DasfSidebarModel } from '../src/model';

function topic(name: string, online = true): TopicInfo {
  return { name, description: '', online, lastPong: null, apiInfo: null };
}

describe('sidebar model', () => {
  test('connect uses the settings broker and loads its topics', async () => {
    const asked: BrokerConfig[] = [];
    const model = new DasfSidebarModel({
      serverConfig: async () => null,
      topics: async broker => {
        asked.push(broker);
        return [topic('climate')];
      }
    });
    let changes = 0;
    model.changed.connect(() => changes++);
    await model.configure({ brokerUrl: 'ws://b/ws', token: 't', refreshInterval: 0 });
    await model.connect();
    expect(model.connected).toBe(true);
    expect(asked).toEqual([{ url: 'ws://b/ws', token: 't' }]);
    expect(model.topics.map(t => t.name)).toEqual(['climate']);
    expect(changes).toBeGreaterThan(0);
    model.disconnect();
    expect(model.connected).toBe(false);
    expect(model.topics).toHaveLength(0);
    model.dispose();
  });

  test('without a broker URL the server config is used; none at all is an error', async () => {
    const viaServer = new DasfSidebarModel({
      serverConfig: async () => ({ url: 'ws://srv/ws', token: '', viaServer: true }),
      topics: async () => []
    });
    await viaServer.configure({ refreshInterval: 0 });
    await viaServer.connect();
    expect(viaServer.broker?.url).toBe('ws://srv/ws');
    viaServer.dispose();

    const nothing = new DasfSidebarModel({ serverConfig: async () => null, topics: async () => [] });
    await nothing.connect();
    expect(nothing.connected).toBe(false);
    expect(nothing.error).toMatch(/no broker configured/);
    nothing.dispose();
  });

  test('a failed refresh keeps the last list and reports the error', async () => {
    let fail = false;
    const model = new DasfSidebarModel({
      serverConfig: async () => null,
      topics: async () => {
        if (fail) {
          throw new Error('broker down');
        }
        return [topic('climate')];
      }
    });
    await model.configure({ brokerUrl: 'ws://b/ws', refreshInterval: 0 });
    await model.connect();
    fail = true;
    await model.refresh();
    expect(model.error).toBe('broker down');
    expect(model.topics).toHaveLength(1);
    fail = false;
    await model.refresh();
    expect(model.error).toBeNull();
    model.dispose();
  });

  test('topics refresh on the interval until disconnect', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const model = new DasfSidebarModel({
      serverConfig: async () => null,
      topics: async () => {
        calls++;
        return [topic('climate', calls % 2 === 1)];
      }
    });
    await model.configure({ brokerUrl: 'ws://b/ws', refreshInterval: 5 });
    await model.connect();
    expect(calls).toBe(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
    expect(model.topics[0].online).toBe(true);
    model.disconnect();
    await jest.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(3);
    model.dispose();
    jest.useRealTimers();
  });
});

/** Requests to the dasf-jupyter server extension (`/dasf/...` on the Jupyter server). */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { TopicInfo, parseTopics } from './discovery';
import { BrokerConfig } from './model';

/** GET a JSON document below `<base url>/dasf/`; null if the extension is not installed. */
async function getJson(path: string): Promise<unknown | null> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'dasf', path);
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (response.status === 404) {
    return null;
  }
  if (!response.ok) {
    const text = await response.text();
    throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  }
  return response.json();
}

/** The broker the Jupyter server uses (`GET /dasf/config`), or null if it has none. */
export async function serverBrokerConfig(): Promise<BrokerConfig | null> {
  const data = (await getJson('config')) as {
    broker_url?: unknown;
    token?: unknown;
    proxy_url?: unknown;
    token_required?: unknown;
  } | null;
  if (data === null || typeof data.broker_url !== 'string' || data.broker_url === '') {
    return null;
  }
  return {
    url: data.broker_url,
    token: typeof data.token === 'string' ? data.token : '',
    viaServer: true,
    proxyUrl: typeof data.proxy_url === 'string' ? data.proxy_url : undefined,
    tokenRequired: data.token_required === true
  };
}

/** The topics of the server's broker, fetched by the server (no CORS needed). */
export async function serverTopics(): Promise<TopicInfo[]> {
  const data = await getJson('topics');
  if (data === null) {
    throw new Error('the dasf-jupyter server extension is not installed');
  }
  return parseTopics(data);
}

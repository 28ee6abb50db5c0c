/** The broker's discovery API (`GET /api/topics/`): which modules exist and are online. */

import { ModuleApiInfo } from './dasf/apiinfo';

/** One topic as the discovery API describes it. */
export interface TopicInfo {
  name: string;
  description: string;
  online: boolean;
  lastPong: string | null;
  apiInfo: ModuleApiInfo | null;
}

/** A `fetch` function (the browser's, or a test double). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** The broker's HTTP base for its websocket base URL: `ws://h:p/ws` → `http://h:p`. */
export function brokerHttpUrl(brokerUrl: string): string {
  const url = new URL(brokerUrl);
  if (url.protocol === 'ws:' || url.protocol === 'wss:') {
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  }
  url.search = '';
  url.hash = '';
  // the websocket routes live under /ws; the HTTP API next to them
  url.pathname = url.pathname.replace(/\/*$/, '').replace(/\/ws$/, '');
  return url.href.replace(/\/$/, '');
}

/** The discovery endpoint of a broker. */
export function topicsUrl(brokerUrl: string): string {
  return `${brokerHttpUrl(brokerUrl)}/api/topics/`;
}

/** Validate the discovery API's answer; throws an Error naming what is wrong. */
export function parseTopics(data: unknown): TopicInfo[] {
  if (!Array.isArray(data)) {
    throw new Error('the discovery API did not answer with a list of topics');
  }
  return data
    .filter(
      (item): item is Record<string, unknown> =>
        item !== null && typeof item === 'object' && typeof item.name === 'string'
    )
    .map(item => ({
      name: item.name as string,
      description: typeof item.description === 'string' ? item.description : '',
      online: item.online === true,
      lastPong: typeof item.last_pong === 'string' ? item.last_pong : null,
      apiInfo: isApiInfo(item.api_info) ? item.api_info : null
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function isApiInfo(value: unknown): value is ModuleApiInfo {
  const info = value as ModuleApiInfo | null;
  return (
    info !== null &&
    typeof info === 'object' &&
    Array.isArray(info.functions) &&
    Array.isArray(info.classes)
  );
}

/** GET the topics from `url`; Error with the server's reason on failure. */
export async function fetchTopics(
  url: string,
  token: string,
  fetchImpl: FetchLike = fetch
): Promise<TopicInfo[]> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) {
    headers.Authorization = `Token ${token}`;
  }
  let response: Response;
  try {
    response = await fetchImpl(url, { headers });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${String(error)}`);
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = ((await response.json()) as { detail?: string }).detail ?? detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new Error(`${url} answered ${response.status}: ${detail}`);
  }
  return parseTopics(await response.json());
}

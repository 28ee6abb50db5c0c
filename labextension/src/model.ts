/** State of the DASF sidebar: settings, connection, the topics and their refresh timer. */

import { ISignal, Signal } from '@lumino/signaling';

import { TopicInfo } from './discovery';

/** The user's settings (schema/plugin.json). */
export interface DasfSettings {
  brokerUrl: string;
  token: string;
  /** Seconds between refreshes of the module list; 0 disables. */
  refreshInterval: number;
}

/** Broker URL and token as the Jupyter server hands them out (`GET /dasf/config`). */
export interface BrokerConfig {
  url: string;
  token: string;
  /** Whether the Jupyter server handed it out (then it also proxies the discovery API). */
  viaServer?: boolean;
  /** The server's websocket proxy to the broker, for browsers that cannot reach it directly. */
  proxyUrl?: string;
  /** The broker needs a token; the server keeps it (kernels get it as `$DASF_TOKEN`). */
  tokenRequired?: boolean;
}

/** Where the model gets its data from (network access, injected for tests). */
export interface DasfSources {
  /** The Jupyter server's broker config, or null if it has none. */
  serverConfig(): Promise<BrokerConfig | null>;
  /** The topics of a broker. */
  topics(broker: BrokerConfig): Promise<TopicInfo[]>;
}

export const DEFAULT_SETTINGS: DasfSettings = { brokerUrl: '', token: '', refreshInterval: 3 };

/** The sidebar's state; emits `changed` after every change. */
export class DasfSidebarModel {
  private settings: DasfSettings = { ...DEFAULT_SETTINGS };
  private brokerConfig: BrokerConfig | null = null;
  private topicList: TopicInfo[] = [];
  private errorText: string | null = null;
  private refreshedAt: Date | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly changedSignal = new Signal<this, void>(this);
  private generation = 0;

  constructor(private readonly sources: DasfSources) {}

  get changed(): ISignal<this, void> {
    return this.changedSignal;
  }

  /** The broker in use, or null when disconnected. */
  get broker(): BrokerConfig | null {
    return this.brokerConfig;
  }

  get connected(): boolean {
    return this.brokerConfig !== null;
  }

  get topics(): readonly TopicInfo[] {
    return this.topicList;
  }

  /** The last failure (connecting or refreshing), null after a success. */
  get error(): string | null {
    return this.errorText;
  }

  get lastRefresh(): Date | null {
    return this.refreshedAt;
  }

  /** Apply new settings; reconnects if connected. */
  async configure(settings: Partial<DasfSettings>): Promise<void> {
    this.settings = { ...this.settings, ...settings };
    if (this.connected) {
      await this.connect();
    }
  }

  /** Use the configured broker (or the server's) and load its topics. */
  async connect(): Promise<void> {
    this.stopTimer();
    const generation = ++this.generation;
    let broker: BrokerConfig | null = null;
    try {
      broker = this.settings.brokerUrl
        ? { url: this.settings.brokerUrl, token: this.settings.token }
        : await this.sources.serverConfig();
    } catch (error) {
      this.fail(`cannot ask the Jupyter server for its broker: ${String(error)}`);
      return;
    }
    if (generation !== this.generation) {
      return; // disconnected or reconnected meanwhile
    }
    if (broker === null) {
      this.fail('no broker configured: set "Broker URL" in the DASF settings');
      return;
    }
    this.brokerConfig = broker;
    this.changedSignal.emit();
    await this.refresh();
    const seconds = this.settings.refreshInterval;
    if (seconds > 0 && generation === this.generation) {
      this.timer = setInterval(() => void this.refresh(), seconds * 1000);
    }
  }

  /** Forget the broker and its topics; stop refreshing. */
  disconnect(): void {
    this.generation++;
    this.stopTimer();
    this.brokerConfig = null;
    this.topicList = [];
    this.errorText = null;
    this.changedSignal.emit();
  }

  /** Reload the topics now. */
  async refresh(): Promise<void> {
    const broker = this.brokerConfig;
    if (broker === null) {
      return;
    }
    const generation = this.generation;
    try {
      const topics = await this.sources.topics(broker);
      if (generation !== this.generation) {
        return;
      }
      this.topicList = topics;
      this.errorText = null;
      this.refreshedAt = new Date();
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      // keep the last list visible, but say that it is stale
      this.errorText = error instanceof Error ? error.message : String(error);
    }
    this.changedSignal.emit();
  }

  dispose(): void {
    this.generation++;
    this.stopTimer();
    Signal.clearData(this);
  }

  private fail(message: string): void {
    this.brokerConfig = null;
    this.topicList = [];
    this.errorText = message;
    this.changedSignal.emit();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

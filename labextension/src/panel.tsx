/** The "DASF" sidebar: broker, connect button, modules with status, functions with docs. */

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { FunctionApiInfo, summary } from './dasf/apiinfo';
import { MemberRef } from './cells';
import { TopicInfo } from './discovery';
import { DasfSidebarModel } from './model';

/** What a click on a member asks for. */
export type InsertKind = 'form' | 'snippet';

/** Callbacks of the sidebar into the application. */
export interface SidebarActions {
  insert(member: MemberRef, kind: InsertKind): void;
}

/** The lumino widget that hosts the React sidebar. */
export class DasfSidebar extends ReactWidget {
  constructor(
    private readonly model: DasfSidebarModel,
    private readonly actions: SidebarActions
  ) {
    super();
    this.id = 'dasf-sidebar';
    this.addClass('dasf-Sidebar');
  }

  protected render(): React.ReactElement {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <SidebarView model={this.model} actions={this.actions} />}
      </UseSignal>
    );
  }
}

function SidebarView(props: {
  model: DasfSidebarModel;
  actions: SidebarActions;
}): React.ReactElement {
  const { model, actions } = props;
  const broker = model.broker;
  return (
    <div className="dasf-Sidebar-content">
      <header className="dasf-Sidebar-header">
        <h2>DASF</h2>
        <div className="dasf-Sidebar-broker" title={broker?.url ?? ''}>
          {broker ? broker.url : 'not connected'}
        </div>
        <div className="dasf-Sidebar-buttons">
          {broker ? (
            <>
              <button className="jp-mod-styled dasf-disconnect" onClick={() => model.disconnect()}>
                Disconnect
              </button>
              <button className="jp-mod-styled dasf-refresh" onClick={() => void model.refresh()}>
                Refresh
              </button>
            </>
          ) : (
            <button
              className="jp-mod-styled jp-mod-accept dasf-connect"
              onClick={() => void model.connect()}
            >
              Connect
            </button>
          )}
        </div>
      </header>
      {model.error && <div className="dasf-Sidebar-error">{model.error}</div>}
      {broker && model.topics.length === 0 && !model.error && (
        <div className="dasf-Sidebar-empty">No modules on this broker yet.</div>
      )}
      <ul className="dasf-TopicList">
        {model.topics.map(topic => (
          <TopicView key={topic.name} topic={topic} actions={actions} />
        ))}
      </ul>
      {model.lastRefresh && (
        <footer className="dasf-Sidebar-footer">
          updated {model.lastRefresh.toLocaleTimeString()}
        </footer>
      )}
    </div>
  );
}

function TopicView(props: { topic: TopicInfo; actions: SidebarActions }): React.ReactElement {
  const { topic, actions } = props;
  const info = topic.apiInfo;
  const members: { path: string; fn: FunctionApiInfo; classSchema?: Record<string, any> }[] = [];
  for (const fn of info?.functions ?? []) {
    members.push({ path: fn.name, fn });
  }
  for (const cls of info?.classes ?? []) {
    for (const method of cls.methods ?? []) {
      members.push({ path: `${cls.name}.${method.name}`, fn: method, classSchema: cls.rpc_schema });
    }
  }
  const status = topic.online ? 'online' : 'offline';
  return (
    <li className="dasf-Topic" data-topic={topic.name} data-status={status}>
      <details open={topic.online}>
        <summary>
          <span className={`dasf-Status dasf-Status-${status}`} title={status} />
          <span className="dasf-Topic-name">{topic.name}</span>
          <span className="dasf-Topic-status">{status}</span>
        </summary>
        {topic.description && <p className="dasf-Topic-description">{topic.description}</p>}
        {info === null && <p className="dasf-Sidebar-empty">no api_info received yet</p>}
        <ul className="dasf-MemberList">
          {members.map(member => {
            const ref: MemberRef = {
              topic: topic.name,
              path: member.path,
              schema: member.fn.rpc_schema,
              classSchema: member.classSchema
            };
            return (
              <MemberView key={member.path} member={ref} fn={member.fn} actions={actions} />
            );
          })}
        </ul>
      </details>
    </li>
  );
}

function MemberView(props: {
  member: MemberRef;
  fn: FunctionApiInfo;
  actions: SidebarActions;
}): React.ReactElement {
  const { member, fn, actions } = props;
  const doc = typeof fn.rpc_schema?.description === 'string' ? fn.rpc_schema.description : '';
  const params = Object.entries((fn.rpc_schema?.properties ?? {}) as Record<string, any>)
    .filter(([name, p]) => name !== 'func_name' && !p.is_reporter)
    .map(([name, p]) => `${name}: ${p.description ?? p.type ?? ''}`);
  const tooltip = [doc, ...params].filter(Boolean).join('\n');
  return (
    <li className="dasf-Member" data-member={member.path}>
      <button
        className="dasf-Member-insert"
        title={`Insert a form cell: %dasf form ${member.topic}.${member.path}\n\n${tooltip}`}
        onClick={() => actions.insert(member, 'form')}
      >
        <code className="dasf-Member-name">{member.path}</code>
        <span className="dasf-Member-summary">{summary(fn.rpc_schema)}</span>
      </button>
      <button
        className="dasf-Member-snippet"
        title="Insert Python code that calls it"
        onClick={() => actions.insert(member, 'snippet')}
      >
        {'</>'}
      </button>
    </li>
  );
}

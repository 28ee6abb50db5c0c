/** JupyterLab plugin: the DASF sidebar, its commands and settings. */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { MemberRef, codeSnippet, formMagic } from './cells';
import { fetchTopics, topicsUrl } from './discovery';
import { DEFAULT_SETTINGS, DasfSettings, DasfSidebarModel } from './model';
import { DasfSidebar, InsertKind } from './panel';
import { serverBrokerConfig, serverTopics } from './server';

export * from './dasf';

const PLUGIN_ID = 'dasf-jupyter-labextension:plugin';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
  '<circle cx="5" cy="12" r="3"/><circle cx="19" cy="5" r="3"/><circle cx="19" cy="19" r="3"/>' +
  '<path d="M7.5 11 16.5 6l.8 1.4-9 5zM7.5 13l9 5-.8 1.4-9-5z"/></g></svg>';

const dasfIcon = new LabIcon({ name: 'dasf:icon', svgstr: ICON_SVG });

namespace CommandIDs {
  export const connect = 'dasf:connect';
  export const disconnect = 'dasf:disconnect';
  export const refresh = 'dasf:refresh';
  export const insertForm = 'dasf:insert-form';
  export const insertSnippet = 'dasf:insert-snippet';
}

/** Put `text` into the current notebook: the active cell if empty, else a new one below. */
function insertIntoNotebook(app: JupyterFrontEnd, tracker: INotebookTracker, text: string): boolean {
  const panel = tracker.currentWidget;
  if (!panel) {
    Notification.warning('Open a notebook first: DASF inserts the cell there.', {
      autoClose: 5000
    });
    return false;
  }
  const notebook = panel.content;
  const active = notebook.activeCell;
  if (!active || active.model.type !== 'code' || active.model.sharedModel.getSource() !== '') {
    NotebookActions.insertBelow(notebook);
  }
  notebook.activeCell?.model.sharedModel.setSource(text);
  app.shell.activateById(panel.id);
  return true;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A DASF sidebar: the modules of a DASF broker, insertable as notebook forms.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ) => {
    const model = new DasfSidebarModel({
      serverConfig: serverBrokerConfig,
      topics: broker =>
        broker.viaServer ? serverTopics() : fetchTopics(topicsUrl(broker.url), broker.token)
    });

    const insert = (member: MemberRef, kind: InsertKind): void => {
      const text =
        kind === 'form'
          ? formMagic(member)
          : codeSnippet(
              member,
              model.broker?.url ?? '',
              Boolean(model.broker?.token) || Boolean(model.broker?.tokenRequired),
              Boolean(model.broker?.viaServer)
            );
      insertIntoNotebook(app, tracker, text);
    };

    const sidebar = new DasfSidebar(model, { insert });
    sidebar.title.icon = dasfIcon;
    sidebar.title.caption = 'DASF modules';
    app.shell.add(sidebar, 'left', { rank: 800 });

    const { commands } = app;
    commands.addCommand(CommandIDs.connect, {
      label: 'DASF: Connect to the broker',
      execute: () => model.connect()
    });
    commands.addCommand(CommandIDs.disconnect, {
      label: 'DASF: Disconnect',
      isEnabled: () => model.connected,
      execute: () => model.disconnect()
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'DASF: Refresh modules',
      isEnabled: () => model.connected,
      execute: () => model.refresh()
    });
    const memberOf = (args: Record<string, unknown>): MemberRef => ({
      topic: String(args.topic),
      path: String(args.path),
      schema: {}
    });
    commands.addCommand(CommandIDs.insertForm, {
      label: 'DASF: Insert form cell',
      execute: args => insert(memberOf(args), 'form')
    });
    commands.addCommand(CommandIDs.insertSnippet, {
      label: 'DASF: Insert code snippet',
      execute: args => insert(memberOf(args), 'snippet')
    });
    if (palette) {
      for (const command of [CommandIDs.connect, CommandIDs.disconnect, CommandIDs.refresh]) {
        palette.addItem({ command, category: 'DASF' });
      }
    }

    const apply = (settings: ISettingRegistry.ISettings): Promise<void> =>
      model.configure({ ...DEFAULT_SETTINGS, ...(settings.composite as Partial<DasfSettings>) });

    const start = async (): Promise<void> => {
      if (settingRegistry) {
        try {
          const settings = await settingRegistry.load(PLUGIN_ID);
          settings.changed.connect(() => void apply(settings));
          await apply(settings);
        } catch (error) {
          console.warn('DASF: settings could not be loaded; using defaults', error);
        }
      }
      await model.connect();
    };
    void app.restored.then(start);
  }
};

export default plugin;

// The Electron main process: one window on the embedded backend, a tray and
// menu entry that always says whether the workstation is reachable from the
// network, and a clean stop of the backend on quit. Thin glue: the decisions
// live in plain modules (supervisor, navigation-policy, ipc-guard,
// permissions, splash, remote-access-state) that the tests run under Node.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, session, shell, Tray, type IpcMainInvokeEvent, type MenuItemConstructorOptions, type Session, type WebContents } from 'electron';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_PREFIX, type ConnectionInfo } from '../shared/api.js';
import { IPC, type AppInfo } from '../shared/ipc.js';
import { unpackedPath } from '../shared/asar.js';
import { isTrustedSender } from './ipc-guard.js';
import { backendOriginOf, decideNavigation, decideWindowOpen, isBackendUrl, mayOpenExternally } from './navigation-policy.js';
import { decidePermission } from './permissions.js';
import { fromConnection, fromMessage, remoteAccessLabel, remoteAccessTooltip, sameView, UNKNOWN, windowTitle, type RemoteAccessView } from './remote-access-state.js';
import { splashUrl } from './splash.js';
import { BackendSupervisor, type BackendState } from './supervisor.js';
import { utilitySpawner } from './utility-backend.js';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');
// The bundled backend (server/src/cli/run.ts): one file, so it starts fast.
const BACKEND_ENTRY = join(here, '..', 'backend', 'halo-forge.mjs');
// Where the backend's children (runtimes, the guard, run keepers) come from: asarUnpack's copy, as the backend names them.
const BACKEND_CHILDREN_DIR = unpackedPath(join(here, '..', 'backend'));
const ICON = join(here, '..', '..', 'electron', 'assets', 'icon.png');
const REMOTE_POLL_MS = 5_000;

const haloHome = process.env.HALOFORGE_HOME || join(homedir(), '.halo-forge');
const logPath = join(haloHome, 'logs', 'backend.log');

// One app per Halo Forge home: a second launch on the same home focuses the
// first window instead of starting a second backend on the same token store.
// A different HALOFORGE_HOME (tests, a second workstation profile) is a different app.
if (process.env.HALOFORGE_HOME) app.setPath('userData', join(process.env.HALOFORGE_HOME, 'desktop'));
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  runApp();
}

function runApp(): void {
  let win: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let backend: { url: string; origin: string } | null = null;
  let remote: RemoteAccessView = UNKNOWN;
  let pageTitle = 'Halo Forge';
  let poll: NodeJS.Timeout | null = null;
  let backendStopped = false;
  let quitting = false;

  const supervisor = new BackendSupervisor({ spawn: utilitySpawner(BACKEND_ENTRY, { ...process.env }, BACKEND_CHILDREN_DIR), logPath });

  const liveWindow = () => (win && !win.isDestroyed() ? win : null);
  const showWindow = () => {
    const w = liveWindow() ?? createWindow();
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  };

  function createWindow(): BrowserWindow {
    const w = new BrowserWindow({
      width: 1280,
      height: 860,
      minWidth: 760,
      minHeight: 520,
      title: 'Halo Forge',
      icon: ICON,
      show: false,
      backgroundColor: '#14161a',
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        safeDialogs: true,
        devTools: !app.isPackaged,
      },
    });
    win = w;
    w.once('ready-to-show', () => w.show());
    w.on('closed', () => {
      if (win === w) win = null;
    });
    w.on('page-title-updated', (event, title) => {
      event.preventDefault();
      pageTitle = title || 'Halo Forge';
      w.setTitle(windowTitle(pageTitle, remote));
    });
    w.webContents.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
      // A dashboard load that fails while the backend is up (it restarted on another port, ...) shows why, not a blank page.
      if (isMainFrame && code !== -3 /* ERR_ABORTED: another load replaced it */ && backend && isBackendUrl(url, backend.origin)) {
        void w.loadURL(splashUrl({ phase: 'failed', message: `The dashboard did not load: ${description}.`, hint: `It was at ${url}.`, logPath, output: '' }, logPath)).catch(() => undefined);
      }
    });
    w.webContents.on('render-process-gone', (_event, details) => {
      if (details.reason !== 'clean-exit' && !quitting) w.webContents.reload();
    });
    show(w, supervisor.state);
    return w;
  }

  /** What the window shows for a backend state: the dashboard once ready, the splash otherwise. */
  function show(w: BrowserWindow, state: BackendState): void {
    const load = state.phase === 'ready' ? state.url : splashUrl(state, logPath);
    if (w.webContents.getURL() === load) return;
    void w.loadURL(load).catch(() => undefined);
  }

  function onBackendState(state: BackendState): void {
    if (state.phase === 'ready') {
      backend = { url: state.url, origin: backendOriginOf(state.url) ?? '' };
      void refreshRemote();
    } else {
      backend = null;
      setRemote(UNKNOWN);
    }
    const w = liveWindow();
    if (w && !(quitting && state.phase === 'stopped')) show(w, state);
  }

  function setRemote(view: RemoteAccessView): void {
    if (sameView(remote, view)) return;
    remote = view;
    liveWindow()?.setTitle(windowTitle(pageTitle, remote));
    updateMenus();
    const w = liveWindow();
    if (w && view.known && backend && isBackendUrl(w.webContents.getURL(), backend.origin)) {
      w.webContents.send(IPC.remoteAccessChanged, { enabled: view.enabled, urls: view.urls });
    }
  }

  /** The backend announces switches it makes; polling also catches a change made by a remote admin or the CLI. */
  async function refreshRemote(): Promise<void> {
    const current = backend;
    if (!current) return;
    try {
      const res = await fetch(`${current.origin}${API_PREFIX}/connection`, { signal: AbortSignal.timeout(3_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const info = (await res.json()) as ConnectionInfo;
      if (backend === current) setRemote(fromConnection(info));
    } catch {
      if (backend === current) setRemote(UNKNOWN);
    }
  }

  function menuEntries(): MenuItemConstructorOptions[] {
    return [
      { id: 'remote-access', label: remoteAccessLabel(remote), toolTip: remoteAccessTooltip(remote), click: showWindow },
      ...(remote.known && remote.enabled ? remote.urls.map((u): MenuItemConstructorOptions => ({ label: `   ${u}`, enabled: false })) : []),
      { type: 'separator' },
      // While quitting the backend is on its way out for good; a restart now would outlive the app.
      {
        label: 'Restart backend',
        enabled: !quitting,
        click: () => {
          if (!quitting) void supervisor.restart();
        },
      },
      { label: 'Open backend log', click: () => void shell.openPath(logPath) },
    ];
  }

  function updateMenus(): void {
    const template: MenuItemConstructorOptions[] = [
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
      { label: 'Halo Forge', submenu: [...menuEntries(), { type: 'separator' }, { role: 'quit' }] },
      { role: 'editMenu' },
      {
        label: 'View',
        submenu: [
          { role: 'reload' },
          ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' } as MenuItemConstructorOptions]),
          { type: 'separator' },
          { role: 'resetZoom' },
          { role: 'zoomIn' },
          { role: 'zoomOut' },
          { type: 'separator' },
          { role: 'togglefullscreen' },
        ],
      },
      { role: 'windowMenu' },
    ];
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
    if (tray) {
      tray.setToolTip(remoteAccessTooltip(remote));
      // Linux trays only pick up a changed menu through setContextMenu.
      tray.setContextMenu(Menu.buildFromTemplate([{ label: 'Show Halo Forge', click: showWindow }, { type: 'separator' }, ...menuEntries(), { type: 'separator' }, { role: 'quit' }]));
    }
  }

  function createTray(): void {
    try {
      tray = new Tray(nativeImage.createFromPath(ICON).resize({ width: 22, height: 22 }));
      tray.on('click', showWindow);
    } catch {
      // Some desktops have no tray; the application menu still shows the state.
      tray = null;
    }
  }

  function trusted(event: IpcMainInvokeEvent): boolean {
    return isTrustedSender(event, { backendOrigin: backend?.origin ?? null, webContentsId: liveWindow()?.webContents.id ?? null });
  }

  function registerIpc(): void {
    ipcMain.handle(IPC.appInfo, (event): AppInfo => {
      if (!trusted(event) || !backend) throw new Error('Refused: this IPC is for the Halo Forge dashboard only.');
      return { version: app.getVersion(), platform: process.platform, backendUrl: backend.url };
    });
    ipcMain.handle(IPC.openExternal, async (event, url: unknown): Promise<boolean> => {
      if (!trusted(event)) throw new Error('Refused: this IPC is for the Halo Forge dashboard only.');
      if (typeof url !== 'string' || !mayOpenExternally(url)) return false;
      await shell.openExternal(url);
      return true;
    });
  }

  function hardenSession(ses: Session): void {
    const origin = () => backend?.origin ?? null;
    ses.setPermissionRequestHandler((_wc, permission, callback, details) => callback(decidePermission(permission, details.requestingUrl, origin()).allow));
    ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => decidePermission(permission, requestingOrigin, origin()).allow);
    ses.setDevicePermissionHandler(() => false);
  }

  function hardenContents(contents: WebContents): void {
    const guard = (event: { preventDefault(): void }, url: string, isMainFrame: boolean) => {
      const decision = decideNavigation(url, backend?.origin ?? null);
      if (decision.allow) return;
      event.preventDefault();
      // Only a top-level link click goes to the browser; an iframe cannot open tabs behind the user's back.
      if (decision.openExternally && isMainFrame) void shell.openExternal(decision.openExternally);
    };
    contents.on('will-frame-navigate', (event) => guard(event, event.url, event.isMainFrame));
    contents.on('will-redirect', (event) => guard(event, event.url, event.isMainFrame));
    contents.setWindowOpenHandler(({ url }) => {
      const decision = decideWindowOpen(url);
      if (decision.openExternally) void shell.openExternal(decision.openExternally);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  }

  async function stopBackendAndQuit(): Promise<void> {
    if (poll) clearInterval(poll);
    try {
      await supervisor.stop({ final: true });
    } finally {
      backendStopped = true;
      app.quit();
    }
  }

  app.on('second-instance', showWindow);
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (!liveWindow()) createWindow();
  });
  // Quitting waits for the backend to finish in-flight requests and flush its
  // pending writes; the backend also stops by itself if this process is killed.
  app.on('before-quit', (event) => {
    if (backendStopped) return;
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    updateMenus();
    void stopBackendAndQuit();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession);
    registerIpc();
    createTray();
    updateMenus();
    supervisor.onState(onBackendState);
    supervisor.onRemoteAccess((message) => setRemote(fromMessage(message)));
    createWindow();
    void supervisor.start();
    poll = setInterval(() => void refreshRemote(), REMOTE_POLL_MS);
  });
}

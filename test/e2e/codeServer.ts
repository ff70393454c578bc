/**
 * Runs a real VS Code (code-server 4.100.3 = VS Code 1.100) with the packaged extension installed,
 * in throw-away profile folders, for the end-to-end test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPOSITORY_ROOT = path.resolve(__dirname, '../..');
const CODE_SERVER_BIN = path.join(REPOSITORY_ROOT, '.e2e/code-server/node_modules/.bin/code-server');
export const CODE_SERVER_EXTENSIONS = path.join(REPOSITORY_ROOT, '.e2e/code-server/node_modules/code-server/lib/vscode/extensions');

function run(command: string, args: string[], options: { cwd?: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { cwd: options.cwd ?? REPOSITORY_ROOT, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error !== undefined || result.status !== 0) {
    const reason = result.error?.message ?? `exit status ${result.status}`;
    throw new Error(`${command} ${args.join(' ')} failed (${reason}):\n${output.slice(-4000)}`);
  }
  return output;
}

/** Installs code-server with scripts/install-code-server.sh unless it is there already (a no-op then). */
export function ensureCodeServer(): void {
  run('sh', [path.join(REPOSITORY_ROOT, 'scripts/install-code-server.sh')], { timeoutMs: 15 * 60_000 });
}

function newestModification(paths: string[]): number {
  let newest = 0;
  for (const entry of paths) {
    if (!fs.existsSync(entry)) continue;
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) newest = Math.max(newest, newestModification(fs.readdirSync(entry).map((name) => path.join(entry, name))));
    else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

/** What `npm run package` reads: the sources, the build script and everything the .vsix ships. */
const PACKAGE_INPUTS = [
  'package.json', 'tsconfig.json', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE', 'images/icon.png',
  'scripts/build.mjs', 'client/src', 'server/src', 'syntaxes', 'docs/rules', 'python',
];

/**
 * Runs `npm run package` on a private copy of the package's inputs (node_modules linked), writing
 * `outFile`: the shared checkout's bundles are rebuilt by others at any moment, and a build racing
 * the packaging makes a corrupt .vsix.
 */
function packageFromPrivateCopy(outFile: string): void {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-package-'));
  try {
    for (const input of PACKAGE_INPUTS) {
      const source = path.join(REPOSITORY_ROOT, input);
      if (fs.existsSync(source)) fs.cpSync(source, path.join(stage, input), { recursive: true });
    }
    fs.symlinkSync(path.join(REPOSITORY_ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    run('npm', ['run', 'package', '--', '--out', outFile], { cwd: stage, timeoutMs: 5 * 60_000 });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * The packaged extension, in .e2e/, packaged again when missing or older than what goes into it.
 * Written under a private name and renamed into place, so that a test running at the same time never
 * reads a half-written package. LOSS_LENS_VSIX names a ready-made one instead (CI that packages in
 * an earlier step).
 */
export function ensureVsix(): string {
  const given = process.env.LOSS_LENS_VSIX;
  if (given !== undefined && given !== '') {
    if (!fs.existsSync(given)) throw new Error(`LOSS_LENS_VSIX names a missing file: ${given}`);
    return path.resolve(given);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = path.join(REPOSITORY_ROOT, '.e2e', `${manifest.name}-${manifest.version}.vsix`);
  const built = fs.existsSync(vsix) ? fs.statSync(vsix).mtimeMs : 0;
  if (built < newestModification(PACKAGE_INPUTS.map((input) => path.join(REPOSITORY_ROOT, input)))) {
    const staging = path.join(REPOSITORY_ROOT, '.e2e', `${manifest.name}-${manifest.version}.${process.pid}.vsix`);
    fs.mkdirSync(path.dirname(staging), { recursive: true });
    try {
      packageFromPrivateCopy(staging);
      fs.renameSync(staging, vsix);
    } finally {
      fs.rmSync(staging, { force: true });
    }
  }
  return vsix;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with status ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms:\n${log()}`);
}

function signalGroup(groupLeader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupLeader, signal);
  } catch {
    // The group is gone already.
  }
}

export interface RunningCodeServer {
  url: string;
  /** The workspace folder as opened (a fresh copy). */
  workspace: string;
  /** Where the extension is installed (unique to this run). */
  extensionsDir: string;
  /** The user settings file of this run's profile. */
  userSettingsFile: string;
  /** code-server's own output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** User settings that keep the window quiet and deterministic. */
export const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'editor.hover.delay': 200,
  'notebook.output.textLineLimit': 5,
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

/**
 * Starts code-server on a free port with fresh profile folders, the .vsix installed and a copy of
 * `workspaceSource` as the workspace.
 */
export async function startCodeServer(vsix: string, workspaceSource: string): Promise<RunningCodeServer> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-e2e-'));
  const userData = path.join(scratch, 'user-data');
  const extensions = path.join(scratch, 'extensions');
  const workspace = path.join(scratch, 'workspace');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions);
  fs.cpSync(workspaceSource, workspace, { recursive: true });
  const userSettingsFile = path.join(userData, 'User/settings.json');
  fs.writeFileSync(userSettingsFile, JSON.stringify(USER_SETTINGS, null, 2));
  // code-server keeps its config and state under XDG folders: keep them out of the real home.
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(scratch, 'config'), XDG_DATA_HOME: path.join(scratch, 'data') };
  const profile = ['--user-data-dir', userData, '--extensions-dir', extensions];
  run(CODE_SERVER_BIN, ['--install-extension', vsix, ...profile], { timeoutMs: 120_000, env });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(
    CODE_SERVER_BIN,
    [
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      ...profile,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      workspace,
    ],
    // Its own process group, so that stop() ends code-server and everything it started (extension host, language server).
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const log = () => output;
  const stop = async () => {
    if (child.pid !== undefined) {
      const exited = child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve();
      signalGroup(child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      // Whatever of the group outlived code-server (an extension host, the language server).
      signalGroup(child.pid, 'SIGKILL');
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child, log, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, workspace, extensionsDir: extensions, userSettingsFile, log, stop };
}

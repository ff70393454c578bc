import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CheckReport } from '../../server/src/cli/report';

/** Runs `loss-lens` as a user does (`node bin/loss-lens.js ...`), after making sure the bundle is up to date. */

export const repoRoot = path.resolve(__dirname, '..', '..');
const bundle = path.join(repoRoot, 'server', 'out', 'cli.js');
const binary = path.join(repoRoot, 'bin', 'loss-lens.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Builds once per test process when a source under server/src is newer than the bundle (`npm test` builds first). */
export function ensureBuilt(): void {
  const bundleTime = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  if (newestModification(path.join(repoRoot, 'server', 'src')) <= bundleTime) return;
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
}

function newestModification(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** A hang or a crash must fail the test, not stall the suite: the child is killed after `timeoutMs`. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliRun {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function runJson(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): { status: number | null; report: CheckReport; stderr: string } {
  const run = runCli([...args, '--format', 'json'], options);
  let report: CheckReport;
  try {
    report = JSON.parse(run.stdout) as CheckReport;
  } catch {
    throw new Error(`stdout is not JSON (status ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return { status: run.status, report, stderr: run.stderr };
}

/** A fresh folder under the system's temp directory holding `files` (path → content), removed by the caller. */
export function makeTree(files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-cli-'));
  for (const [relative, content] of Object.entries(files)) {
    const full = path.join(root, relative);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  return root;
}

export function removeTree(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
}

/** A notebook in Jupyter's own layout (indent 1, sorted keys, trailing newline); `source` is a list of lines unless `stringSource`. */
export function notebookJson(
  cells: { type?: 'code' | 'markdown'; source: string; stringSource?: boolean; language?: string; outputs?: unknown[] }[],
  language = 'python',
): string {
  const notebook = {
    cells: cells.map((cell, index) => ({
      cell_type: cell.type ?? 'code',
      ...(cell.type === 'markdown' ? {} : { execution_count: index + 1, outputs: cell.outputs ?? [] }),
      id: `cell-${index}`,
      metadata: cell.language ? { vscode: { languageId: cell.language } } : {},
      source: cell.stringSource ? cell.source : cell.source.split(/(?<=\n)/),
    })),
    metadata: { kernelspec: { display_name: language, language, name: language }, language_info: { name: language } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(notebook, sortedKeys, 1)}\n`;
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A cross-entropy fed with softmax output: the canonical misuse, with its positions known. */
export const SOFTMAX_BEFORE_CE = `import torch.nn as nn
import torch.nn.functional as F

criterion = nn.CrossEntropyLoss()


def step(logits, labels):
    probs = F.softmax(logits, dim=1)
    return criterion(probs, labels)
`;

export const CLEAN_TRAINING = `import torch.nn as nn

criterion = nn.CrossEntropyLoss()


def step(model, images, labels):
    logits = model(images)
    return criterion(logits, labels)
`;

/**
 * Project-wide analysis benchmark (not a test): what following imports between a project's files costs.
 *
 *   npm run build && node --import tsx bench/project-bench.ts [--files 2000] [--runs 3] [--edits 20] [--json]
 *
 * 1. CLI: a generated project of N files (default 2,000), each importing three other files of the project and using
 *    what it imports (a model class, a helper called in `forward`, a factory). `loss-lens check .` (the built CLI, as
 *    a process) on it, against the same files whose imports name modules that do not exist (so nothing is followed),
 *    measured alternately in the same run; median of `--runs` each. Goal: ratio ≤ 1.3.
 * 2. Language server (the built server over stdio, debounce 0): `model.py` imported by 50 files; one importer and
 *    `model.py` are open; each edit of `model.py` (the softmax in `forward` toggled on and off) is timed from
 *    `didChange` to the importer's re-published diagnostics. Reference in the same run: the engine alone, in this
 *    process, analysing the importer after the same edit (reads model.py from disk, parse cached by text). Goal: p50
 *    ≤ 100 ms. Then with all 50 importers open: the time until every one has re-published. The server's peak resident
 *    memory (VmHWM, Linux) at the end, against a server that opened the same 50 files with their imports missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAnalyzer } from '../server/src/analysis';
import { DiskProjectFiles } from '../server/src/workspace/disk-files';
import { LspTestClient } from '../test/lsp/harness';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) && Number(args[args.indexOf(name) + 1]) > 0 ? Number(args[args.indexOf(name) + 1]) : fallback);
const FILES = option('--files', 2000);
const RUNS = option('--runs', 3);
const EDITS = option('--edits', 20);
const JSON_OUTPUT = args.includes('--json');
const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'bin', 'loss-lens.js');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function peakMemoryMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** File `i` of the generated project: its own model, and three imports of other files that it uses. */
function projectFile(i: number, count: number, missing: boolean): string {
  const [a, b, c] = [(i + 1) % count, (i + 7) % count, (i + 31) % count];
  const module = (j: number) => (missing ? `missing_${j}` : `mod_${j}`);
  return `import torch
import torch.nn as nn
import torch.nn.functional as F

from ${module(a)} import Block${a}
from ${module(b)} import scale_${b}
import ${module(c)} as helpers


def scale_${i}(x):
    return x * 2


class Block${i}(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.inner = nn.Linear(64, 64)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.inner(scale_${b}(x)))
        return ${i % 10 === 0 ? 'F.softmax(self.fc(x), dim=1)' : 'self.fc(x)'}


def train(loader, epochs=2):
    model = Block${a}()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
    return helpers.scale_${c}(loss)


if __name__ == "__main__":
    train([(torch.randn(8, 64), torch.randint(0, 10, (8,)))])
`;
}

export function writeProject(root: string, count: number, missing: boolean): void {
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'pyproject.toml'), '[project]\nname = "bench"\n');
  for (let i = 0; i < count; i++) fs.writeFileSync(path.join(root, `mod_${i}.py`), projectFile(i, count, missing));
}

function checkOnce(root: string): { ms: number; findings: number } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [CLI, 'check', '.', '--format', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (run.status !== 0 && run.status !== 1) throw new Error(`check failed (${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { diagnostics: unknown[]; checked: number };
  if (report.checked !== FILES) throw new Error(`checked ${report.checked} files, expected ${FILES}`);
  return { ms, findings: report.diagnostics.length };
}

function benchCli(base: string) {
  const followed = path.join(base, 'followed');
  const missing = path.join(base, 'missing');
  writeProject(followed, FILES, false);
  writeProject(missing, FILES, true);
  const times = { followed: [] as number[], missing: [] as number[] };
  let findings = { followed: 0, missing: 0 };
  for (let run = 0; run < RUNS; run++) {
    const a = checkOnce(followed);
    const b = checkOnce(missing);
    times.followed.push(a.ms);
    times.missing.push(b.ms);
    findings = { followed: a.findings, missing: b.findings };
  }
  return {
    files: FILES,
    followedMs: Math.round(median(times.followed)),
    missingMs: Math.round(median(times.missing)),
    ratio: Number((median(times.followed) / median(times.missing)).toFixed(2)),
    findings,
    runs: times,
  };
}

const MODEL_WITH_SOFTMAX = `import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
`;
const SOFTMAX_LINE = 10;

function importer(i: number, moduleName: string): string {
  return `import torch
import torch.nn as nn

from ${moduleName} import Net

model = Net()
criterion = nn.CrossEntropyLoss()
for step in range(10):
    loss = criterion(model(torch.randn(8, 64)), torch.randint(0, 10, (8,)))  # importer ${i}
    loss.backward()
`;
}

async function benchServer(base: string) {
  const root = path.join(base, 'server');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'pyproject.toml'), '');
  fs.writeFileSync(path.join(root, 'model.py'), MODEL_WITH_SOFTMAX);
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, `train_${i}.py`), importer(i, 'model'));
  const uri = (file: string) => pathToFileURL(path.join(root, file)).href;

  const client = await LspTestClient.start({ debounceMs: 0 });
  const open = async (file: string) => {
    const mark = client.statuses.length;
    await client.openText(uri(file), fs.readFileSync(path.join(root, file), 'utf8'));
    await client.waitForReady(uri(file), 1, mark, 60_000);
  };
  await open('train_0.py');
  await open('model.py');
  const dependent = uri('train_0.py');
  const model = uri('model.py');
  const findingsOf = (target: string) => (client.diagnostics.get(target) ?? []).length;

  /** Toggles the softmax in model.py and waits for `targets` to show the matching diagnostics. */
  const editAndWait = async (edit: number, targets: string[]): Promise<number> => {
    const removing = edit % 2 === 0;
    const line = client.documents.get(model)!.getText().split('\n')[SOFTMAX_LINE];
    const started = performance.now();
    await client.changeText(model, [{ range: { start: { line: SOFTMAX_LINE, character: 0 }, end: { line: SOFTMAX_LINE, character: line.length } }, text: removing ? '        return self.fc(x)' : '        return F.softmax(self.fc(x), dim=1)' }]);
    await client.waitFor('dependents re-published', () => targets.every((target) => findingsOf(target) === (removing ? 0 : 1)), 60_000);
    return performance.now() - started;
  };

  const one: number[] = [];
  for (let edit = 0; edit < EDITS; edit++) one.push(await editAndWait(edit, [dependent]));

  // Reference: the engine alone re-analysing the importer after each edit (model.py read from disk).
  const analyzer = await createAnalyzer({ files: new DiskProjectFiles() });
  const importerText = fs.readFileSync(path.join(root, 'train_0.py'), 'utf8');
  const bare: number[] = [];
  const modelFile = path.join(root, 'model.py');
  for (let edit = 0; edit < EDITS; edit++) {
    fs.writeFileSync(modelFile, edit % 2 === 0 ? MODEL_WITH_SOFTMAX.replace('F.softmax(self.fc(x), dim=1)', 'self.fc(x)') : MODEL_WITH_SOFTMAX);
    const started = performance.now();
    analyzer.analyze({ kind: 'file', units: [{ text: importerText }], path: path.join(root, 'train_0.py') }, { timeBudgetMs: 3000 });
    bare.push(performance.now() - started);
  }
  fs.writeFileSync(modelFile, MODEL_WITH_SOFTMAX);

  for (let i = 1; i < 50; i++) await open(`train_${i}.py`);
  const all: number[] = [];
  const everyone = Array.from({ length: 50 }, (_, i) => uri(`train_${i}.py`));
  for (let edit = 0; edit < Math.min(EDITS, 10); edit++) all.push(await editAndWait(edit, everyone));
  const peakMb = peakMemoryMb(client.child.pid!);
  await client.stop();

  // Memory reference: a server that opens the same 50 importers, whose import names a module that does not exist.
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, `missing_${i}.py`), importer(i, 'no_such_model'));
  const reference = await LspTestClient.start({ debounceMs: 0 });
  for (let i = 0; i < 50; i++) {
    const mark = reference.statuses.length;
    await reference.openText(uri(`missing_${i}.py`), fs.readFileSync(path.join(root, `missing_${i}.py`), 'utf8'));
    await reference.waitForReady(uri(`missing_${i}.py`), 1, mark, 60_000);
  }
  const referencePeakMb = peakMemoryMb(reference.child.pid!);
  await reference.stop();

  return {
    oneOpenDependent: { p50Ms: round(median(one)), worstMs: round(Math.max(...one)), bareEngineP50Ms: round(median(bare)), ratio: round(median(one) / median(bare)) },
    fiftyOpenDependents: { p50Ms: round(median(all)), worstMs: round(Math.max(...all)) },
    peakMemoryMb: peakMb,
    referencePeakMemoryMb: referencePeakMb,
    memoryRatio: peakMb && referencePeakMb ? round(peakMb / referencePeakMb) : undefined,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-project-bench-'));
  try {
    const cli = benchCli(base);
    const server = await benchServer(base);
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    if (JSON_OUTPUT) {
      console.log(JSON.stringify({ cli, server, loadAverage: load }, null, 2));
      return;
    }
    console.log(`CLI check of ${cli.files} files, median of ${RUNS}: imports followed ${cli.followedMs} ms, imports missing ${cli.missingMs} ms, ratio ${cli.ratio} (goal <= 1.3); findings ${cli.findings.followed} vs ${cli.findings.missing}`);
    console.log(`server, edit of model.py -> one open importer re-published: p50 ${server.oneOpenDependent.p50Ms} ms (worst ${server.oneOpenDependent.worstMs}), engine alone ${server.oneOpenDependent.bareEngineP50Ms} ms, ratio ${server.oneOpenDependent.ratio} (goal p50 <= 100 ms)`);
    console.log(`server, edit of model.py -> 50 open importers re-published: p50 ${server.fiftyOpenDependents.p50Ms} ms (worst ${server.fiftyOpenDependents.worstMs})`);
    console.log(`server peak memory ${server.peakMemoryMb} MB, against ${server.referencePeakMemoryMb} MB with the imports missing (ratio ${server.memoryRatio})`);
    console.log(`load average: ${load}`);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (require.main === module) void main();

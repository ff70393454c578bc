/**
 * Language-server latency and memory benchmark (not a test).
 *
 *   npm run build && node --import tsx bench/lsp-bench.ts [--edits 20] [--json]
 *
 * Drives the BUILT server (`node server/out/server.js --stdio`) with the test client, with debounce 0
 * (initialization option `debounceMs: 0`) so that the figures measure analysis and protocol, not the
 * typing pause. It opens a generated 10,000-line Python file and a 300-cell notebook, and times:
 * - open-to-diagnostics: `didOpen` sent → the `lossLens/status` "ready" of version 1 (diagnostics published);
 * - edit-to-diagnostics: a one-character `didChange` in the middle of the file (in one cell of the
 *   notebook) → "ready" of that version; median and worst of N edits (each types one more letter, so
 *   every version is a text the server has not seen);
 * - the server's peak resident memory (VmHWM of /proc/<pid>/status, Linux only).
 * Reference, measured in the same run: the engine alone, in this process (`createAnalyzer().analyze`)
 * on the same sequence of texts, given as the CLI gives them (the file whole, the notebook's cells), so
 * `ratio` = LSP edit-to-diagnostics / bare analysis shows what the server adds or saves: the protocol
 * and publishing on one side, the chunked analysis of large files (server/src/lsp/chunks.ts) and the
 * per-document parse caches on the other. Goals: file median < 50 ms, notebook-cell median < 30 ms,
 * memory < 200 MB.
 */
import * as fs from 'node:fs';
import { createAnalyzer } from '../server/src/analysis';
import type { ProgramSource } from '../server/src/analysis/types';
import { LspTestClient, NotebookCellSpec } from '../test/lsp/harness';

const args = process.argv.slice(2);
const EDITS = Number(args[args.indexOf('--edits') + 1]) > 0 ? Number(args[args.indexOf('--edits') + 1]) : 20;
const JSON_OUTPUT = args.includes('--json');

function trainingBlock(index: number): string {
  return `# ---- experiment ${index}
class Net${index}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(128, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def train_${index}(loader, epochs=3):
    model = Net${index}()
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            logits = model(images.view(images.size(0), -1))
            probs = F.softmax(logits, dim=1)
            loss = criterion(probs, labels)
            loss.backward()
            optimizer.step()
    return model

`;
}

const HEADER = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n';

/** A Python file of exactly `lines` lines: training blocks (each with one softmax-before-cross-entropy) padded with comments. */
function pythonFile(lines: number): string {
  const out: string[] = HEADER.split('\n').slice(0, -1);
  for (let index = 0; out.length < lines; index++) out.push(...trainingBlock(index).split('\n').slice(0, -1));
  return out.slice(0, lines).join('\n') + '\n';
}

/** A notebook of `count` cells: imports, then model / data / training cells in turn (one finding per training cell). */
function notebookCells(count: number): NotebookCellSpec[] {
  const cells: NotebookCellSpec[] = [{ kind: 'code', text: HEADER }];
  for (let index = 0; cells.length < count; index++) {
    const kind = cells.length % 3;
    // Each cell opens with a comment line: the benchmark types into it.
    const comment = `# cell ${cells.length}\n`;
    if (kind === 1) {
      cells.push({ kind: 'code', text: comment + `model_${index} = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))\noptimizer_${index} = torch.optim.Adam(model_${index}.parameters())\n` });
    } else if (kind === 2) {
      cells.push({ kind: 'code', text: comment + `images_${index} = torch.randn(32, 128)\nlabels_${index} = torch.randint(0, 10, (32,))\n` });
    } else {
      cells.push({
        kind: 'code',
        text:
          comment +
          `criterion_${index} = nn.CrossEntropyLoss()\n` +
          `scores_${index} = model_${index - 1}(images_${index - 1})\n` +
          `probs_${index} = torch.softmax(scores_${index}, dim=1)\n` +
          `loss_${index} = criterion_${index}(probs_${index}, labels_${index - 1})\n` +
          `loss_${index}.backward()\n`,
      });
    }
  }
  return cells;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function peakMemoryMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of a process's main thread so far, in ms (Linux; 10 ms ticks). On a shared machine the wall
 * times above include waiting for a core; the CPU time per edit (summed over all edits, averaged) does not.
 */
function mainThreadCpuMs(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ", utime and stime are the 12th and 13th fields.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
const optionalRound = (value: number | undefined) => (value === undefined ? null : round(value));

/**
 * Edit number `edit`: type one more letter at the end of the marker line. Every edit makes a text the
 * server has not seen, as typing does (so a cache keyed by text cannot short-cut it).
 */
function editAt(edit: number, line: number, lineLength: number) {
  const at = { line, character: lineLength + edit };
  return { range: { start: at, end: at }, text: typedLetter(edit) };
}

function typedLetter(edit: number): string {
  return String.fromCharCode(97 + (edit % 26));
}

/** The marker line after `edits` edits. */
function typedLine(line: string, edits: number): string {
  let typed = line;
  for (let edit = 0; edit < edits; edit++) typed += typedLetter(edit);
  return typed;
}

interface Timings {
  openMs: number;
  editsMs: number[];
  /** The server's main-thread CPU time over all edits, divided by their number. */
  cpuPerEditMs: number | undefined;
  /** The server's note on the first analysis (e.g. that it ran out of its time budget: findings partial). */
  openNote: string | undefined;
  findings: number | undefined;
}

async function benchFile(client: LspTestClient, text: string): Promise<Timings> {
  const uri = 'file:///bench/large.py';
  let mark = client.statuses.length;
  let started = performance.now();
  await client.openText(uri, text);
  const opened = await client.waitForReady(uri, 1, mark, 120_000);
  const openMs = performance.now() - started;
  // The comment line of the middle block: the edit keeps the program's meaning, as most keystrokes do.
  const lines = text.split('\n');
  const line = lines.findIndex((candidate, index) => index >= lines.length / 2 && candidate.startsWith('# ---- experiment'));
  const editsMs: number[] = [];
  const cpuBefore = mainThreadCpuMs(client.child.pid!);
  for (let edit = 0; edit < EDITS; edit++) {
    mark = client.statuses.length;
    started = performance.now();
    const version = await client.changeText(uri, [editAt(edit, line, lines[line].length)]);
    await client.waitForReady(uri, version, mark, 60_000);
    editsMs.push(performance.now() - started);
  }
  const cpuAfter = mainThreadCpuMs(client.child.pid!);
  const cpuPerEditMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / EDITS;
  return { openMs, editsMs, cpuPerEditMs, findings: opened.findings, openNote: opened.message };
}

async function benchNotebook(client: LspTestClient, cells: NotebookCellSpec[]): Promise<Timings> {
  const notebook = 'file:///bench/large.ipynb';
  let mark = client.statuses.length;
  let started = performance.now();
  const cellUris = await client.openNotebook(notebook, cells);
  const opened = await client.waitForReady(notebook, 1, mark, 120_000);
  const openMs = performance.now() - started;
  const middle = Math.floor(cells.length / 2);
  const cellUri = cellUris[middle];
  const lineLength = cells[middle].text.split('\n')[0].length;
  const editsMs: number[] = [];
  const cpuBefore = mainThreadCpuMs(client.child.pid!);
  for (let edit = 0; edit < EDITS; edit++) {
    mark = client.statuses.length;
    started = performance.now();
    // At the end of the cell's comment line, as in the file: the edit keeps the program's meaning.
    const version = await client.changeCell(notebook, cellUri, [editAt(edit, 0, lineLength)]);
    await client.waitForReady(notebook, version, mark, 60_000);
    editsMs.push(performance.now() - started);
  }
  const cpuAfter = mainThreadCpuMs(client.child.pid!);
  const cpuPerEditMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / EDITS;
  return { openMs, editsMs, cpuPerEditMs, findings: opened.findings, openNote: opened.message };
}

function cpuPerEdit(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : (after - before) / EDITS;
}

/** The engine alone, in-process, on the same texts: open, then the same edits. */
async function referenceTimings(text: string, cells: NotebookCellSpec[]) {
  const analyzer = await createAnalyzer();
  const time = (source: ProgramSource) => {
    const started = performance.now();
    analyzer.analyze(source);
    return performance.now() - started;
  };
  const fileLines = text.split('\n');
  const line = fileLines.findIndex((candidate, index) => index >= fileLines.length / 2 && candidate.startsWith('# ---- experiment'));
  const fileOpen = time({ kind: 'file', units: [{ text }] });
  const fileEdits: number[] = [];
  let cpuBefore = mainThreadCpuMs(process.pid);
  for (let edit = 0; edit < EDITS; edit++) {
    const edited = [...fileLines];
    edited[line] = typedLine(fileLines[line], edit + 1);
    fileEdits.push(time({ kind: 'file', units: [{ text: edited.join('\n') }] }));
  }
  const fileCpuPerEdit = cpuPerEdit(cpuBefore, mainThreadCpuMs(process.pid));
  const units = cells.map((cell, index) => ({ cell: index, text: cell.text }));
  const notebookOpen = time({ kind: 'notebook', units });
  const middle = Math.floor(cells.length / 2);
  const [firstLine, ...rest] = cells[middle].text.split('\n');
  const notebookEdits: number[] = [];
  cpuBefore = mainThreadCpuMs(process.pid);
  for (let edit = 0; edit < EDITS; edit++) {
    const edited = [...units];
    edited[middle] = { cell: middle, text: [typedLine(firstLine, edit + 1), ...rest].join('\n') };
    notebookEdits.push(time({ kind: 'notebook', units: edited }));
  }
  const notebookCpuPerEdit = cpuPerEdit(cpuBefore, mainThreadCpuMs(process.pid));
  return { fileOpen, fileEdits, fileCpuPerEdit, notebookOpen, notebookEdits, notebookCpuPerEdit };
}

/** One document's figures: the server's timings beside the engine alone on the same texts. */
function documentFigures(server: Timings, engineOpenMs: number, engineEditsMs: number[], engineCpuPerEditMs: number | undefined, goalMedianMs: number) {
  return {
    findings: server.findings,
    openNote: server.openNote ?? null,
    openToDiagnosticsMs: round(server.openMs),
    editToDiagnosticsMedianMs: round(median(server.editsMs)),
    editToDiagnosticsWorstMs: round(Math.max(...server.editsMs)),
    engineOnlyOpenMs: round(engineOpenMs),
    engineOnlyEditMedianMs: round(median(engineEditsMs)),
    ratioEditToEngine: round(median(server.editsMs) / median(engineEditsMs)),
    serverCpuPerEditMs: optionalRound(server.cpuPerEditMs),
    engineOnlyCpuPerEditMs: optionalRound(engineCpuPerEditMs),
    goalMedianMs,
  };
}

async function main(): Promise<void> {
  const text = pythonFile(10_000);
  const cells = notebookCells(300);
  const client = await LspTestClient.start({ debounceMs: 0 });
  try {
    const file = await benchFile(client, text);
    const notebook = await benchNotebook(client, cells);
    const memoryMb = peakMemoryMb(client.child.pid!);
    const reference = await referenceTimings(text, cells);
    const report = {
      machine: `${process.platform} ${process.arch}, node ${process.version}`,
      debounceMs: 0,
      edits: EDITS,
      file: { lines: 10_000, ...documentFigures(file, reference.fileOpen, reference.fileEdits, reference.fileCpuPerEdit, 50) },
      notebook: {
        cells: cells.length,
        ...documentFigures(notebook, reference.notebookOpen, reference.notebookEdits, reference.notebookCpuPerEdit, 30),
      },
      serverPeakMemoryMb: memoryMb === undefined ? null : round(memoryMb),
      goalMemoryMb: 200,
    };
    if (JSON_OUTPUT) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`Loss Lens language server benchmark (${report.machine}; debounce 0; ${EDITS} edits each)`);
      for (const [name, figures] of [['10,000-line file', report.file], ['300-cell notebook', report.notebook]] as const) {
        console.log(
          `${name}: ${figures.findings} findings${figures.openNote ? ` (${figures.openNote})` : ''}; open→diagnostics ${figures.openToDiagnosticsMs} ms; ` +
            `edit→diagnostics median ${figures.editToDiagnosticsMedianMs} ms (goal < ${figures.goalMedianMs}), worst ${figures.editToDiagnosticsWorstMs} ms; ` +
            `engine alone: open ${figures.engineOnlyOpenMs} ms, edit median ${figures.engineOnlyEditMedianMs} ms; LSP/engine ratio ${figures.ratioEditToEngine}; ` +
            `main-thread CPU per edit: server ${figures.serverCpuPerEditMs ?? 'n/a'} ms, engine alone ${figures.engineOnlyCpuPerEditMs ?? 'n/a'} ms`,
        );
      }
      console.log(`server peak memory (VmHWM): ${report.serverPeakMemoryMb ?? 'n/a'} MB (goal < ${report.goalMemoryMb})`);
    }
  } finally {
    await client.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * How long `loss-lens check` takes to analyse a large file and a large notebook, against Ruff checking the same code
 * in the same process (Ruff's WebAssembly build, default rules).
 *
 *   npx tsx bench/check-bench.ts [--runs N]
 *
 * Goal: the full analysis (parse included) of a 10,000-line file under 100 ms, and no slower than Ruff.
 * Each figure is the median of N runs (default 15) after 5 warm-up runs. Every engine run uses a fresh analyzer,
 * so that its parse cache cannot skip the parse; the inputs are generated, so the bench needs no data files.
 */
import { performance } from 'node:perf_hooks';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { createAnalyzer } from '../server/src/analysis/index';
import { loadPythonParser } from '../server/src/parse/parser';
import type { ProgramSource } from '../server/src/analysis/types';
import { TORCH_IMPORTS, TrainingBlock, trainingBlock, trainingFile } from '../test/synthetic-training';

const WARM_UP_RUNS = 5;

/**
 * Blocks of plausible training code (model, data, loss, loop, evaluation, multi-label step): correct and misused
 * losses mixed, one block in four with a softmax before the cross-entropy.
 */
function blockAt(i: number): TrainingBlock {
  return { id: String(i), variant: i, softmaxBeforeLoss: i % 4 === 0, loader: true, evaluation: true, multilabel: i % 5 === 0 ? 'sigmoid-then-bce' : 'logits' };
}

/** Exactly `lines` lines (the last block cut where the count ends). */
function generateFile(lines: number): string {
  return trainingFile(lines, blockAt).split('\n').slice(0, lines).join('\n') + '\n';
}

function generateNotebookCells(cells: number): string[] {
  const blocks = Array.from({ length: cells - 1 }, (_, i) => trainingBlock(blockAt(i)).trim());
  return [TORCH_IMPORTS, ...blocks];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Measurement {
  engineMs: number;
  /** tree-sitter's parse of the same text alone: the floor under the engine's time. */
  parseMs: number;
  ruffMs: number;
  findings: number;
  truncated: boolean;
  ruffDiagnostics: number;
}

/** Engine and Ruff runs alternate, so that load from other processes on a shared machine hits both alike. */
async function measure(source: ProgramSource, ruff: Workspace, ruffText: string, runs: number): Promise<Measurement> {
  const parser = await loadPythonParser();
  const engineTimes: number[] = [];
  const parseTimes: number[] = [];
  const ruffTimes: number[] = [];
  let findings = 0;
  let truncated = false;
  let ruffDiagnostics = 0;
  for (let run = 0; run < WARM_UP_RUNS + runs; run++) {
    const analyzer = await createAnalyzer(); // a fresh parse cache: the parse is part of what is timed
    let start = performance.now();
    const result = analyzer.analyze(source, { timeBudgetMs: 60_000 });
    const engineMs = performance.now() - start;
    start = performance.now();
    const diagnostics = ruff.check(ruffText) as unknown[];
    const ruffMs = performance.now() - start;
    start = performance.now();
    for (const unit of source.units) parser.parse(unit.text)?.delete();
    const parseMs = performance.now() - start;
    if (run < WARM_UP_RUNS) continue;
    engineTimes.push(engineMs);
    parseTimes.push(parseMs);
    ruffTimes.push(ruffMs);
    findings = result.findings.length;
    truncated = result.truncated;
    ruffDiagnostics = diagnostics.length;
  }
  return { engineMs: median(engineTimes), parseMs: median(parseTimes), ruffMs: median(ruffTimes), findings, truncated, ruffDiagnostics };
}

async function main(): Promise<void> {
  const runsFlag = process.argv.indexOf('--runs');
  const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 15;
  const file = generateFile(10_000);
  const cells = generateNotebookCells(300);
  const notebookLines = cells.join('\n').split('\n').length;
  const ruff = new Workspace(Workspace.defaultSettings(), PositionEncoding.Utf16);

  const fileSource: ProgramSource = { kind: 'file', units: [{ text: file }] };
  const notebookSource: ProgramSource = { kind: 'notebook', units: cells.map((text, cell) => ({ cell, text })) };

  console.log(`Loss Lens check benchmark: median of ${runs} runs after ${WARM_UP_RUNS} warm-up runs; Ruff ${Workspace.version()} (WebAssembly, default rules) in the same process\n`);
  const rows: [string, Measurement][] = [
    [`10,000-line file (${file.length} characters)`, await measure(fileSource, ruff, file, runs)],
    [`300-cell notebook (${notebookLines} lines; Ruff checks the code cells joined)`, await measure(notebookSource, ruff, cells.join('\n'), runs)],
  ];
  for (const [name, measurement] of rows) {
    console.log(name);
    console.log(`  loss-lens analysis: ${measurement.engineMs.toFixed(1)} ms (${measurement.findings} findings${measurement.truncated ? ', TRUNCATED by the time budget' : ''})`);
    console.log(`    of which a bare tree-sitter parse: ${measurement.parseMs.toFixed(1)} ms`);
    console.log(`  ruff check:         ${measurement.ruffMs.toFixed(1)} ms (${measurement.ruffDiagnostics} diagnostics)`);
    console.log(`  ratio loss-lens / ruff: ${(measurement.engineMs / measurement.ruffMs).toFixed(2)}\n`);
  }
  const [, fileMeasurement] = rows[0];
  console.log(`Goal, 10,000-line file under 100 ms: ${fileMeasurement.engineMs < 100 ? 'met' : 'NOT met'} (${fileMeasurement.engineMs.toFixed(1)} ms)`);
  console.log(`Goal, no slower than Ruff: ${fileMeasurement.engineMs <= fileMeasurement.ruffMs ? 'met' : 'NOT met'} (ratio ${(fileMeasurement.engineMs / fileMeasurement.ruffMs).toFixed(2)})`);
  ruff.free();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

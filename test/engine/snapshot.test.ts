import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';
import type { AnalysisResult } from '../../server/src/analysis/types';
import { readFixture } from './fixtures';

/**
 * Why this snapshot exists: the evaluator was split into an interpreter and per-framework library models (issue 9).
 * A refactor like that must not change a single finding, fix, related location, loss-call fact or their order on any
 * program the engine tests read; the rule tests only compare rule ids and lines. The snapshot was generated from the
 * code before the split. A deliberate change of behaviour regenerates it (`UPDATE_SNAPSHOT=1 node
 * scripts/run-tests.mjs test/engine/snapshot`), and the diff of `findings.snapshot.json` shows the reviewer what changed.
 */

const repoRoot = path.join(__dirname, '..', '..');
const SNAPSHOT = path.join(__dirname, 'findings.snapshot.json');
const SOURCE_ROOTS = ['test/fixtures/rules', 'test/corpus', 'examples'];

function programFiles(): string[] {
  const files: string[] = [];
  for (const root of SOURCE_ROOTS) {
    const entries = fs.readdirSync(path.join(repoRoot, root), { recursive: true, encoding: 'utf8' });
    for (const entry of entries) if (/\.(py|ipynb)$/.test(entry)) files.push(path.posix.join(root, entry.split(path.sep).join('/')));
  }
  return files.sort();
}

let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

/** Everything an analysis returns, in order (the budget is generous: truncation would be a difference too). */
function resultOf(file: string): Pick<AnalysisResult, 'findings' | 'lossCalls' | 'truncated' | 'parseErrors'> {
  const { source } = readFixture(path.join(repoRoot, file));
  const result = analyzer.analyze(source, { timeBudgetMs: 60_000 });
  return { findings: result.findings, lossCalls: result.lossCalls, truncated: result.truncated, parseErrors: result.parseErrors };
}

test('findings, fixes, related locations and loss calls on every engine fixture equal the snapshot', () => {
  const actual: Record<string, ReturnType<typeof resultOf>> = {};
  for (const file of programFiles()) actual[file] = JSON.parse(JSON.stringify(resultOf(file)));
  if (process.env.UPDATE_SNAPSHOT === '1') {
    fs.writeFileSync(SNAPSHOT, JSON.stringify(actual, null, 1) + '\n');
    return;
  }
  const expected = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as typeof actual;
  assert.ok(Object.keys(actual).length > 300, 'the fixture set was not found');
  assert.deepEqual(Object.keys(actual), Object.keys(expected), 'the set of fixture files changed: regenerate the snapshot');
  for (const file of Object.keys(expected)) assert.deepEqual(actual[file], expected[file], file);
});

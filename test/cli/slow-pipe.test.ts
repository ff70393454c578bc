import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeNpy } from '../../server/src/tensors/npy';
import { ensureBuilt, makeTree, removeTree, repoRoot, runCli } from './cli-harness';

/**
 * The report must arrive whole through a pipe that its reader drains slowly: a process that exits before stdout is
 * flushed cuts the report at the pipe's buffer (64 KiB), silently, which breaks `loss-lens check --format json | jq`.
 */

before(ensureBuilt);

const FINDINGS = 3000;

/** One script with `count` softmax-before-cross-entropy findings (each with a related place: 2 text lines each). */
function manyFindings(count: number): string {
  const parts = ['import torch.nn as nn\nimport torch.nn.functional as F\n\ncriterion = nn.CrossEntropyLoss()\n'];
  for (let i = 0; i < count; i++) parts.push(`\n\ndef step${i}(logits, labels):\n    probs = F.softmax(logits, dim=1)\n    return criterion(probs, labels)\n`);
  return parts.join('');
}

interface SlowRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdout on a pipe that is read one chunk at a time, 20 ms apart, after a first pause of 300 ms. */
function runThroughSlowPipe(args: string[], cwd: string): Promise<SlowRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'loss-lens.js'), ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    // Each chunk is taken, then reading stops for 20 ms: the pipe stays full and the writer has to wait for it.
    child.stdout.pause();
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 20);
    });
    setTimeout(() => child.stdout.resume(), 300);
    let exitStatus: number | null = null;
    child.on('exit', (code) => (exitStatus = code));
    child.on('close', () => {
      clearTimeout(killer);
      resolve({ status: exitStatus, stdout: Buffer.concat(chunks).toString('utf8'), stderr });
    });
    child.on('error', reject);
  });
}

describe('a large report through a slowly read pipe arrives whole', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'big.py': manyFindings(FINDINGS),
      // Not valid UTF-8 (a Latin-1 byte in a comment): `fix` reports its findings instead of rewriting it.
      'latin1.py': Buffer.concat([Buffer.from('# caf\xe9\n', 'latin1'), Buffer.from(manyFindings(FINDINGS))]),
    });
    const classes = 4;
    const samples = 20_000;
    const input = new Float32Array(samples * classes).map((_, index) => (index % 7) / 7);
    const target = BigInt64Array.from({ length: samples }, (_, index) => BigInt(index % classes));
    fs.writeFileSync(path.join(root, 'input.npy'), encodeNpy({ dtype: 'float32', shape: [samples, classes], data: input }));
    fs.writeFileSync(path.join(root, 'target.npy'), encodeNpy({ dtype: 'int64', shape: [samples], data: target }));
  });
  after(() => removeTree(root));

  it('text, exit 1', async () => {
    const run = await runThroughSlowPipe(['check', 'big.py'], root);
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stdout.split('\n');
    assert.equal(lines.filter((line) => / error softmax-before-cross-entropy /.test(line)).length, FINDINGS);
    assert.ok(run.stdout.endsWith(`Found ${FINDINGS} findings (${FINDINGS} errors, 0 warnings) in 1 file.\n${FINDINGS} fixable with \`loss-lens fix\`.\n`));
  });

  it('JSON, exit 2 (an unreadable path as well)', async () => {
    const run = await runThroughSlowPipe(['check', '--format', 'json', 'big.py', 'missing.py'], root);
    assert.equal(run.status, 2, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.diagnostics.length, FINDINGS);
    assert.equal(report.errors.length, 1);
  });

  it('SARIF', async () => {
    const run = await runThroughSlowPipe(['check', '--format', 'sarif', 'big.py'], root);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).runs[0].results.length, FINDINGS);
  });

  it('github annotations', async () => {
    const run = await runThroughSlowPipe(['check', '--format', 'github', 'big.py'], root);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout.split('\n').filter((line) => line.startsWith('::error file=big.py,')).length, FINDINGS);
  });

  it('fix, JSON', async () => {
    const run = await runThroughSlowPipe(['fix', '--format', 'json', 'latin1.py'], root);
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.diagnostics.length, FINDINGS);
    assert.equal(report.notes[0].kind, 'not-fixed');
  });

  it('exits once the report is drained even when something leaves a handle open (a backend, a timer)', () => {
    const preload = path.join(root, 'keep-alive.js');
    fs.writeFileSync(preload, 'setInterval(() => {}, 1000);\n');
    const started = Date.now();
    const run = runCli(['check', '--format', 'json', 'big.py'], { cwd: root, env: { NODE_OPTIONS: `--require ${preload}` }, timeoutMs: 60_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).diagnostics.length, FINDINGS);
    assert.ok(Date.now() - started < 30_000);
  });

  it('ends quietly when the reader closes the pipe early (`| head`)', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'loss-lens.js'), 'check', 'big.py'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.equal(stderr, '', 'no internal error, no stack trace');
    assert.equal(status, 1, 'the status of the findings');
  });

  it('loss with --reduction none, JSON', async () => {
    const run = await runThroughSlowPipe(
      ['loss', '--loss', 'cross_entropy', '--input', 'input.npy', '--target', 'target.npy', '--reduction', 'none', '--backend', 'cpu', '--format', 'json'],
      root,
    );
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.length > 200_000, `${run.stdout.length} bytes`);
    assert.equal(JSON.parse(run.stdout).values.length, 20_000);
  });
});

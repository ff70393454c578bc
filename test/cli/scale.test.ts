import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { formatText } from '../../server/src/cli/format-text';
import { progressText, ProgressLine } from '../../server/src/cli/progress';
import { emptyReport } from '../../server/src/cli/report';
import { CLEAN_TRAINING, ensureBuilt, makeTree, notebookJson, removeTree, repoRoot, runCli, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';
import { TORCH_IMPORTS, trainingBlock, trainingProject } from '../synthetic-training';

/** The command line on many files: --jobs, honest summaries, notes in SARIF, GitHub annotations, the progress line. */

before(ensureBuilt);

const SIGMOID_BEFORE_BCE = `import torch
import torch.nn as nn

criterion = nn.BCEWithLogitsLoss()


def step(model, x, y):
    out = torch.sigmoid(model(x))
    return criterion(out, y)
`;

/** An f-string whose error tree-sitter hides inside the string (it was reported at 1:1). */
const FSTRING_SYNTAX_ERROR = `import torch
x = 1
y = 2
print(f"{x!}")
`;

/** A folder of 40 files of varied kinds and sizes, so that with several workers they finish out of order. */
function projectFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) {
    const folder = `pkg${i % 4}`;
    const padding = '\n'.repeat((i * 37) % 200); // uneven sizes: uneven analysis times
    switch (i % 5) {
      case 0:
        files[`${folder}/softmax_${i}.py`] = padding + SOFTMAX_BEFORE_CE;
        break;
      case 1:
        files[`${folder}/sigmoid_${i}.py`] = SIGMOID_BEFORE_BCE + padding;
        break;
      case 2:
        files[`${folder}/clean_${i}.py`] = CLEAN_TRAINING;
        break;
      case 3:
        files[`${folder}/nb_${i}.ipynb`] = notebookJson([{ type: 'markdown', source: '# t\n' }, { source: SOFTMAX_BEFORE_CE }, { source: SIGMOID_BEFORE_BCE }]);
        break;
      default:
        files[`${folder}/broken_${i}.py`] = `${SOFTMAX_BEFORE_CE}\ndef broken(:\n    return )(\n`;
    }
  }
  files['pkg1/not-a-notebook.ipynb'] = '{"cells": [';
  return files;
}

describe('loss-lens check --jobs', () => {
  let root: string;
  before(() => {
    root = makeTree(projectFiles());
  });
  after(() => removeTree(root));

  it('gives the same report, in the same order, for --jobs 1, the default and --jobs 5', () => {
    for (const format of ['json', 'text', 'sarif', 'github']) {
      const one = runCli(['check', '--format', format, '--jobs', '1', '.'], { cwd: root, timeoutMs: 120_000 });
      assert.equal(one.status, 2, one.stderr); // the broken notebook
      const byDefault = runCli(['check', '--format', format, '.'], { cwd: root, timeoutMs: 120_000 });
      const five = runCli(['check', '--format', format, '--jobs=5', '.'], { cwd: root, timeoutMs: 120_000 });
      assert.equal(byDefault.stdout, one.stdout, `${format}: default against --jobs 1`);
      assert.equal(five.stdout, one.stdout, `${format}: --jobs 5 against --jobs 1`);
      assert.equal(byDefault.stderr, one.stderr);
      assert.equal(five.status, 2);
    }
    const { report } = runJson(['check', '--jobs', '3', '.'], { cwd: root, timeoutMs: 120_000 });
    assert.equal(report.checked, 40);
    assert.ok(report.diagnostics.length >= 8 * 4, 'findings in the softmax, sigmoid, notebook and broken files');
    const paths = report.diagnostics.map((diagnostic) => diagnostic.path);
    assert.deepEqual(paths, [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'file order');
  });

  it('fix with several workers fixes every file as with one', () => {
    const twice = makeTree(projectFiles());
    try {
      const one = runCli(['fix', '--format', 'json', '--jobs', '1', '.'], { cwd: root, timeoutMs: 120_000 });
      const four = runCli(['fix', '--format', 'json', '--jobs', '4', '.'], { cwd: twice, timeoutMs: 120_000 });
      assert.equal(four.stdout, one.stdout);
      assert.ok(JSON.parse(one.stdout).fixed > 0);
      for (const file of Object.keys(projectFiles())) {
        assert.equal(fs.readFileSync(path.join(twice, file), 'utf8'), fs.readFileSync(path.join(root, file), 'utf8'), file);
      }
    } finally {
      removeTree(twice);
      removeTree(root);
      root = makeTree(projectFiles());
    }
  });

  it('rejects a --jobs that is not a positive whole number', () => {
    for (const jobs of ['0', '-1', 'two', '1.5']) {
      const run = runCli(['check', `--jobs=${jobs}`, '.'], { cwd: root });
      assert.equal(run.status, 2, jobs);
      assert.match(run.stderr, /--jobs must be a whole number/);
    }
  });
});

describe('memory', () => {
  it('checks 260 files of ~550 lines in a 128 MB heap: a worker keeps no trees of the files before (a cache of 512 ran out at ~200)', () => {
    const blocks = 22;
    const files = trainingProject(260, (file) =>
      TORCH_IMPORTS + Array.from({ length: blocks }, (_, block) => trainingBlock({ id: `${file}_${block}`, variant: block, softmaxBeforeLoss: true })).join(''),
    );
    const root = makeTree(files);
    try {
      const run = runCli(['check', '--format', 'json', '--jobs', '1', '.'], { cwd: root, env: { NODE_OPTIONS: '--max-old-space-size=128' }, timeoutMs: 180_000 });
      const report = JSON.parse(run.stdout);
      assert.deepEqual(report.errors, []);
      assert.equal(report.checked, 260);
      assert.equal(report.diagnostics.length, 260 * blocks);
      assert.equal(run.status, 1);
    } finally {
      removeTree(root);
    }
  });
});

describe('partly analysed files', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'clean.py': CLEAN_TRAINING,
      'fstring.py': FSTRING_SYNTAX_ERROR,
      'nb.ipynb': notebookJson([{ type: 'markdown', source: '# t\n' }, { source: CLEAN_TRAINING }, { source: 'x = 1\nif x\n    y = 2\n' }]),
    });
  });
  after(() => removeTree(root));

  it('never says "All checks passed": the summary names the files and the line of each first syntax error; exit 0', () => {
    const run = runCli(['check', '.'], { cwd: root });
    assert.equal(run.status, 0, 'notes do not change the exit status');
    assert.doesNotMatch(run.stdout, /All checks passed/);
    assert.equal(
      run.stdout,
      'No findings in the 3 files checked, but not all of the code was analysed.\n' +
        '2 files were only partly analysed, findings there may be missing: ./fstring.py (syntax error at line 4), ./nb.ipynb (syntax error at cell 2 line 2).\n',
    );
    assert.match(run.stderr, /^\.\/fstring\.py:4:11: note: syntax error/m);
    assert.match(run.stderr, /^\.\/nb\.ipynb:cell 2:2:1: note: syntax error/m);
  });

  it('says so under the findings too', () => {
    fs.writeFileSync(path.join(root, 'bad.py'), SOFTMAX_BEFORE_CE);
    try {
      const run = runCli(['check', 'bad.py', 'fstring.py'], { cwd: root });
      assert.equal(run.status, 1);
      assert.match(run.stdout, /^Found 1 finding \(1 error, 0 warnings\) in 1 file\.\n1 file was only partly analysed, findings there may be missing: fstring\.py \(syntax error at line 4\)\.$/m);
    } finally {
      fs.rmSync(path.join(root, 'bad.py'));
    }
  });

  it('carries the real line in JSON notes', () => {
    const { status, report } = runJson(['check', 'fstring.py'], { cwd: root });
    assert.equal(status, 0);
    assert.deepEqual(
      report.notes.map(({ kind, line, column }) => ({ kind, line, column })),
      [{ kind: 'syntax-error', line: 4, column: 11 }],
    );
  });

  it('names an analysis cut short by its time budget (the engine stops itself: a report unit-tested here)', () => {
    const report = emptyReport();
    report.checked = 1;
    report.notes.push({ path: 'huge.py', kind: 'truncated', message: 'the analysis stopped at its time budget' });
    const text = formatText(report, { color: false, command: 'check' });
    assert.equal(text.stdout, 'No findings in the 1 file checked, but not all of the code was analysed.\n1 file was only partly analysed, findings there may be missing: huge.py (time budget).\n');
  });

  it('are SARIF toolExecutionNotifications with their region and cell, valid against the schema', () => {
    const run = runCli(['check', '--format', 'sarif', '.'], { cwd: root });
    assert.equal(run.status, 0);
    const sarif = JSON.parse(run.stdout) as { runs: { invocations: { executionSuccessful: boolean; toolExecutionNotifications: never[] }[] }[] };
    const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
    const invocation = sarif.runs[0].invocations[0];
    assert.equal(invocation.executionSuccessful, true, 'a note is not a failure');
    const notes = invocation.toolExecutionNotifications.map((notification: { level: string; descriptor: { id: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: object }; properties?: { cell: number } }[] }) => ({
      level: notification.level,
      id: notification.descriptor.id,
      uri: notification.locations[0].physicalLocation.artifactLocation.uri,
      region: notification.locations[0].physicalLocation.region,
      cell: notification.locations[0].properties?.cell,
    }));
    assert.deepEqual(notes, [
      { level: 'warning', id: 'loss-lens/syntax-error', uri: 'fstring.py', region: { startLine: 4, startColumn: 11 }, cell: undefined },
      { level: 'warning', id: 'loss-lens/syntax-error', uri: 'nb.ipynb', region: { startLine: 2, startColumn: 1 }, cell: 2 },
    ]);
  });
});

describe('loss-lens check --format github', () => {
  it('writes workflow commands, escaped as the runner reads them; a notebook finding names its cell in the message', () => {
    const root = makeTree({
      'odd, name: 100%.py': SOFTMAX_BEFORE_CE,
      'nb.ipynb': notebookJson([{ type: 'markdown', source: '# t\n' }, { source: SOFTMAX_BEFORE_CE }]),
      'fstring.py': FSTRING_SYNTAX_ERROR,
      'broken.ipynb': '{"cells": [',
    });
    try {
      const run = runCli(['check', '--format', 'github', '.'], { cwd: root });
      assert.equal(run.status, 2);
      assert.equal(run.stderr, '', 'everything is on stdout, as annotations');
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^::error file=nb\.ipynb,title=loss-lens \(softmax-before-cross-entropy\)::cell 1, line 9, column 22: nn\.CrossEntropyLoss applies softmax itself/);
      assert.match(lines[1], /^::error file=odd%2C name%3A 100%25\.py,line=9,col=22,endLine=9,endColumn=27,title=loss-lens \(softmax-before-cross-entropy\)::nn\.CrossEntropyLoss/);
      assert.match(lines[2], /^::warning file=fstring\.py,line=4,col=11,title=loss-lens \(syntax-error\)::syntax error: /);
      assert.equal(lines[3], '::error file=broken.ipynb,title=loss-lens::not a notebook: Unexpected end of JSON input at line 1');
      assert.equal(lines.filter((line) => line.startsWith('::')).length, 4);
      assert.match(run.stdout, /^1 file was only partly analysed, findings there may be missing: \.\/fstring\.py \(syntax error at line 4\)\.$/m);
    } finally {
      removeTree(root);
    }
  });
});

describe('progress line', () => {
  it('formats done/total and the folder, cut to the terminal width from the folder\'s start', () => {
    assert.equal(progressText('checking', 12, 1200, 'src/models', 80), 'checking 12/1200 files  src/models');
    assert.equal(progressText('checking', 12, 1200, 'src/models/vision/backbones', 40), 'checking 12/1200 files  …sion/backbones');
    assert.equal(progressText('checking', 12, 1200, 'src/models/vision/backbones', 40).length, 39);
    assert.equal(progressText('fixing', 1, 2, 'src', 10), 'fixing 1/', 'never wider than the terminal (a wrapped line cannot be erased)');
  });

  it('appears after a second, at most ten times a second, and is erased at the end', () => {
    let now = 0;
    let output = '';
    const written = () => output;
    const progress = new ProgressLine({ write: (text) => (output += text), columns: 80 }, 'checking', 3, () => now);
    progress.started('a');
    progress.finished();
    assert.equal(written(), '', 'nothing in the first second');
    now = 1500;
    progress.started('b');
    assert.equal(written(), '\r\x1b[Kchecking 1/3 files  b');
    now = 1550;
    progress.finished();
    assert.equal(written(), '\r\x1b[Kchecking 1/3 files  b', 'not redrawn within 100 ms');
    now = 1700;
    progress.started('c');
    assert.match(written(), /checking 2\/3 files {2}c$/);
    progress.end();
    assert.ok(written().endsWith('\r\x1b[K'));
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('is drawn on a terminal\'s stderr for a run over a second, never on stdout, not with --quiet, not on a pipe', { skip: !hasScript && 'no script(1) for a pseudo-terminal' }, () => {
    // About 4 s of analysis on an idle core with --jobs 1 (the line appears only after a second): 120 files of 400
    // findings each.
    const files: Record<string, string> = {};
    const body = Array.from({ length: 400 }, (_, i) => `\n\ndef step${i}(logits, labels):\n    probs = F.softmax(logits, dim=1)\n    return criterion(probs, labels)\n`).join('');
    for (let i = 0; i < 120; i++) files[`deep/folder/f${i}.py`] = `import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n${body}`;
    const root = makeTree(files);
    try {
      const onTerminal = (extra: string) => {
        const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, 'bin', 'loss-lens.js'))} check --format json --jobs 1 ${extra} . > report.json`;
        const run = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, COLUMNS: '100' } });
        const report = JSON.parse(fs.readFileSync(path.join(root, 'report.json'), 'utf8'));
        return { terminal: run.stdout, report, status: run.status };
      };
      const shown = onTerminal('');
      assert.equal(shown.status, 1);
      assert.equal(shown.report.diagnostics.length, 120 * 400, 'the JSON report is whole and has no progress in it');
      assert.ok(shown.terminal.startsWith('\r\x1b[Kchecking '), `nothing but the progress line on the terminal: ${JSON.stringify(shown.terminal.slice(0, 200))}`);
      assert.match(shown.terminal, /\r\x1b\[Kchecking \d+\/120 files {2}\.\/deep\/folder/);
      assert.ok(shown.terminal.endsWith('\r\x1b[K'), JSON.stringify(shown.terminal.slice(-80)));
      const quiet = onTerminal('--quiet');
      assert.equal(quiet.report.diagnostics.length, 120 * 400);
      assert.equal(quiet.terminal, '');
      const piped = runCli(['check', '--format', 'json', '--jobs', '1', '.'], { cwd: root, timeoutMs: 120_000 });
      assert.equal(piped.stderr, '', 'stderr on a pipe gets no progress line');
    } finally {
      removeTree(root);
    }
  });

});

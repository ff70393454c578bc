import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createAnalyzer, LossLensAnalyzer } from '../../server/src/analysis/index';
import type { ProgramSource } from '../../server/src/analysis/types';
import { maskIPython } from '../../server/src/parse/ipython';
import { loadPythonParser } from '../../server/src/parse/parser';
import { ParseCache } from '../../server/src/parse/tree';

let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

test('IPython lines are masked into no-op statements and comments of the same length', () => {
  const cell = ['%matplotlib inline', 'files = !ls -la', '!pip install torch', 'model?', '?len', '  %time x = 1', 'y = 2', 'a = b % c', 'print("!")'].join('\n');
  const masked = maskIPython(cell);
  assert.equal(masked.skip, false);
  assert.equal(masked.text.length, cell.length);
  assert.deepEqual(masked.text.split('\n'), ['0#atplotlib inline', '0#les = !ls -la', '0#ip install torch', '0#del?', '0#en', '  0#ime x = 1', 'y = 2', 'a = b % c', 'print("!")']);
});

test('cell magics: non-Python bodies skip the cell, %%time and %%capture keep it', () => {
  assert.equal(maskIPython('%%bash\nls\n').skip, true);
  assert.equal(maskIPython('# comment\n%%html\n<b>x</b>\n').skip, true);
  const timed = maskIPython('%%time\nx = 1\n');
  assert.equal(timed.skip, false);
  assert.equal(timed.text, '0#time\nx = 1\n');
  assert.equal(maskIPython('%%capture out\nx = 1\n').skip, false);
});

const notebook = (...cells: string[]): ProgramSource => ({ kind: 'notebook', units: cells.map((text, i) => ({ cell: i, text })) });

test('magics do not break the analysis of the rest of the cell, and lines keep their numbers', () => {
  const result = analyzer.analyze(
    notebook(
      'import torch.nn.functional as F\n%load_ext autoreload\n',
      '%%time\n!nvidia-smi\nprobs = F.softmax(z, dim=1)\nfiles = !ls\nloss = F.cross_entropy(probs, y)\nloss?\n',
    ),
  );
  assert.deepEqual(
    result.findings.map((f) => [f.location.cell, f.location.range.start.line, f.rule, f.related[0]?.location.range.start.line]),
    [[1, 4, 'softmax-before-cross-entropy', 2]],
  );
  assert.deepEqual(result.parseErrors, []);
});

test('a magic alone in a block keeps the block parseable', () => {
  const result = analyzer.analyze(notebook('import torch.nn.functional as F\nfor f in files:\n    !cp $f out/\nprobs = F.softmax(z, dim=1)\nloss = F.cross_entropy(probs, y)\n'));
  assert.deepEqual(result.parseErrors, []);
  assert.deepEqual(result.findings.map((f) => f.rule), ['softmax-before-cross-entropy']);
});

test('a %%bash cell is not analysed as Python', () => {
  const result = analyzer.analyze(notebook('import torch.nn.functional as F\n', '%%bash\nprobs = F.softmax(z, dim=1)\nloss = F.cross_entropy(probs, y)\n'));
  assert.deepEqual(result.findings, []);
});

test('re-analysing a notebook after one cell changed re-parses only that cell', async () => {
  const fresh = await createAnalyzer();
  const cells = ['import torch.nn.functional as F\n', 'probs = F.softmax(z, dim=1)\n', 'loss = F.cross_entropy(probs, y)\n', 'print(loss)\n'];
  fresh.analyze(notebook(...cells));
  assert.equal(fresh.parseCount, 4);
  const edited = [...cells];
  edited[1] = 'probs = model(z)\n';
  const result = fresh.analyze(notebook(...edited));
  assert.equal(fresh.parseCount, 5);
  assert.deepEqual(result.findings, []);
  fresh.analyze(notebook(...cells));
  assert.equal(fresh.parseCount, 5, 'the old text of the cell is still cached');
});

test('dropUnused keeps the trees of the last program only (the CLI: a fix round reuses them, the next file evicts them)', async () => {
  const parses = new ParseCache(await loadPythonParser());
  const engine = new LossLensAnalyzer(parses);
  const first = notebook('import torch.nn.functional as F\n', 'probs = F.softmax(z, dim=1)\n');
  const second = notebook('import torch\n', 'x = torch.zeros(3)\n');
  engine.analyze(first);
  parses.dropUnused();
  engine.analyze(first);
  assert.equal(engine.parseCount, 2, 'the program just analysed is kept');
  parses.dropUnused();
  engine.analyze(second);
  parses.dropUnused();
  engine.analyze(first);
  assert.equal(engine.parseCount, 6, 'the program before the last one was dropped');
});

test('two cells with the same text get findings in their own cells', () => {
  const same = 'loss = F.cross_entropy(probs, y)\n';
  const result = analyzer.analyze(notebook('import torch.nn.functional as F\nprobs = F.softmax(z, dim=1)\n', same, same));
  assert.deepEqual(result.findings.map((f) => f.location.cell), [1, 2]);
});

test('columns are UTF-16 code units and lines are 0-based', () => {
  const result = analyzer.analyze({ kind: 'file', units: [{ text: 'import torch.nn.functional as F\nprobs = F.softmax(z, dim=1)\nété = 1; loss = F.cross_entropy(probs, "日本")\n' }] });
  assert.equal(result.findings.length, 1);
  assert.deepEqual(result.findings[0].location.range, { start: { line: 2, character: 32 }, end: { line: 2, character: 37 } });
});

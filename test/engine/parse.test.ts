import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createAnalyzer, LossLensAnalyzer } from '../../server/src/analysis/index';
import * as path from 'node:path';
import type { ProgramSource } from '../../server/src/analysis/types';
import { maskIPython } from '../../server/src/parse/ipython';
import { loadPythonParser } from '../../server/src/parse/parser';
import { prepareForParsing } from '../../server/src/parse/prepare';
import { ParseCache } from '../../server/src/parse/tree';
import { FIXTURES_ROOT, readFixture } from './fixtures';

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
const file = (text: string): ProgramSource => ({ kind: 'file', units: [{ text }] });

test('continuation lines starting with % or != are Python: inside brackets, after a backslash, in a string', () => {
  const cell = ['log("%d of %d"', '    % (a, b))', 'ok = (a', '      != b)', 's = "%d" \\', '    % a', 't = """', '!not a command', '%not a magic', '"""', '!ls'].join('\n');
  assert.deepEqual(maskIPython(cell).text.split('\n'), ['log("%d of %d"', '    % (a, b))', 'ok = (a', '      != b)', 's = "%d" \\', '    % a', 't = """', '!not a command', '%not a magic', '"""', '0#s']);
});

test('a shell command continued with backslashes is masked as a whole', () => {
  const cell = ['!pip install torch \\', '    torchvision \\', '  --quiet', 'x = 1'].join('\n');
  const masked = maskIPython(cell).text;
  assert.equal(masked.length, cell.length);
  assert.deepEqual(masked.split('\n'), ['0#ip install torch \\', ' '.repeat(17), ' '.repeat(9), 'x = 1']);
});

test('help suffixes and pasted interactive sessions', () => {
  assert.deepEqual(maskIPython('torch.Tensor?\nF.softmax??\ntorch.*Loss?\nx = 1\n').text.split('\n'), ['0#rch.Tensor?', '0#softmax??', '0#rch.*Loss?', 'x = 1', '']);
  const session = ['>>> import torch', '>>> for i in range(2):', '...     x = i', '...', 'tensor(1.)', '>>> !ls'].join('\n');
  assert.deepEqual(maskIPython(session).text.split('\n'), ['    import torch', '    for i in range(2):', '        x = i', '   ', '          ', '    0#s']);
  // `...` alone is Ellipsis, not a prompt.
  assert.equal(maskIPython('...\nx = 1 % 2\n').text, '...\nx = 1 % 2\n');
});

test('a .py file is never masked: its % and != continuation lines parse and the bug after them is found', () => {
  const fixture = readFixture(path.join(FIXTURES_ROOT, 'softmax-before-cross-entropy', 'continuation-lines.py'));
  const result = analyzer.analyze(fixture.source);
  assert.deepEqual(result.parseErrors, []);
  assert.deepEqual(result.findings.map((f) => [f.rule, f.location.range.start.line]), [['softmax-before-cross-entropy', 27]]);
  // IPython syntax in a .py file is a syntax error there, as Python says.
  assert.equal(analyzer.analyze(file('import torch\n!pip install torch\n')).parseErrors.length, 1);
});

test('the same text parses as a file and as a cell, each its own way', () => {
  const text = 'x = 1\n%matplotlib inline\n';
  assert.equal(analyzer.analyze(notebook(text)).parseErrors.length, 0);
  assert.equal(analyzer.analyze(file(text)).parseErrors.length, 1);
  assert.equal(analyzer.analyze(notebook(text)).parseErrors.length, 0);
});

test('notebook cells with continued commands, help suffixes, % continuation lines and a pasted session parse', () => {
  const fixture = readFixture(path.join(FIXTURES_ROOT, 'softmax-before-cross-entropy', 'ipython-lines.cells.py'));
  const result = analyzer.analyze(fixture.source);
  assert.deepEqual(result.parseErrors, []);
  assert.deepEqual(result.findings.map((f) => [f.rule, f.location.cell, f.location.range.start.line]), [['softmax-before-cross-entropy', 4, 3]]);
});

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

test('only real comment lines are blanked before parsing: string lines starting with #, continuations and the rest keep every character', () => {
  const text = ['"""Doc', '# in a docstring"""', '# comment', "s = '#' + \"\\\"#\" + r'\\'#'", '  # indented', 'x = 1 + \\', '# after a backslash', 'b = b"""', '#"""', '\f# form feed', 'y = 2  # inline'].join('\n');
  const prepared = prepareForParsing(text);
  assert.equal(prepared.length, text.length);
  assert.deepEqual(prepared.split('\n'), ['"""Doc', '# in a docstring"""', ' '.repeat(9), "s = '#' + \"\\\"#\" + r'\\'#'", ' '.repeat(12), 'x = 1 + \\', '# after a backslash', 'b = b"""', '#"""', ' '.repeat(12), 'y = 2  # inline']);
  // Without a comment line or a starred bracket operand the text is returned as is.
  assert.equal(prepareForParsing('x = "#"\n'), 'x = "#"\n');
});

test('a starred bracket operand in a tuple or a subscript is rewritten into a call, keeping every offset; elsewhere nothing changes', () => {
  assert.equal(prepareForParsing('return dx, *([None] * n)'), 'return dx, _([None] * n)');
  assert.equal(prepareForParsing('host, *rest = "h", *[]'), 'host, *rest = "h", _()');
  assert.equal(prepareForParsing('f[*(slice(None) for _ in axes)]'), 'f[_(slice(None) for _ in axes)]');
  assert.equal(prepareForParsing('x = a, *[b, [c]], *  (d)'), 'x = a, _(b, [c]), _  (d)');
  const unchanged = ['y = a * (b) + a * [b] + a ** (b)', 'f(*(a), *[b])', 'x = [*(a)], (*[b],), {*(a)}', 'x = [a, *(b)]', 'except* (ValueError, TypeError):', 'return*(a)', 'print *(a)', 's = "x, *(a)"'];
  for (const text of unchanged) assert.equal(prepareForParsing(text), text);
});

test('valid files with comment-like string lines and starred bracket operands have no syntax error, and the bug after them is found', () => {
  for (const [name, line] of [['comment-like-string-lines.py', 42], ['starred-bracket-operands.py', 34]] as const) {
    const result = analyzer.analyze(readFixture(path.join(FIXTURES_ROOT, 'softmax-before-cross-entropy', name)).source);
    assert.deepEqual(result.parseErrors, [], name);
    assert.deepEqual(result.findings.map((f) => [f.rule, f.location.range.start.line]), [['softmax-before-cross-entropy', line]], name);
  }
});

test('a starred operand tree-sitter-python rejects and the workaround does not cover is a syntax error on its own line', () => {
  const result = analyzer.analyze(file('import torch.nn.functional as F\n\n\ndef chars():\n    return 1, *"ab"\n'));
  assert.deepEqual(result.parseErrors.map((location) => location.range.start.line), [4]);
});

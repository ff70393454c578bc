import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';
import type { AnalysisResult } from '../../server/src/analysis/types';
import { listFixtures, readFixture } from './fixtures';

/** Bad inputs: the analysis never crashes or hangs, analyses what parses, and says when it was cut short. */
let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

/** Tests that check findings pass a generous budget: the machine may be busy, and a cut analysis loses findings. */
const SOFTMAX_BUG = 'import torch.nn.functional as F\nprobs = F.softmax(z, dim=1)\nloss = F.cross_entropy(probs, y)\n';

function analyzeFile(text: string, timeBudgetMs?: number): { result: AnalysisResult; ms: number } {
  const start = Date.now();
  const result = analyzer.analyze({ kind: 'file', units: [{ text }] }, timeBudgetMs === undefined ? {} : { timeBudgetMs });
  return { result, ms: Date.now() - start };
}

function rulesOf(result: AnalysisResult): string[] {
  return result.findings.map((f) => `${f.location.range.start.line}:${f.rule}`);
}

test('10,000 nested parentheses: no stack overflow, the code after them is still analysed', () => {
  const { result } = analyzeFile(`x = ${'('.repeat(10_000)}1${')'.repeat(10_000)}\n${SOFTMAX_BUG}`, 60_000);
  assert.deepEqual(rulesOf(result), ['3:softmax-before-cross-entropy']);
});

test('10,000 nested calls and a 20,000-term sum: no stack overflow', () => {
  const nestedCalls = `x = ${'F.softmax('.repeat(10_000)}z${', dim=1)'.repeat(10_000)}\n`;
  assert.doesNotThrow(() => analyzeFile(nestedCalls));
  const { result } = analyzeFile(`x = ${Array(20_000).fill('a').join(' + ')}\n${SOFTMAX_BUG}`, 60_000);
  assert.deepEqual(rulesOf(result), ['3:softmax-before-cross-entropy']);
});

test('deeply nested blocks and patterns do not overflow the stack', () => {
  const blocks = Array.from({ length: 300 }, (_, depth) => `${' '.repeat(depth)}if x:\n`).join('') + `${' '.repeat(300)}pass\n`;
  assert.doesNotThrow(() => analyzeFile(blocks + SOFTMAX_BUG));
  const pattern = `${'('.repeat(5_000)}a${')'.repeat(5_000)} = 1\n`;
  assert.doesNotThrow(() => analyzeFile(pattern));
});

test('syntax errors: the statements that parse are analysed, and the broken unit is reported', () => {
  const { result } = analyzeFile(`import torch.nn.functional as F\ndef broken(:\n    pass\nprobs = F.softmax(z, dim=1)\nloss = F.cross_entropy(probs, y)\nclass (\n`);
  assert.deepEqual(rulesOf(result), ['4:softmax-before-cross-entropy']);
  assert.ok(result.parseErrors.length > 0);
});

test('binary bytes and NUL characters: no crash', () => {
  const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1');
  // A generous budget: this test is about not crashing, and the machine may be busy.
  const { result } = analyzeFile(bytes, 60_000);
  assert.equal(result.truncated, false);
  assert.ok(result.parseErrors.length > 0);
  const { result: withNul } = analyzeFile(`\0\0${SOFTMAX_BUG}\0`);
  assert.deepEqual(rulesOf(withNul), ['2:softmax-before-cross-entropy']);
});

test('a 5 MB file stops at the time budget and says so', () => {
  const block = [
    'class Net{i}(nn.Module):',
    '    def forward(self, x):',
    '        return F.softmax(self.fc(x), dim=1)',
    'model{i} = Net{i}()',
    'for x, y in loader:',
    '    loss = criterion(model{i}(x), y)',
    '    loss.backward()',
    '',
  ].join('\n');
  let text = 'import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n';
  for (let i = 0; text.length < 5_000_000; i++) text += block.replace(/\{i\}/g, String(i));
  const { result, ms } = analyzeFile(text, 300);
  assert.equal(result.truncated, true);
  // Generous bound: the machine is shared; what matters is that the analysis does not run on for the whole file.
  assert.ok(ms < 5_000, `took ${ms} ms with a 300 ms budget`);
});

test('a budget that runs out during evaluation keeps the findings so far and flags truncated', () => {
  const lines = ['import torch.nn.functional as F'];
  for (let i = 0; i < 4_000; i++) lines.push(`p${i} = F.softmax(z, dim=1)`, `l${i} = F.cross_entropy(p${i}, y)`);
  const text = `${lines.join('\n')}\n`;
  analyzeFile(text, 60_000); // parse once: the second analysis reuses the tree and is cut during evaluation.
  const { result } = analyzeFile(text, 1);
  assert.equal(result.truncated, true);
  assert.ok(result.findings.length < 4_000);
  const { result: full } = analyzeFile(text, 60_000);
  assert.equal(full.truncated, false);
  assert.equal(full.findings.length, 4_000);
});

test('randomly damaged fixtures never make the analysis throw', () => {
  const sources = listFixtures()
    .flatMap((folder) => folder.cases)
    .filter((file) => file.endsWith('.py'))
    .map((file) => readFixture(file).source.units.map((unit) => unit.text).join('\n'));
  let seed = 20_261_126;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
  const debris = '()[]{}:,=.\n "\'#%!\\';
  for (let round = 0; round < 400; round++) {
    let text = sources[Math.floor(random() * sources.length)];
    for (let edit = 0; edit < 1 + Math.floor(random() * 4); edit++) {
      const at = Math.floor(random() * text.length);
      const choice = random();
      if (choice < 0.4) text = text.slice(0, at) + text.slice(at + Math.floor(random() * 12));
      else if (choice < 0.7) text = text.slice(0, at) + debris.charAt(Math.floor(random() * debris.length)) + text.slice(at);
      else {
        const from = Math.floor(random() * text.length);
        text = text.slice(0, at) + text.slice(from, from + Math.floor(random() * 36)) + text.slice(at);
      }
    }
    const result = analyzer.analyze({ kind: 'file', units: [{ text }] }, { timeBudgetMs: 60_000 });
    assert.equal(result.truncated, false, `the analysis stopped on:\n${text}`);
  }
});

test('long runs of comment lines (plain, indented, after a form feed) are analysed within the default budget', () => {
  // tree-sitter-python's scanner is quadratic in such runs: 20,000 lines took minutes before the parser blanked them.
  for (const comment of ['# kept for reference', '    # indented note', '\f# after a form feed']) {
    const { result } = analyzeFile(`def train():\n    pass\n${`${comment}\n`.repeat(20_000)}${SOFTMAX_BUG}`);
    assert.equal(result.truncated, false, JSON.stringify(comment));
    assert.deepEqual(rulesOf(result), ['20004:softmax-before-cross-entropy'], JSON.stringify(comment));
  }
});

test('comment runs after strings holding # lines, quotes and backslashes are still blanked: analysed within the default budget', () => {
  // Each prefix ends outside any string, so the comment lines after it are real comments; a scan that lost track
  // of where the strings end would leave the run to the quadratic parse (minutes) or blank code.
  const prefixes = ['def f():\n    """Doc\n    # of the call."""\n', "x = '''a\n# b\\'''' + \"#\" + '\\'#'\n", 'y = rb"\\"" + f"{1}#"\n'];
  for (const prefix of prefixes) {
    const lines = prefix.split('\n').length - 1;
    const { result } = analyzeFile(`${prefix}${'# kept for reference\n'.repeat(20_000)}${SOFTMAX_BUG}`);
    assert.equal(result.truncated, false, JSON.stringify(prefix));
    assert.deepEqual(result.parseErrors, [], JSON.stringify(prefix));
    assert.deepEqual(rulesOf(result), [`${lines + 20_002}:softmax-before-cross-entropy`], JSON.stringify(prefix));
  }
});

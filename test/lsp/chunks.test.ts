// Large files go to the engine in top-level chunks (server/src/lsp/chunks.ts): where chunks may start,
// stability under edits, and the same findings as the file analysed whole on the whole fixture corpus.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { createAnalyzer } from '../../server/src/analysis';
import { chunkFile, resultInFileLines, statementStartLines } from '../../server/src/lsp/chunks';

const EVERY_START = { minLines: 0, startsPerChunk: 1 };

describe('chunking a Python file at top-level statements', () => {
  it('starts chunks only where a new top-level statement certainly starts', () => {
    const text = [
      'import torch', // 0
      'x = (1,', // 1
      'y)', // 2: inside brackets
      's = """', // 3
      'def not_code():', // 4: inside a string
      '"""', // 5
      '@decorator', // 6
      'def f():', // 7: follows a decorator
      '    return 1', // 8
      'if x:', // 9
      '    pass', // 10
      'else:', // 11: continues the if
      '    pass', // 12
      'total = 1 + \\', // 13
      'two', // 14: backslash continuation
      '# comment', // 15
      'try:', // 16
      '    pass', // 17
      'except ValueError:', // 18
      '    pass', // 19
      "t = 'a # not a comment (' ", // 20
      'class C:', // 21
      '    pass', // 22
      '', // 23
    ].join('\n');
    assert.deepEqual(statementStartLines(text), [1, 3, 6, 9, 13, 16, 20, 21]);
  });

  it('does not split a file that ends inside a bracket or a string, or that is ignored as a whole', () => {
    assert.equal(statementStartLines('x = [1,\ny = 2\n'), undefined);
    assert.equal(chunkFile('x = [1,\ny = 2\n', EVERY_START).source.units.length, 1);
    assert.equal(chunkFile('# loss-lens: ignore-file\nx = 1\ny = 2\n', EVERY_START).source.units.length, 1);
    assert.equal(chunkFile('x = 1\ny = 2\n').source.units.length, 1, 'small files stay whole by default');
  });

  it('keeps every other chunk’s text when lines are inserted in one chunk', () => {
    const blocks = Array.from({ length: 400 }, (_, index) => `def f${index}(x):\n    return x + ${index}\n\nvalue_${index} = f${index}(1)\n`);
    const text = blocks.join('');
    const before = chunkFile(text);
    assert.ok(before.source.units.length > 10, `split into ${before.source.units.length} chunks`);
    const lines = text.split('\n');
    const edited = [...lines.slice(0, 801), '    # a new comment', '    # and another', ...lines.slice(801)].join('\n');
    const after = chunkFile(edited);
    const beforeTexts = new Set(before.source.units.map((unit) => unit.text));
    const changed = after.source.units.filter((unit) => !beforeTexts.has(unit.text));
    assert.equal(changed.length, 1, 'only the edited chunk has a new text');
    assert.equal(after.source.units.length, before.source.units.length);
    assert.equal(after.source.units.map((unit) => unit.text).join(''), edited);
  });

  it('gives the findings and loss calls of the whole-file analysis on every fixture file, even split at every statement', async () => {
    const analyzer = await createAnalyzer();
    const files: string[] = [];
    const walk = (directory: string) => {
      for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.py')) files.push(full);
      }
    };
    walk(path.join(__dirname, '../fixtures'));
    assert.ok(files.length > 50, `a corpus of fixture files (${files.length})`);
    let findings = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const whole = analyzer.analyze({ kind: 'file', units: [{ text }] });
      const chunked = chunkFile(text, EVERY_START);
      const split = resultInFileLines(analyzer.analyze(chunked.source), chunked.startLines);
      assert.deepEqual(split.findings, whole.findings, file);
      assert.deepEqual(split.lossCalls, whole.lossCalls, file);
      findings += whole.findings.length;
    }
    assert.ok(findings > 50, `the corpus has findings to compare (${findings})`);
  });
});

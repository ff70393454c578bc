import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analysisUnitsOf, parseNotebook, rewriteCellSources } from '../../server/src/notebook/ipynb';
import { notebookJson } from './cli-harness';

describe('reading notebooks', () => {
  it('joins list and string sources and keeps cell indices counting markdown cells', () => {
    const text = notebookJson([
      { type: 'markdown', source: '# Title\n' },
      { source: 'import torch\nx = 1\n' },
      { source: 'y = 2', stringSource: true },
    ]);
    const units = analysisUnitsOf(parseNotebook(text));
    assert.deepEqual(units, [
      { cell: 1, text: 'import torch\nx = 1\n' },
      { cell: 2, text: 'y = 2' },
    ]);
  });

  it('skips cells in another language, by cell metadata or by the notebook kernel', () => {
    const mixed = notebookJson([{ source: 'x = 1' }, { source: 'SELECT 1', language: 'sql' }]);
    assert.deepEqual(analysisUnitsOf(parseNotebook(mixed)).map((unit) => unit.cell), [0]);
    const rNotebook = notebookJson([{ source: 'x <- c(1, 2)' }], 'R');
    assert.deepEqual(analysisUnitsOf(parseNotebook(rNotebook)), []);
  });

  it('names the line of a JSON syntax error', () => {
    const text = notebookJson([{ source: 'x = 1' }]);
    const truncated = text.slice(0, text.length - 40);
    assert.throws(() => parseNotebook(truncated), (error: Error) => {
      assert.match(error.message, /^not a notebook: .+ at line \d+/);
      return true;
    });
    assert.throws(() => parseNotebook('{\n "cells": [\n  oops\n ]\n}'), /not a notebook: .* at line 3 column 3/);
  });

  it('rejects JSON that is not a notebook with a clear message', () => {
    assert.throws(() => parseNotebook('{"metadata": {}}'), /not a notebook: no "cells" array/);
    assert.throws(() => parseNotebook('[1, 2]'), /not a notebook: the top level is not a JSON object/);
    assert.throws(() => parseNotebook('{"cells": [{"cell_type": "code", "source": 3}]}'), /source of cell 0/);
  });
});

describe('rewriting cell sources', () => {
  const original = notebookJson([
    { type: 'markdown', source: 'Notes ✓\n' },
    { source: 'a = 1\nb = 2\n', outputs: [{ name: 'stdout', output_type: 'stream', text: ['done\n'] }] },
    { source: 'c = 3', stringSource: true },
  ]);

  it('changes only the edited cell sources, keeping layout, outputs and the final newline', () => {
    const rewritten = rewriteCellSources(original, new Map([[1, 'a = 10\nb = 2\nc = "é\\t"'], [2, 'c = 4\n']]));
    const before = JSON.parse(original);
    const after = JSON.parse(rewritten);
    assert.deepEqual(after.cells[1].source, ['a = 10\n', 'b = 2\n', 'c = "é\\t"']);
    assert.equal(after.cells[2].source, 'c = 4\n');
    for (const cell of [...before.cells, ...after.cells]) delete cell.source;
    assert.deepEqual(after, before);
    // Re-serialising the parsed result the way Jupyter does gives back exactly the rewritten text.
    assert.equal(notebookJson([
      { type: 'markdown', source: 'Notes ✓\n' },
      { source: 'a = 10\nb = 2\nc = "é\\t"', outputs: [{ name: 'stdout', output_type: 'stream', text: ['done\n'] }] },
      { source: 'c = 4\n', stringSource: true },
    ]), rewritten);
  });

  it('keeps an inline list inline and CRLF line endings', () => {
    const inline = '{"cells": [{"cell_type": "code", "source": ["x = 1\\n", "y = 2"]}]}';
    assert.equal(rewriteCellSources(inline, new Map([[0, 'x = 1\ny = 3']])), '{"cells": [{"cell_type": "code", "source": ["x = 1\\n", "y = 3"]}]}');
    const crlf = '{\r\n "cells": [\r\n  {\r\n   "source": [\r\n    "x = 1"\r\n   ]\r\n  }\r\n ]\r\n}\r\n';
    assert.equal(
      rewriteCellSources(crlf, new Map([[0, 'x = 1\ny = 2']])),
      '{\r\n "cells": [\r\n  {\r\n   "source": [\r\n    "x = 1\\n",\r\n    "y = 2"\r\n   ]\r\n  }\r\n ]\r\n}\r\n',
    );
  });

  it('writes an empty source as an empty list', () => {
    const rewritten = rewriteCellSources(original, new Map([[1, '']]));
    assert.deepEqual(JSON.parse(rewritten).cells[1].source, []);
  });
});

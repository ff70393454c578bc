import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProgramSource } from '../../server/src/analysis/types';

/**
 * Reads rule fixtures (format in `test/fixtures/rules/README.md`): `.py` files, `.cells.py` notebooks written as cells
 * (`# %%` starts a code cell, `# %% [markdown]` a markdown cell that counts in the index but is not analysed), and
 * real `.ipynb` notebooks.
 */
export const FIXTURES_ROOT = path.join(__dirname, '..', 'fixtures', 'rules');

export interface FixtureCell {
  index: number;
  markdown: boolean;
  text: string;
}

export interface Fixture {
  file: string;
  source: ProgramSource;
  /** Code units by cell index (undefined key for a `.py` file). */
  cells: FixtureCell[];
  /** Rebuilds the fixture file from (edited) cell texts. */
  render(texts: Map<number | undefined, string>): string;
}

const CELL_MARKER = /^# %%/;

export function readFixture(file: string): Fixture {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.ipynb')) {
    const notebook = JSON.parse(text) as { cells: { cell_type: string; source: string | string[] }[] };
    const cells = notebook.cells.map((cell, index) => ({
      index,
      markdown: cell.cell_type !== 'code',
      text: Array.isArray(cell.source) ? cell.source.join('') : cell.source,
    }));
    return {
      file,
      cells,
      source: { kind: 'notebook', units: cells.filter((c) => !c.markdown).map((c) => ({ cell: c.index, text: c.text })) },
      render: (texts) => JSON.stringify(cells.map((c) => texts.get(c.index) ?? c.text)),
    };
  }
  if (!file.endsWith('.cells.py')) {
    return {
      file,
      cells: [{ index: -1, markdown: false, text }],
      source: { kind: 'file', units: [{ text }] },
      render: (texts) => texts.get(undefined) ?? text,
    };
  }
  const lines = text.split('\n');
  const header: string[] = [];
  const cells: (FixtureCell & { marker: string })[] = [];
  let body: string[] | undefined;
  for (const line of lines) {
    if (CELL_MARKER.test(line)) {
      if (body && cells.length > 0) cells[cells.length - 1].text = body.join('\n');
      cells.push({ index: cells.length, markdown: /^# %% \[markdown\]/.test(line), text: '', marker: line });
      body = [];
    } else if (body) body.push(line);
    else header.push(line);
  }
  if (body && cells.length > 0) cells[cells.length - 1].text = body.join('\n');
  return {
    file,
    cells,
    source: { kind: 'notebook', units: cells.filter((c) => !c.markdown).map((c) => ({ cell: c.index, text: c.text })) },
    render: (texts) =>
      [...(header.length > 0 || cells.length === 0 ? [header.join('\n')] : []), ...cells.map((c) => `${c.marker}\n${texts.get(c.index) ?? c.text}`)].join('\n'),
  };
}

export interface Marker {
  cell: number | undefined;
  line: number;
  rule: string;
}

/** `# expect: a, b` and `# related: a` at the end of lines. */
export function markersOf(fixture: Fixture): { expected: Marker[]; related: Marker[] } {
  const expected: Marker[] = [];
  const related: Marker[] = [];
  for (const unit of fixture.source.units) {
    unit.text.split('\n').forEach((line, lineIndex) => {
      const expect = /#\s*expect:\s*([\w\-, ]+?)\s*$/.exec(line);
      if (expect) for (const rule of expect[1].split(',').map((r) => r.trim()).filter(Boolean)) expected.push({ cell: unit.cell, line: lineIndex, rule });
      const relatedMatch = /#\s*related:\s*([\w\-, ]+?)\s*$/.exec(line);
      if (relatedMatch) for (const rule of relatedMatch[1].split(',').map((r) => r.trim()).filter(Boolean)) related.push({ cell: unit.cell, line: lineIndex, rule });
    });
  }
  return { expected, related };
}

export function listFixtures(): { rule: string; cases: string[]; fixPairs: { name: string; before: string; after: string }[] }[] {
  if (!fs.existsSync(FIXTURES_ROOT)) return [];
  return fs
    .readdirSync(FIXTURES_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(FIXTURES_ROOT, entry.name);
      const files = fs.readdirSync(dir).sort();
      const cases = files.filter((f) => (f.endsWith('.py') || f.endsWith('.ipynb')) && !/\.(before|after)\.(cells\.)?(py|ipynb)$/.test(f)).map((f) => path.join(dir, f));
      const fixPairs = files
        .filter((f) => /\.before\.(cells\.)?(py|ipynb)$/.test(f))
        .map((f) => ({ name: f.replace(/\.before\./, '.'), before: path.join(dir, f), after: path.join(dir, f.replace('.before.', '.after.')) }));
      return { rule: entry.name, cases, fixPairs };
    })
    .sort((a, b) => a.rule.localeCompare(b.rule));
}

export function markerKey(marker: Marker): string {
  return `${marker.cell === undefined ? '' : `cell ${marker.cell} `}line ${marker.line + 1}: ${marker.rule}`;
}

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Fixture projects (`test/fixtures/projects/<name>/`): several files each, with the rule fixtures' inline marks
 * (`# expect: rule-id` where a finding starts, `# related: rule-id` where a related location of one starts), but
 * across files: the finding in `train.py` is caused in `model.py`. Every project has its own `pyproject.toml`, so its
 * folder is the project root.
 */

export const PROJECTS_ROOT = path.join(__dirname, '..', 'fixtures', 'projects');

export interface ProjectMark {
  /** Path under the project folder, `/`-separated. */
  file: string;
  /** Notebook cell index (absent for `.py` files). */
  cell?: number;
  /** 0-based line. */
  line: number;
  rule: string;
}

export interface ProjectFixture {
  name: string;
  dir: string;
  /** Every `.py` and `.ipynb` file, relative, sorted. */
  files: string[];
  expected: ProjectMark[];
  related: ProjectMark[];
}

export function listProjects(): ProjectFixture[] {
  return fs
    .readdirSync(PROJECTS_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => readProject(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function readProject(name: string): ProjectFixture {
  const dir = path.join(PROJECTS_ROOT, name);
  const files = walk(dir).map((file) => path.relative(dir, file).split(path.sep).join('/')).sort();
  const expected: ProjectMark[] = [];
  const related: ProjectMark[] = [];
  for (const file of files) {
    for (const unit of unitsOf(path.join(dir, file))) {
      unit.text.split('\n').forEach((text, line) => {
        const place = { file, ...(unit.cell === undefined ? {} : { cell: unit.cell }), line };
        for (const [pattern, marks] of [[/#\s*expect:\s*([\w\-, ]+?)\s*$/, expected], [/#\s*related:\s*([\w\-, ]+?)\s*$/, related]] as const) {
          const match = pattern.exec(text);
          if (match) for (const rule of match[1].split(',').map((r) => r.trim()).filter(Boolean)) marks.push({ ...place, rule });
        }
      });
    }
  }
  return { name, dir, files, expected, related };
}

export function markKey(mark: ProjectMark): string {
  return `${mark.file}${mark.cell === undefined ? '' : ` cell ${mark.cell}`} line ${mark.line + 1}: ${mark.rule}`;
}

/** The code units of a fixture file: the whole `.py` file, or each code cell of a notebook with its index. */
export function unitsOf(file: string): { cell?: number; text: string }[] {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.ipynb')) return [{ text }];
  const notebook = JSON.parse(text) as { cells: { cell_type: string; source: string | string[] }[] };
  return notebook.cells.flatMap((cell, index) => (cell.cell_type === 'code' ? [{ cell: index, text: Array.isArray(cell.source) ? cell.source.join('') : cell.source }] : []));
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return entry.name.endsWith('.py') || entry.name.endsWith('.ipynb') ? [full] : [];
  });
}

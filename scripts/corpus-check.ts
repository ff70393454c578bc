/**
 * Runs `loss-lens check` over pinned releases of real, correct training and model code from the package mirror and
 * compares what it reports with the reviewed expectations in `test/corpus-real/`. Not part of `npm test`: it needs
 * the mirror and takes a few minutes. Run it through `scripts/corpus-check.sh` (which builds the CLI first):
 *
 *   scripts/corpus-check.sh                      compare; exit 1 on any difference or unreviewed row
 *   scripts/corpus-check.sh --update             rewrite the expectations: new rows as `unreviewed`, verdicts kept
 *   scripts/corpus-check.sh --package timm,keras only these packages (the others' rows are left as they are)
 *   scripts/corpus-check.sh --context 8          show 8 source lines around each row that needs a verdict
 *
 * `test/corpus-real/packages.tsv` pins each package (name, version, sha256 of the downloaded file) and holds its
 * counts (files, lines, files only partly analysed). `test/corpus-real/findings.tsv` holds one row per finding and
 * per note, with the reviewer's verdict (`true`: the finding is deserved; `false`: it is not), a one-line reason and
 * the message the verdict was given on. Downloads and unpacked sources live in `.corpus/` (ignored by git); see
 * docs/corpus.md for the review procedure.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');
const expectationsDir = path.join(repoRoot, 'test', 'corpus-real');
const packagesFile = path.join(expectationsDir, 'packages.tsv');
const findingsFile = path.join(expectationsDir, 'findings.tsv');
const cacheDir = path.join(repoRoot, '.corpus');
const cli = path.join(repoRoot, 'bin', 'loss-lens.js');

const PACKAGE_COLUMNS = ['package', 'version', 'sha256', 'files', 'lines', 'partly_analysed'] as const;
const FINDING_COLUMNS = ['package', 'version', 'path', 'cell', 'line', 'column', 'rule', 'severity', 'verdict', 'reason', 'message'] as const;
const VERDICTS = new Set(['true', 'false', 'unreviewed']);

type PackageRow = Record<(typeof PACKAGE_COLUMNS)[number], string>;
type FindingRow = Record<(typeof FINDING_COLUMNS)[number], string>;

interface CheckJson {
  checked: number;
  errors: { path: string; message: string }[];
  diagnostics: { path: string; cell?: number; line: number; column: number; rule: string; severity: string; message: string }[];
  notes?: { path: string; cell?: number; line: number; column: number; kind: string; message: string }[];
}

class SetupError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// The two tab-separated files: a header line, then one row per line; `#` lines are comments kept out of the data.

function readTsv<Column extends string>(file: string, columns: readonly Column[]): Record<Column, string>[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const header = lines.shift()?.split('\t') ?? [];
  if (header.join('\t') !== columns.join('\t')) throw new SetupError(`${path.relative(repoRoot, file)}: the header must be: ${columns.join(' ')}`);
  return lines.map((line, index) => {
    const cells = line.split('\t');
    if (cells.length !== columns.length) throw new SetupError(`${path.relative(repoRoot, file)}: row ${index + 2} has ${cells.length} columns, not ${columns.length}`);
    return Object.fromEntries(columns.map((column, i) => [column, cells[i]])) as Record<Column, string>;
  });
}

function writeTsv<Column extends string>(file: string, columns: readonly Column[], rows: Record<Column, string>[]): void {
  const text = [columns.join('\t'), ...rows.map((row) => columns.map((column) => row[column].replace(/[\t\n]/g, ' ')).join('\t'))].join('\n');
  fs.writeFileSync(file, `${text}\n`);
}

function findingKey(row: FindingRow): string {
  return [row.package, row.version, row.path, row.cell, row.line, row.column, row.rule].join('\t');
}

function compareRows(a: FindingRow, b: FindingRow): number {
  return (
    a.package.localeCompare(b.package) ||
    a.version.localeCompare(b.version) ||
    a.path.localeCompare(b.path) ||
    Number(a.cell || -1) - Number(b.cell || -1) ||
    Number(a.line) - Number(b.line) ||
    Number(a.column) - Number(b.column) ||
    a.rule.localeCompare(b.rule)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching and unpacking a pinned release.

function run(command: string, args: string[], options: { cwd?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: options.cwd ?? repoRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new SetupError(`${command}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The downloaded wheel (or sdist, where the mirror has nothing else) of `name==version`, fetched once. */
function download(pkg: PackageRow): string {
  const dir = path.join(cacheDir, 'downloads', `${pkg.package}-${pkg.version}`);
  const present = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => /\.(whl|zip|tar\.gz|tgz)$/.test(name)) : []);
  if (present().length === 0) {
    fs.mkdirSync(dir, { recursive: true });
    // --retries 0: an index that cannot be reached is skipped at once instead of after minutes of retries.
    const pip = run('python3', ['-m', 'pip', 'download', '--no-deps', '--no-binary=:none:', '--retries', '0', '--quiet', '-d', dir, `${pkg.package}==${pkg.version}`]);
    if (pip.status !== 0) throw new SetupError(`pip download ${pkg.package}==${pkg.version} failed:\n${pip.stderr.trim()}`);
  }
  const files = present();
  if (files.length !== 1) throw new SetupError(`${dir}: expected one downloaded file, found ${files.length}`);
  return path.join(dir, files[0]);
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Python's zipfile/tarfile extract only the `.py` and `.ipynb` members (the `data` filter refuses paths outside). */
const UNPACK = `
import sys, tarfile, zipfile
archive, target = sys.argv[1], sys.argv[2]
wanted = lambda name: name.endswith(('.py', '.ipynb'))
if archive.endswith('.whl') or archive.endswith('.zip'):
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():
            if wanted(member):
                z.extract(member, target)
else:
    with tarfile.open(archive) as t:
        t.extractall(target, members=[m for m in t.getmembers() if m.isfile() and wanted(m.name)], filter='data')
`;

function unpack(pkg: PackageRow, archive: string): string {
  const dir = path.join(cacheDir, 'src', `${pkg.package}-${pkg.version}`);
  const done = path.join(cacheDir, 'src', `.${pkg.package}-${pkg.version}.unpacked`);
  if (!fs.existsSync(done)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const python = run('python3', ['-c', UNPACK, archive, dir]);
    if (python.status !== 0) throw new SetupError(`unpacking ${archive} failed:\n${python.stderr.trim()}`);
    fs.writeFileSync(done, '');
  }
  return dir;
}

/** Lines of Python the engine reads: every line of a `.py` file, the code cells' lines of a notebook. */
function countLines(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.ipynb')) return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  try {
    const notebook = JSON.parse(text) as { cells?: { cell_type: string; source: string | string[] }[] };
    return (notebook.cells ?? [])
      .filter((cell) => cell.cell_type === 'code')
      .reduce((sum, cell) => sum + (Array.isArray(cell.source) ? cell.source.join('') : cell.source).split('\n').length, 0);
  } catch {
    return 0;
  }
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(py|ipynb)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

// ---------------------------------------------------------------------------------------------------------------
// Checking one package with the CLI, as a user would.

function checkPackage(pkg: PackageRow, sourceDir: string): { reported: FindingRow[]; checked: number; partly: number } {
  const relativeRoot = path.basename(sourceDir);
  const result = run(process.execPath, [cli, 'check', '--format', 'json', relativeRoot], { cwd: path.dirname(sourceDir) });
  if (result.status !== 0 && result.status !== 1 && result.status !== 2) throw new SetupError(`loss-lens check ${pkg.package} exited ${result.status}:\n${result.stderr}`);
  let report: CheckJson;
  try {
    report = JSON.parse(result.stdout) as CheckJson;
  } catch {
    throw new SetupError(`loss-lens check ${pkg.package}: the output is not JSON (exit ${result.status}):\n${result.stderr.slice(-2000)}`);
  }
  const inPackage = (reportedPath: string) => path.relative(relativeRoot, reportedPath).split(path.sep).join('/');
  const row = (fields: Omit<FindingRow, 'package' | 'version' | 'verdict' | 'reason'>): FindingRow => ({ package: pkg.package, version: pkg.version, ...fields, verdict: 'unreviewed', reason: '' });
  const cellOf = (cell: number | undefined) => (cell === undefined ? '' : String(cell));
  const reported: FindingRow[] = [];
  for (const d of report.diagnostics) {
    reported.push(row({ path: inPackage(d.path), cell: cellOf(d.cell), line: String(d.line), column: String(d.column), rule: d.rule, severity: d.severity, message: d.message }));
  }
  const notes = report.notes ?? [];
  for (const n of notes) {
    reported.push(row({ path: inPackage(n.path), cell: cellOf(n.cell), line: String(n.line), column: String(n.column), rule: `note:${n.kind}`, severity: 'note', message: n.message }));
  }
  for (const e of report.errors) {
    reported.push(row({ path: inPackage(e.path), cell: '', line: '0', column: '0', rule: 'read-error', severity: 'error', message: e.message }));
  }
  return { reported, checked: report.checked, partly: new Set(notes.map((n) => n.path)).size };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * A syntax note on a file that Python itself parses is an engine gap, whoever looks at it: such new notes are judged
 * `false` mechanically (`python3`'s `ast.parse`), so that a reviewer only classifies their cause. A file Python
 * rejects, or one this Python is too old to read, stays `unreviewed`.
 */
function judgeNotesOnValidFiles(notes: FindingRow[], sourceDirs: Map<string, string>): void {
  const syntaxNotes = notes.filter((row) => row.rule === 'note:syntax-error' && !row.path.endsWith('.ipynb'));
  if (syntaxNotes.length === 0) return;
  const files = syntaxNotes.map((row) => path.join(sourceDirs.get(`${row.package}==${row.version}`)!, row.path));
  const check = 'import ast, sys\nfor f in sys.argv[1:]:\n    try:\n        ast.parse(open(f, encoding="utf-8").read())\n        print("valid")\n    except Exception:\n        print("invalid")\n';
  const python = run('python3', ['-c', check, ...files]);
  const version = run('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).stdout.trim();
  const answers = python.stdout.trim().split('\n');
  if (python.status !== 0 || answers.length !== files.length) throw new SetupError(`python3 ast.parse check failed:\n${python.stderr}`);
  let judged = 0;
  syntaxNotes.forEach((row, i) => {
    if (answers[i] !== 'valid') return;
    row.verdict = 'false';
    row.reason = `valid Python (ast.parse, Python ${version}): the file is only partly analysed by an engine gap; cause not yet classified`;
    judged += 1;
  });
  if (judged > 0) console.log(`${judged} new syntax note(s) are on files Python ${version} parses: judged false (classify their cause in the reason)`);
}

function parseArguments(argv: string[]): { update: boolean; only: Set<string> | null; context: number } {
  let update = false;
  let only: Set<string> | null = null;
  let context = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--update') update = true;
    else if (argv[i] === '--package' && i + 1 < argv.length) only = new Set(argv[++i].split(',').filter(Boolean));
    else if (argv[i] === '--context' && i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) context = Number(argv[++i]);
    else throw new SetupError(`unknown argument '${argv[i]}' (usage: corpus-check [--update] [--package NAME,...] [--context N])`);
  }
  return { update, only, context };
}

/**
 * The source lines around a row, for judging it without opening the file (`--context N`); the reported line is
 * marked. Notebook rows are left out: their lines are relative to a cell.
 */
function sourceContext(row: FindingRow, sourceDirs: Map<string, string>, context: number): string {
  const dir = sourceDirs.get(`${row.package}==${row.version}`);
  if (context === 0 || !dir || row.cell !== '' || row.severity === 'note') return '';
  const file = path.join(dir, row.path);
  if (!fs.existsSync(file)) return '';
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const at = Number(row.line);
  const shown: string[] = [];
  for (let n = Math.max(1, at - context); n <= Math.min(lines.length, at + context); n++) {
    shown.push(`${n === at ? '>' : ' '}${String(n).padStart(6)} | ${lines[n - 1]}`);
  }
  return `\n${shown.map((line) => `      ${line}`).join('\n')}`;
}

function describe(row: FindingRow): string {
  const cell = row.cell === '' ? '' : ` cell ${row.cell}`;
  return `${row.package}==${row.version} ${row.path}${cell}:${row.line}:${row.column} ${row.rule} (${row.severity})`;
}

function main(): number {
  const { update, only, context } = parseArguments(process.argv.slice(2));
  const packages = readTsv(packagesFile, PACKAGE_COLUMNS);
  const expected = readTsv(findingsFile, FINDING_COLUMNS);
  for (const row of expected) {
    if (!VERDICTS.has(row.verdict)) throw new SetupError(`findings.tsv: ${describe(row)}: verdict '${row.verdict}' is not true, false or unreviewed`);
  }
  if (only) {
    const unknown = [...only].filter((name) => !packages.some((pkg) => pkg.package === name));
    if (unknown.length > 0) throw new SetupError(`not in packages.tsv: ${unknown.join(', ')}`);
  }
  const selected = packages.filter((pkg) => !only || only.has(pkg.package));
  const differences: string[] = [];
  const reportedRows: FindingRow[] = [];
  const sourceDirs = new Map<string, string>();

  console.log(`${'package'.padEnd(26)} ${'version'.padEnd(14)} ${'files'.padStart(6)} ${'lines'.padStart(9)} ${'partly'.padStart(6)} ${'error'.padStart(5)} ${'warn'.padStart(5)} ${'info'.padStart(5)} ${'notes'.padStart(5)}`);
  for (const pkg of selected) {
    const archive = download(pkg);
    const digest = sha256(archive);
    if (pkg.sha256 !== '' && pkg.sha256 !== digest) {
      throw new SetupError(`${pkg.package}==${pkg.version}: ${path.basename(archive)} has sha256 ${digest}, not the pinned ${pkg.sha256} (the mirror serves a different build: re-review before re-pinning)`);
    }
    const sourceDir = unpack(pkg, archive);
    sourceDirs.set(`${pkg.package}==${pkg.version}`, sourceDir);
    const files = sourceFiles(sourceDir);
    const lines = files.reduce((sum, file) => sum + countLines(file), 0);
    const { reported, checked, partly } = checkPackage(pkg, sourceDir);
    reportedRows.push(...reported);
    const count = (severity: string) => reported.filter((row) => row.severity === severity).length;
    console.log(
      `${pkg.package.padEnd(26)} ${pkg.version.padEnd(14)} ${String(checked).padStart(6)} ${String(lines).padStart(9)} ${String(partly).padStart(6)} ` +
        `${String(count('error')).padStart(5)} ${String(count('warning')).padStart(5)} ${String(count('information')).padStart(5)} ${String(count('note')).padStart(5)}`,
    );
    const counted = { sha256: digest, files: String(checked), lines: String(lines), partly_analysed: String(partly) };
    for (const [column, value] of Object.entries(counted) as [keyof typeof counted, string][]) {
      if (pkg[column] !== value) differences.push(`counts       ${pkg.package}==${pkg.version}: ${column} ${pkg[column] || '(none)'} -> ${value}`);
      pkg[column] = value;
    }
  }

  // Every row is compared on a full run (a package dropped from packages.tsv shows its rows as disappeared); with
  // --package, the rows of those packages, every version (re-pinning shows the old version's rows as disappeared).
  const inScope = (row: FindingRow) => !only || only.has(row.package);
  const expectedByKey = new Map(expected.filter(inScope).map((row) => [findingKey(row), row]));
  const reportedKeys = new Set(reportedRows.map(findingKey));
  const merged: FindingRow[] = expected.filter((row) => !inScope(row));
  const unreviewed: string[] = [];
  const newNotes: FindingRow[] = [];
  for (const row of reportedRows) {
    const known = expectedByKey.get(findingKey(row));
    if (!known) {
      differences.push(`unreviewed   ${describe(row)}: ${row.message}${sourceContext(row, sourceDirs, context)}`);
      merged.push(row);
      if (row.rule.startsWith('note:')) newNotes.push(row);
      continue;
    }
    // A verdict was given on a severity and a message: when either changes, the finding must be judged again.
    const changed = known.severity !== row.severity ? `severity was ${known.severity}` : known.message !== row.message ? `message was "${known.message}"` : '';
    if (changed) {
      differences.push(`changed      ${describe(row)}: ${changed} (judged ${known.verdict}): now "${row.message}"${sourceContext(row, sourceDirs, context)}`);
      merged.push({ ...row, verdict: 'unreviewed', reason: `previously ${known.severity}, judged ${known.verdict}: ${known.reason}` });
      continue;
    }
    if (known.verdict === 'unreviewed') unreviewed.push(`${describe(row)}: ${row.message}${sourceContext(row, sourceDirs, context)}`);
    merged.push({ ...row, verdict: known.verdict, reason: known.reason });
  }
  if (update) judgeNotesOnValidFiles(newNotes, sourceDirs);
  for (const row of expectedByKey.values()) {
    if (reportedKeys.has(findingKey(row))) continue;
    const meaning = row.verdict === 'true' ? 'a deserved finding lost' : row.verdict === 'false' ? 'a false finding fixed' : 'never reviewed';
    differences.push(`disappeared  ${describe(row)}: ${meaning}${row.reason ? ` (${row.reason})` : ''}`);
  }
  merged.sort(compareRows);

  // Figures over everything now reported, with the verdicts known for it.
  const tally = new Map<string, Record<string, number>>();
  for (const row of merged.filter(inScope)) {
    const counts = tally.get(row.severity) ?? { true: 0, false: 0, unreviewed: 0 };
    counts[row.verdict] += 1;
    tally.set(row.severity, counts);
  }
  console.log('');
  for (const severity of ['error', 'warning', 'information', 'hint', 'note']) {
    const counts = tally.get(severity);
    if (counts) console.log(`${severity.padEnd(12)} ${counts.true + counts.false + counts.unreviewed} reported: ${counts.true} true, ${counts.false} false, ${counts.unreviewed} unreviewed`);
  }

  if (update) {
    writeTsv(packagesFile, PACKAGE_COLUMNS, packages);
    writeTsv(findingsFile, FINDING_COLUMNS, merged);
    console.log(`\nupdated ${path.relative(repoRoot, findingsFile)} (${differences.length} difference(s) taken in; new rows are 'unreviewed')`);
  }
  if (differences.length > 0) {
    console.log(`\n${differences.length} difference(s) from the expectations:`);
    for (const line of differences) console.log(`  ${line}`);
  }
  if (unreviewed.length > 0) {
    console.log(`\n${unreviewed.length} row(s) await a verdict in ${path.relative(repoRoot, findingsFile)}:`);
    for (const line of unreviewed) console.log(`  ${line}`);
  }
  if (differences.length === 0 && unreviewed.length === 0) console.log('\nthe findings match the reviewed expectations');
  if (update) return merged.some((row) => inScope(row) && row.verdict === 'unreviewed') ? 1 : 0;
  return differences.length > 0 || unreviewed.length > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`corpus-check: ${error.message}`);
  process.exitCode = 2;
}

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { applyTextEdits, createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';
import type { Finding, ProgramSource } from '../../server/src/analysis/types';
import { loadPythonParser } from '../../server/src/parse/parser';
import { RULES } from '../../server/src/rules/index';
import { listFixtures, markerKey, markersOf, readFixture, type Marker } from './fixtures';

/**
 * Walks every folder of `test/fixtures/rules/`: each case must produce exactly its `# expect:` findings (over all
 * rules), with related locations at its `# related:` lines; each fix pair must turn `before` into `after`.
 */
let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

function findingMarker(finding: Finding): Marker {
  return { cell: finding.location.cell, line: finding.location.range.start.line, rule: finding.rule };
}

function sortedKeys(markers: Marker[]): string[] {
  return markers.map(markerKey).sort();
}

// `LOSS_LENS_RULES=id-a,id-b` narrows the run to some rule folders while working on them.
const onlyRules = process.env.LOSS_LENS_RULES?.split(',').filter(Boolean);
const fixtureFolders = listFixtures().filter((folder) => !onlyRules || onlyRules.includes(folder.rule));
const ruleIds = new Set(RULES.map((r) => r.id));

test('every fixture folder is named after a catalogue rule', () => {
  for (const folder of fixtureFolders) assert.ok(ruleIds.has(folder.rule), `test/fixtures/rules/${folder.rule} names no rule in RULES`);
});

for (const folder of fixtureFolders) {
  describe(folder.rule, () => {
    for (const file of folder.cases) {
      test(path.basename(file), () => {
        const fixture = readFixture(file);
        const { expected, related } = markersOf(fixture);
        const result = analyzer.analyze(fixture.source);
        assert.deepEqual(sortedKeys(result.findings.map(findingMarker)), sortedKeys(expected), `findings of ${path.relative(process.cwd(), file)}\n${result.findings.map((f) => `  ${markerKey(findingMarker(f))} — ${f.message}`).join('\n')}`);
        for (const marker of related) {
          const carriers = result.findings.filter((f) => f.rule === marker.rule);
          assert.ok(carriers.length > 0, `${markerKey(marker)}: no ${marker.rule} finding to carry this related location`);
          assert.ok(
            carriers.some((f) => f.related.some((r) => r.location.cell === marker.cell && r.location.range.start.line === marker.line)),
            `${markerKey(marker)}: no ${marker.rule} finding relates to this line; related: ${JSON.stringify(carriers.map((f) => f.related.map((r) => r.location)))}`,
          );
        }
      });
    }
    for (const pair of folder.fixPairs) {
      test(`fix ${pair.name}`, async () => {
        assert.ok(fs.existsSync(pair.after), `${pair.after} is missing`);
        const fixture = readFixture(pair.before);
        const result = analyzer.analyze(fixture.source);
        const findings = result.findings.filter((f) => f.rule === folder.rule);
        assert.ok(findings.length > 0, `${pair.before} has no ${folder.rule} finding`);
        const editsByCell = new Map<number | undefined, { range: Finding['location']['range']; newText: string }[]>();
        for (const finding of findings) {
          assert.ok(finding.fix, `${folder.rule} finding at line ${finding.location.range.start.line + 1} offers no fix`);
          for (const edit of finding.fix.edits) {
            const list = editsByCell.get(edit.location.cell) ?? [];
            // Two findings may share an edit (two losses fed by one softmax): apply it once.
            if (!list.some((e) => JSON.stringify(e) === JSON.stringify({ range: edit.location.range, newText: edit.newText }))) list.push({ range: edit.location.range, newText: edit.newText });
            editsByCell.set(edit.location.cell, list);
          }
        }
        const texts = new Map<number | undefined, string>();
        for (const unit of fixture.source.units) texts.set(unit.cell, applyTextEdits(unit.text, editsByCell.get(unit.cell) ?? []));
        const fixed = fixture.render(texts);
        assert.equal(fixed, fs.readFileSync(pair.after, 'utf8'));

        const parser = await loadPythonParser();
        for (const text of texts.values()) {
          const tree = parser.parse(text)!;
          assert.equal(tree.rootNode.hasError, false, `fixed code does not parse:\n${text}`);
          tree.delete();
        }
        const after: ProgramSource = { kind: fixture.source.kind, units: fixture.source.units.map((u) => ({ cell: u.cell, text: texts.get(u.cell)! })) };
        const remaining = analyzer.analyze(after).findings;
        assert.deepEqual(remaining.filter((f) => f.rule === folder.rule).map((f) => markerKey(findingMarker(f))), [], 'the fix leaves a finding of its rule');
        const before = new Set(result.findings.filter((f) => f.rule !== folder.rule).map((f) => f.rule));
        const introduced = remaining.filter((f) => !before.has(f.rule));
        assert.deepEqual(introduced.map((f) => markerKey(findingMarker(f))), [], 'the fix introduces other findings');
      });
    }
  });
}

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { applyTextEdits, createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';
import type { Finding, ProgramSource } from '../../server/src/analysis/types';
import { listFixtures, readFixture } from './fixtures';

/**
 * Beyond the before/after pairs: every fix offered on any fixture, applied alone, must leave code that parses, has
 * one finding fewer of that rule, and no finding of a rule that was not there before.
 */
let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

function applyFix(source: ProgramSource, finding: Finding): ProgramSource {
  return {
    kind: source.kind,
    units: source.units.map((unit) => ({
      cell: unit.cell,
      text: applyTextEdits(
        unit.text,
        finding.fix!.edits.filter((e) => e.location.cell === unit.cell).map((e) => ({ range: e.location.range, newText: e.newText })),
      ),
    })),
  };
}

for (const folder of listFixtures()) {
  for (const file of folder.cases) {
    test(`fixes offered in ${folder.rule}/${path.basename(file)}`, () => {
      const fixture = readFixture(file);
      const result = analyzer.analyze(fixture.source);
      for (const finding of result.findings.filter((f) => f.fix)) {
        const where = `${finding.rule} at ${finding.location.cell ?? ''}:${finding.location.range.start.line + 1}`;
        const fixed = applyFix(fixture.source, finding);
        const after = analyzer.analyze(fixed);
        assert.deepEqual(after.parseErrors, result.parseErrors, `${where}: the fix breaks the syntax`);
        const count = (findings: Finding[], rule: string) => findings.filter((f) => f.rule === rule).length;
        assert.ok(count(after.findings, finding.rule) < count(result.findings, finding.rule), `${where}: the finding survives its fix`);
        const rulesBefore = new Set(result.findings.map((f) => f.rule));
        const introduced = after.findings.filter((f) => !rulesBefore.has(f.rule)).map((f) => f.rule);
        assert.deepEqual(introduced, [], `${where}: the fix introduces other findings`);
      }
    });
  }
}

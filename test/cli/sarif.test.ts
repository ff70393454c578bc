import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { RULES } from '../../server/src/rules/index';
import { ensureBuilt, makeTree, notebookJson, removeTree, runCli, SOFTMAX_BEFORE_CE } from './cli-harness';

/** The official SARIF 2.1.0 schema (rtm.5, the OASIS release), as shipped by Microsoft's @microsoft/jest-sarif. */
const sarifSchema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;

before(ensureBuilt);

function sarifValidator() {
  // The schema's `language` pattern is not a valid Unicode-mode regular expression; compile patterns the way
  // draft-04 validators of its time did.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(sarifSchema);
}

interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn: number; endLine: number; endColumn: number } };
  properties?: { cell?: number };
}

describe('loss-lens check --format sarif', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'src/train.py': SOFTMAX_BEFORE_CE,
      'notebooks/run 1.ipynb': notebookJson([{ type: 'markdown', source: '# Run\n' }, { source: SOFTMAX_BEFORE_CE }]),
      'broken.ipynb': '{"cells": [',
    });
  });
  after(() => removeTree(root));

  it('is valid against the SARIF 2.1.0 schema, findings, fixes and errors included', () => {
    const run = runCli(['check', '--format', 'sarif', '.'], { cwd: root });
    assert.equal(run.status, 2, 'the broken notebook makes the run exit 2');
    const validate = sarifValidator();
    assert.ok(validate(JSON.parse(run.stdout)), JSON.stringify(validate.errors, null, 2));
    const sarif = JSON.parse(run.stdout);
    assert.equal(sarif.version, '2.1.0');
    assert.match(sarif.$schema, /sarif-2\.1\.0/);

    const [sarifRun] = sarif.runs;
    const driver = sarifRun.tool.driver;
    assert.equal(driver.name, 'Loss Lens');
    assert.deepEqual(driver.rules.map((rule: { id: string }) => rule.id), RULES.map((rule) => rule.id));
    for (const rule of driver.rules) {
      assert.ok(rule.shortDescription.text.length > 0);
      assert.match(rule.helpUri, /^https:\/\/.+\/docs\/rules\/[a-z0-9-]+\.md$/);
      assert.ok(['error', 'warning', 'note'].includes(rule.defaultConfiguration.level));
    }

    const results = sarifRun.results as { ruleId: string; ruleIndex: number; level: string; locations: SarifLocation[]; relatedLocations?: SarifLocation[]; fixes?: unknown[] }[];
    const inScript = results.find((result) => result.locations[0].physicalLocation.artifactLocation.uri === 'src/train.py');
    assert.ok(inScript);
    assert.equal(inScript.ruleId, 'softmax-before-cross-entropy');
    assert.equal(driver.rules[inScript.ruleIndex].id, inScript.ruleId);
    assert.equal(inScript.level, 'error');
    assert.deepEqual(inScript.locations[0].physicalLocation.region, { startLine: 9, startColumn: 22, endLine: 9, endColumn: 27 });
    assert.ok(inScript.relatedLocations && inScript.relatedLocations.length > 0);
    assert.ok(inScript.fixes && inScript.fixes.length === 1);

    // A notebook location: URI-encoded path, the cell in properties, the region relative to that cell.
    const inNotebook = results.find((result) => result.locations[0].physicalLocation.artifactLocation.uri === 'notebooks/run%201.ipynb');
    assert.ok(inNotebook);
    assert.equal(inNotebook.locations[0].properties?.cell, 1);
    assert.equal(inNotebook.locations[0].physicalLocation.region.startLine, 9);

    const notifications = sarifRun.invocations[0].toolExecutionNotifications as { level: string; message: { text: string } }[];
    assert.equal(sarifRun.invocations[0].executionSuccessful, false);
    assert.ok(notifications.some((notification) => notification.level === 'error' && /^not a notebook/.test(notification.message.text)));
  });

  it('is valid with no findings at all', () => {
    const clean = makeTree({ 'ok.py': 'x = 1\n' });
    try {
      const run = runCli(['check', '--format=sarif', 'ok.py'], { cwd: clean });
      assert.equal(run.status, 0);
      assert.ok(sarifValidator()(JSON.parse(run.stdout)));
      const sarif = JSON.parse(run.stdout);
      assert.deepEqual(sarif.runs[0].results, []);
    } finally {
      removeTree(clean);
    }
  });
});

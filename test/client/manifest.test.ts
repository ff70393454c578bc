/** The extension manifest's settings stay in step with the engine's rule catalogue. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RULES_IMPLEMENTED } from '../../server/src/rules';

interface RuleSettingSchema {
  enum: string[];
  markdownDescription: string;
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { properties?: Record<string, RuleSettingSchema>; additionalProperties?: RuleSettingSchema }> } };
};
const rulesSetting = manifest.contributes.configuration.properties['lossLens.rules']!;

describe('lossLens.rules in package.json', () => {
  it('offers exactly the static rules of the catalogue, with their default severity', () => {
    const offered = Object.keys(rulesSetting.properties ?? {}).sort();
    assert.deepEqual(offered, RULES_IMPLEMENTED.map((rule) => rule.info.id).sort());
    for (const rule of RULES_IMPLEMENTED) {
      const schema = rulesSetting.properties![rule.info.id]!;
      assert.ok(schema.markdownDescription.endsWith(`Default: \`${rule.info.severity}\`.`), `${rule.info.id}: ${schema.markdownDescription}`);
      assert.deepEqual(schema.enum, ['error', 'warning', 'information', 'hint', 'off']);
    }
  });

  it('accepts rule ids it does not list (rules added later) with the same values', () => {
    assert.deepEqual(rulesSetting.additionalProperties?.enum, ['error', 'warning', 'information', 'hint', 'off']);
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RULES } from '../../server/src/rules/index';
import { renderRules, withRules } from '../../scripts/gen-readme-rules';
import { repoRoot } from './cli-harness';

describe('the README rule list', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

  it('is generated from the current rule registry (run `npx tsx scripts/gen-readme-rules.ts` after changing rules)', () => {
    assert.equal(withRules(readme, RULES), readme);
  });

  it('lists every rule with its severity and example, and regenerating is idempotent', () => {
    const section = renderRules(RULES);
    for (const rule of RULES) {
      assert.ok(section.includes(`[\`${rule.id}\`](docs/rules/${rule.id}.md) (${rule.severity}): ${rule.description}`), rule.id);
      assert.ok(section.includes(rule.example.split('\n')[0]), `${rule.id} example`);
    }
    const once = withRules(readme, RULES)!;
    assert.equal(withRules(once, RULES), once);
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { Parser } from 'web-tree-sitter';
import { loadPythonParser } from '../../server/src/parse/parser';
import { RULES } from '../../server/src/rules/index';

/**
 * Every catalogue rule has a page in `docs/rules/` with the sections users rely on, its severity as in the registry,
 * an entry in the index, and Python examples that parse.
 */
const DOCS = path.join(__dirname, '..', '..', 'docs', 'rules');
const index = fs.readFileSync(path.join(DOCS, 'README.md'), 'utf8');

let parser: Parser;
before(async () => {
  parser = await loadPythonParser();
});

function pythonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```python\n([\s\S]*?)```/g)].map((match) => match[1]);
}

describe('rule documentation', () => {
  for (const rule of RULES) {
    test(rule.id, () => {
      const file = path.join(DOCS, `${rule.id}.md`);
      assert.ok(fs.existsSync(file), `docs/rules/${rule.id}.md is missing`);
      const page = fs.readFileSync(file, 'utf8');
      assert.ok(page.startsWith(`# \`${rule.id}\`\n`), 'the page is titled with the rule id');
      assert.match(page, new RegExp(`\\*\\*Severity:\\*\\* ${rule.severity} `), 'the severity matches the registry');
      const headings = rule.category === 'runtime' ? ['## The finding', '## Why it hurts', '## Example', '## The fix', '## Suppress'] : ['## The misuse', '## Why it hurts', '## Example', '## The fix', '## Suppress'];
      for (const heading of headings) assert.ok(page.includes(`\n${heading}\n`), `section "${heading}"`);
      if (rule.category !== 'runtime') {
        assert.ok(page.includes(`# loss-lens: ignore[${rule.id}]`), 'shows the suppression comment');
        assert.ok(pythonBlocks(page).length > 0, 'has a Python example');
      }
      for (const block of pythonBlocks(page)) {
        const tree = parser.parse(block)!;
        assert.equal(tree.rootNode.hasError, false, `example does not parse:\n${block}`);
        tree.delete();
      }
      assert.ok(index.includes(`[\`${rule.id}\`](${rule.id}.md)`), 'listed in docs/rules/README.md');
    });
  }

  test('the index links only to existing pages', () => {
    for (const [, target] of index.matchAll(/\]\(([\w-]+\.md)\)/g)) assert.ok(fs.existsSync(path.join(DOCS, target)), target);
  });
});

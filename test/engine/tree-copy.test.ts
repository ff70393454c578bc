import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import type { Parser, Tree } from 'web-tree-sitter';
import { loadPythonParser } from '../../server/src/parse/parser';
import { directCursorAvailable, openPublicWalkCursor, openWalkCursor, type WalkCursor } from '../../server/src/parse/wasm-cursor';

let parser: Parser;
before(async () => {
  parser = await loadPythonParser();
});

/** Every node of the tree in preorder, as the copy reads it: type id, start, end, field id. */
function trace(tree: Tree, open: (tree: Tree) => WalkCursor): number[] {
  const cursor = open(tree);
  const visited: number[] = [];
  try {
    for (;;) {
      visited.push(cursor.typeId(), cursor.startIndex(), cursor.endIndex(), cursor.fieldId());
      if (cursor.gotoFirstChild()) continue;
      let moved = cursor.gotoNextSibling();
      while (!moved && cursor.gotoParent()) moved = cursor.gotoNextSibling();
      if (!moved) return visited;
    }
  } finally {
    cursor.delete();
  }
}

function fixtureTexts(): string[] {
  const directory = path.join(__dirname, '..', 'fixtures', 'rules');
  const files = fs.readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.py')).sort().slice(0, 40);
  const texts = files.map((name) => fs.readFileSync(path.join(directory, name), 'utf8'));
  // Broken code too (ERROR and MISSING nodes), and deep nesting (a long cursor stack, reallocated on the way down).
  return [...texts, ...texts.map((text) => text.replace(/\)/g, '')), `x = ${'('.repeat(3000)}1${')'.repeat(3000)}\n`];
}

test('the tree copy uses the direct cursor (a web-tree-sitter upgrade that breaks it would silently slow the copy)', () => {
  assert.equal(directCursorAvailable(), true);
});

test('the direct cursor walks every tree exactly as web-tree-sitter\'s public cursor does', () => {
  const texts = fixtureTexts();
  assert.ok(texts.length > 20);
  for (const text of texts) {
    const tree = parser.parse(text)!;
    try {
      const direct = trace(tree, openWalkCursor);
      const reference = trace(tree, openPublicWalkCursor);
      assert.ok(direct.length > 4);
      assert.deepEqual(direct, reference, text.slice(0, 80));
    } finally {
      tree.delete();
    }
  }
});

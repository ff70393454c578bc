import type { ParsedText } from '../parse/tree';

/**
 * `# loss-lens: ignore` at the end of a line silences every finding on that line;
 * `# loss-lens: ignore[rule-id, other-id]` only those. (`ignore-file` on a unit's first line is handled at parse time.)
 * Another comment may follow it (`# loss-lens: ignore  # why`). The comment is matched in the raw text of the line, so it also works on lines the parser could not make sense of.
 */
const IGNORE_COMMENT = /#\s*loss-lens:\s*ignore(?:\[([^\]]*)\])?\s*(?:#.*)?$/;

/** Per line: `true` (every rule) or the set of silenced rule IDs. */
export type LineSuppressions = Map<number, true | Set<string>>;

const cache = new WeakMap<ParsedText, LineSuppressions>();

export function suppressionsOf(unit: ParsedText): LineSuppressions {
  let found = cache.get(unit);
  if (found) return found;
  found = new Map();
  if (unit.text.includes('loss-lens')) {
    const lines = unit.text.split('\n');
    lines.forEach((line, index) => {
      const match = IGNORE_COMMENT.exec(line.replace(/\r$/, ''));
      if (!match) return;
      found!.set(index, match[1] === undefined ? true : new Set(match[1].split(',').map((id) => id.trim()).filter(Boolean)));
    });
  }
  cache.set(unit, found);
  return found;
}

export function isSuppressed(unit: ParsedText, line: number, rule: string): boolean {
  const entry = suppressionsOf(unit).get(line);
  return entry === true || (entry !== undefined && entry.has(rule));
}

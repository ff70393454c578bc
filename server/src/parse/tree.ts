import type { Parser } from 'web-tree-sitter';
import type { Position, Range } from '../analysis/types';
import { maskIPython } from './ipython';

/**
 * A plain JavaScript copy of tree-sitter's syntax tree. The analysis walks trees many times; crossing into wasm for
 * every node access would dominate its cost, so each unit's tree is copied once (iteratively, so deep nesting cannot
 * overflow the stack) and cached by the unit's text.
 */
export interface PyNode {
  type: string;
  named: boolean;
  /** The grammar field this node fills in its parent (`function`, `arguments`, `left`, ...). */
  field: string | null;
  /** Offsets into the unit's text, in UTF-16 code units. */
  start: number;
  end: number;
  children: PyNode[];
  parent: PyNode | null;
  unit: ParsedText;
}

/** One parsed unit of text (a file or a cell). */
export interface ParsedText {
  /** The text as given (before IPython masking), so that node text and fixes refer to what the user wrote. */
  text: string;
  root: PyNode;
  /** The cell is not Python (`%%bash`, ...) or carries `# loss-lens: ignore-file`. */
  skipped: boolean;
  hasError: boolean;
  /** Ranges of ERROR and MISSING nodes. */
  errorNodes: PyNode[];
  lineStarts: number[];
}

export function textOf(node: PyNode): string {
  return node.unit.text.slice(node.start, node.end);
}

export function child(node: PyNode, field: string): PyNode | undefined {
  for (const c of node.children) if (c.field === field) return c;
  return undefined;
}

export function namedChildren(node: PyNode): PyNode[] {
  return node.children.filter((c) => c.named && c.type !== 'comment');
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function positionAt(unit: ParsedText, offset: number): Position {
  const starts = unit.lineStarts;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low, character: offset - starts[low] };
}

export function rangeOf(node: PyNode): Range {
  return { start: positionAt(node.unit, node.start), end: positionAt(node.unit, node.end) };
}

export function offsetAt(unit: ParsedText, position: Position): number {
  return (unit.lineStarts[position.line] ?? unit.text.length) + position.character;
}

const IGNORE_FILE = /^\s*#\s*loss-lens:\s*ignore-file\b/;

function convert(parser: Parser, text: string): ParsedText {
  const lineStarts = computeLineStarts(text);
  const firstLine = text.slice(0, lineStarts[1] ?? text.length);
  const masked = maskIPython(text);
  const unit: ParsedText = {
    text,
    root: undefined as unknown as PyNode,
    skipped: masked.skip || IGNORE_FILE.test(firstLine),
    hasError: false,
    errorNodes: [],
    lineStarts,
  };
  const emptyRoot: PyNode = { type: 'module', named: true, field: null, start: 0, end: text.length, children: [], parent: null, unit };
  if (unit.skipped) {
    unit.root = emptyRoot;
    return unit;
  }
  const tree = parser.parse(masked.text);
  if (!tree) {
    unit.root = emptyRoot;
    unit.hasError = true;
    return unit;
  }
  try {
    const cursor = tree.walk();
    const root: PyNode = { type: cursor.nodeType, named: true, field: null, start: cursor.startIndex, end: cursor.endIndex, children: [], parent: null, unit };
    let current = root;
    // Depth-first with an explicit parent chain instead of recursion.
    if (cursor.gotoFirstChild()) {
      for (;;) {
        const type = cursor.nodeType;
        const node: PyNode = {
          type,
          named: cursor.nodeIsNamed,
          field: cursor.currentFieldName,
          start: cursor.startIndex,
          end: cursor.endIndex,
          children: [],
          parent: current,
          unit,
        };
        if (type === 'ERROR' || cursor.nodeIsMissing) {
          unit.hasError = true;
          unit.errorNodes.push(node);
        }
        if (type !== 'comment') current.children.push(node);
        if (type !== 'comment' && cursor.gotoFirstChild()) {
          current = node;
          continue;
        }
        while (!cursor.gotoNextSibling()) {
          if (!cursor.gotoParent() || current === root) {
            cursor.delete();
            unit.root = root;
            return unit;
          }
          current = current.parent!;
        }
      }
    }
    cursor.delete();
    unit.root = root;
    return unit;
  } finally {
    tree.delete();
  }
}

/**
 * Parses units, keeping the converted trees of recently seen texts so that re-analysing a notebook after one cell
 * changed re-parses only that cell.
 */
export class ParseCache {
  private entries = new Map<string, ParsedText>();
  /** Number of actual parses, for tests of the cache. */
  parses = 0;

  constructor(
    private readonly parser: Parser,
    private readonly capacity = 512,
  ) {}

  get(text: string, fresh = false): ParsedText {
    if (!fresh) {
      const cached = this.entries.get(text);
      if (cached) {
        // Refresh recency: Map keeps insertion order.
        this.entries.delete(text);
        this.entries.set(text, cached);
        return cached;
      }
    }
    this.parses++;
    const parsed = convert(this.parser, text);
    if (fresh) return parsed;
    this.entries.set(text, parsed);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return parsed;
  }
}

import type { Language, Parser } from 'web-tree-sitter';
import type { Position, Range } from '../analysis/types';
import { maskIPython } from './ipython';
import { prepareForParsing } from './prepare';
import { openWalkCursor } from './wasm-cursor';

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
  /** The named children, computed on first use (`namedChildren`). */
  namedChildren?: PyNode[];
  parent: PyNode | null;
  unit: ParsedText;
}

/** One parsed unit of text (a file or a cell). */
/** A `.py` file (or a chunk of one) or a notebook code cell: only a cell may hold IPython syntax. */
export type UnitKind = 'file' | 'cell';

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
  // An indexed loop: the evaluator calls this for nearly every node it visits, and for-of's iterator costs more here.
  const children = node.children;
  for (let index = 0; index < children.length; index++) if (children[index].field === field) return children[index];
  return undefined;
}

export function namedChildren(node: PyNode): PyNode[] {
  return (node.namedChildren ??= node.children.filter((c) => c.named));
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

/** Named node types whose children the analysis never reads (strings are read from their text): not descended into. */
const LEAF_TYPES = new Set(['identifier', 'integer', 'float', 'true', 'false', 'none', 'string', 'escape_sequence', 'comment', 'ellipsis', 'type_conversion', 'line_continuation']);
/** Parents whose children never fill a grammar field (statements of a block, arguments, items): no need to ask. */
const NO_FIELD_PARENTS = new Set(['module', 'block', 'argument_list', 'expression_statement', 'list', 'tuple', 'set', 'expression_list', 'parenthesized_expression', 'string', 'concatenated_string', 'dictionary']);
/** Shared by every node without children (a node's children array is made once, complete, and never changed). */
const NO_CHILDREN: PyNode[] = Object.freeze([]) as unknown as PyNode[];
/** Parents whose anonymous children the analysis reads: operator tokens. */
const KEEP_ANONYMOUS_IN = new Set(['binary_operator', 'unary_operator', 'comparison_operator', 'boolean_operator', 'augmented_assignment', 'not_operator']);

/** End of an ASCII identifier starting at `start`; -1 when a non-ASCII character makes the scan unsure. */
function asciiIdentifierEnd(text: string, start: number): number {
  let end = start;
  for (; end < text.length; end++) {
    const code = text.charCodeAt(end);
    const word = (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
    if (word) continue;
    return code > 127 ? -1 : end;
  }
  return end;
}

function isNamedNode(node: PyNode): boolean {
  return node.named;
}

/**
 * A tree with errors that the walk did not keep: MISSING tokens, or an ERROR inside a node kept as a leaf (an f-string's
 * `{x!}`). The first one, so that the error is reported where it is rather than at the start of the unit.
 */
function hiddenErrorNodes(tree: import('web-tree-sitter').Tree, unit: ParsedText, root: PyNode): PyNode[] {
  const found: PyNode[] = [];
  const cursor = tree.walk();
  let more = cursor.gotoFirstChild();
  while (more && found.length === 0) {
    const type = cursor.nodeIsMissing ? 'MISSING' : cursor.nodeType === 'ERROR' ? 'ERROR' : undefined;
    if (type) found.push({ type, named: false, field: null, start: cursor.startIndex, end: cursor.endIndex, children: [], parent: root, unit });
    if (cursor.gotoFirstChild()) continue;
    while (!(more = cursor.gotoNextSibling()) && cursor.gotoParent());
  }
  cursor.delete();
  return found;
}

const IGNORE_FILE = /^\s*#\s*loss-lens:\s*ignore-file\b/;

interface SymbolTables {
  typeNames: string[];
  fieldNames: (string | null)[];
  namedById: boolean[];
}

const symbolTables = new WeakMap<Language, SymbolTables>();

/**
 * The same string as an internalized one. web-tree-sitter decodes names from wasm memory into fresh strings; comparing
 * one with a literal (`node.type === 'call'`, `c.field === 'function'`: the evaluator does little else) then compares
 * characters, where two internalized strings compare by identity. V8 internalizes property keys.
 */
function internalized(name: string): string {
  return Object.keys({ [name]: 0 })[0];
}

/** Node type names, field names and namedness by id, read once per language. */
function symbolTablesOf(language: Language): SymbolTables {
  let tables = symbolTables.get(language);
  if (!tables) {
    const namedById: boolean[] = [];
    for (let id = 0; id < language.nodeTypeCount; id++) namedById[id] = language.nodeTypeIsNamed(id);
    tables = {
      typeNames: language.types.map((name) => (typeof name === 'string' ? internalized(name) : name)),
      fieldNames: language.fields.map((name) => (typeof name === 'string' ? internalized(name) : name)),
      namedById,
    };
    symbolTables.set(language, tables);
  }
  return tables;
}

/**
 * Parses and copies one unit; undefined when the deadline passed first (the caller reports the analysis truncated).
 * Only a notebook cell is masked for IPython syntax: in a `.py` file a line starting with `%` or `!=` is Python.
 */
function convert(parser: Parser, text: string, kind: UnitKind, deadline: number): ParsedText | undefined {
  const lineStarts = computeLineStarts(text);
  const firstLine = text.slice(0, lineStarts[1] ?? text.length);
  const masked = kind === 'cell' ? maskIPython(text) : { text, skip: false };
  const parsedText = prepareForParsing(masked.text);
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
  // Returning true from the progress callback cancels the parse: a huge input cannot hold the analysis past its budget.
  const tree = parser.parse(parsedText, null, { progressCallback: () => Date.now() > deadline });
  if (!tree) {
    // A cancelled parser resumes the old parse on its next call unless reset.
    parser.reset();
    return undefined;
  }
  try {
    // Numeric ids and per-language tables: every cursor property is a call into wasm, strings cost extra. Everything
    // asked of web-tree-sitter outside the cursor is asked before the walk (see `openWalkCursor`).
    const { typeNames, fieldNames, namedById } = symbolTablesOf(tree.language);
    unit.hasError = tree.rootNode.hasError;
    const cursor = openWalkCursor(tree);
    try {
      const root: PyNode = { type: typeNames[cursor.typeId()] || 'ERROR', named: true, field: null, start: cursor.startIndex(), end: cursor.endIndex(), children: NO_CHILDREN, namedChildren: undefined, parent: null, unit };
      unit.root = root;
      let current = root;
      let visited = 0;
      // The children of the nodes on the path from the root to `current`, each node's from its `childrenStarts` entry
      // on; a node's array is made, at its exact size, when the walk leaves it (arrays grown by `push` would each
      // reserve room for 16 children, most nodes have two or three).
      const pending: PyNode[] = [];
      const childrenStarts: number[] = [0];
      const closeChildren = (node: PyNode): void => {
        const start = childrenStarts.pop()!;
        if (pending.length === start) return;
        const children = pending.slice(start);
        pending.length = start;
        node.children = children;
        // All named (the common case): the named children are the same nodes, no need to filter them later.
        if (children.every(isNamedNode)) node.namedChildren = children;
      };
      // Depth-first with an explicit parent chain instead of recursion.
      if (cursor.gotoFirstChild()) {
        walk: for (;;) {
          if ((++visited & 4095) === 0 && Date.now() > deadline) return undefined;
          const typeId = cursor.typeId();
          const type = typeNames[typeId] || 'ERROR';
          const named = type === 'ERROR' || namedById[typeId] === true;
          let node: PyNode | undefined;
          // Anonymous tokens (keywords, punctuation) are skipped without reading their position, except where the
          // analysis reads them: operators, and the `,`/`)` of argument lists.
          if (type !== 'comment' && (named || KEEP_ANONYMOUS_IN.has(current.type))) {
            const start = cursor.startIndex();
            // Identifiers (the commonest node) and integers (digits, letters, `_`): their end is found in the text
            // instead of asking tree-sitter.
            const identifierEnd = type === 'identifier' || type === 'integer' ? asciiIdentifierEnd(parsedText, start) : -1;
            const end = identifierEnd > start ? identifierEnd : cursor.endIndex();
            const leaf = !named || LEAF_TYPES.has(type);
            const field = NO_FIELD_PARENTS.has(current.type) ? null : (fieldNames[cursor.fieldId()] ?? null);
            node = { type, named, field, start, end, children: NO_CHILDREN, namedChildren: leaf ? NO_CHILDREN : undefined, parent: current, unit };
            if (type === 'ERROR') unit.errorNodes.push(node);
            pending.push(node);
          }
          if (node && named && !LEAF_TYPES.has(type) && cursor.gotoFirstChild()) {
            childrenStarts.push(pending.length);
            current = node;
            continue;
          }
          while (!cursor.gotoNextSibling()) {
            if (current === root || !cursor.gotoParent()) break walk;
            closeChildren(current);
            current = current.parent!;
          }
        }
      }
      for (let open: PyNode | null = current; open; open = open.parent) closeChildren(open);
    } finally {
      cursor.delete();
    }
    if (unit.hasError && unit.errorNodes.length === 0) unit.errorNodes.push(...hiddenErrorNodes(tree, unit, unit.root));
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
  /** One map per kind of unit: the same text parses differently as a file and as a cell. */
  private entries: Record<UnitKind, Map<string, ParsedText>> = { file: new Map(), cell: new Map() };
  /** The `dropUnused` period in which each tree was last asked for (weak: it holds neither trees nor texts). */
  private lastUsed = new WeakMap<ParsedText, number>();
  private period = 0;
  /** Number of actual parses, for tests of the cache. */
  parses = 0;

  constructor(
    private readonly parser: Parser,
    private readonly capacity = 512,
  ) {}

  /**
   * The parsed unit for this text: from the cache unless `fresh` (a second cell with the same text needs its own
   * tree). Undefined when `deadline` (ms since the epoch) passed before parsing finished; such results are not cached.
   */
  /** The cached tree of this text, if any (never parses); a hit counts as a use for recency. */
  peek(text: string, kind: UnitKind): ParsedText | undefined {
    const entries = this.entries[kind];
    const cached = entries.get(text);
    if (cached) {
      entries.delete(text);
      entries.set(text, cached);
    }
    return cached;
  }

  get(text: string, kind: UnitKind, fresh = false, deadline = Infinity): ParsedText | undefined {
    const entries = this.entries[kind];
    if (!fresh) {
      const cached = entries.get(text);
      if (cached) {
        this.lastUsed.set(cached, this.period);
        // Refresh recency: Map keeps insertion order.
        entries.delete(text);
        entries.set(text, cached);
        return cached;
      }
    }
    this.parses++;
    const parsed = convert(this.parser, text, kind, deadline);
    if (fresh || !parsed) return parsed;
    entries.set(text, parsed);
    this.lastUsed.set(parsed, this.period);
    if (entries.size > this.capacity) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    return parsed;
  }

  /**
   * Drops every tree not asked for since the last call. The CLI calls it after each analysis: a single pass over a
   * repository never sees a file's text again, so it keeps only the program just analysed (the next round of `fix`
   * re-analyses it with most units unchanged), and memory stays flat however many files are checked.
   */
  dropUnused(): void {
    for (const entries of Object.values(this.entries)) {
      for (const [text, parsed] of entries) if (this.lastUsed.get(parsed) !== this.period) entries.delete(text);
    }
    this.period++;
  }
}

import type { Tree, TreeCursor } from 'web-tree-sitter';

/**
 * A tree cursor that calls web-tree-sitter's wasm exports directly.
 *
 * web-tree-sitter's `TreeCursor` keeps the cursor's state (four 32-bit words) in JavaScript and, on every property read
 * or move, copies it into a shared transfer buffer in wasm memory and (after a move) back, through generic
 * `setValue`/`getValue` helpers: that copying cost more than the moves themselves when the whole tree is walked. The
 * wasm functions read the cursor from the transfer buffer and write it back there after a move, so a walk that makes
 * no other web-tree-sitter call in between can leave the state there: copy it in once, call the exports, copy it back
 * once before the cursor is deleted.
 *
 * This leans on web-tree-sitter's internals (the Emscripten module is the options object given to `Parser.init`; the
 * cursor's `handles`; the tree's handle `[0]`), so `openWasmCursor` checks every piece it uses and returns undefined
 * when one is missing (another web-tree-sitter version): the caller then walks with the public `TreeCursor`.
 */
export interface WalkCursor {
  typeId(): number;
  startIndex(): number;
  endIndex(): number;
  fieldId(): number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
  /** Frees the cursor; the cursor must not be used afterwards. */
  delete(): void;
}

interface CursorExports {
  _ts_init(): number;
  getValue(address: number, type: 'i32'): number;
  setValue(address: number, value: number, type: 'i32'): void;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
}

const REQUIRED_EXPORTS: (keyof CursorExports)[] = [
  '_ts_init',
  'getValue',
  'setValue',
  '_ts_tree_cursor_current_node_type_id_wasm',
  '_ts_tree_cursor_start_index_wasm',
  '_ts_tree_cursor_end_index_wasm',
  '_ts_tree_cursor_current_field_id_wasm',
  '_ts_tree_cursor_goto_first_child_wasm',
  '_ts_tree_cursor_goto_next_sibling_wasm',
  '_ts_tree_cursor_goto_parent_wasm',
];

/** Words of cursor state in the transfer buffer (web-tree-sitter's SIZE_OF_CURSOR). */
const CURSOR_WORDS = 4;

let exports: { module: CursorExports; transferBuffer: number } | undefined;

/** Called with the options object given to `Parser.init`, once the module is initialised. */
export function registerWasmModule(moduleOptions: object): void {
  const candidate = moduleOptions as Partial<CursorExports>;
  if (!REQUIRED_EXPORTS.every((name) => typeof candidate[name] === 'function')) return;
  const module = candidate as CursorExports;
  // `ts_init` only returns the transfer buffer's address (and stores the language version numbers there again).
  exports = { module, transferBuffer: module._ts_init() };
}

/** Whether `openWalkCursor` calls the wasm exports directly (false: every cursor call marshals, the copy is slower). */
export function directCursorAvailable(): boolean {
  return exports !== undefined;
}

/** A cursor at the tree's root through web-tree-sitter's public `TreeCursor` (the fallback; tests compare the two). */
export function openPublicWalkCursor(tree: Tree): WalkCursor {
  return publicCursor(tree.walk());
}

function publicCursor(cursor: TreeCursor): WalkCursor {
  return {
    typeId: () => cursor.nodeTypeId,
    startIndex: () => cursor.startIndex,
    endIndex: () => cursor.endIndex,
    fieldId: () => cursor.currentFieldId,
    gotoFirstChild: () => cursor.gotoFirstChild(),
    gotoNextSibling: () => cursor.gotoNextSibling(),
    gotoParent: () => cursor.gotoParent(),
    delete: () => cursor.delete(),
  };
}

/** A cursor at the tree's root. No other web-tree-sitter call may happen between its first use and `delete`. */
export function openWalkCursor(tree: Tree): WalkCursor {
  const cursor = tree.walk();
  const handles = (cursor as unknown as { handles?: unknown }).handles;
  const treeHandle = (tree as unknown as { [0]?: unknown })[0];
  if (!exports || !Array.isArray(handles) || handles.length !== CURSOR_WORDS || typeof treeHandle !== 'number') return publicCursor(cursor);
  const { module, transferBuffer } = exports;
  for (let word = 0; word < CURSOR_WORDS; word++) module.setValue(transferBuffer + 4 * word, handles[word] as number, 'i32');
  return {
    typeId: () => module._ts_tree_cursor_current_node_type_id_wasm(treeHandle),
    startIndex: () => module._ts_tree_cursor_start_index_wasm(treeHandle),
    endIndex: () => module._ts_tree_cursor_end_index_wasm(treeHandle),
    fieldId: () => module._ts_tree_cursor_current_field_id_wasm(treeHandle),
    gotoFirstChild: () => module._ts_tree_cursor_goto_first_child_wasm(treeHandle) === 1,
    gotoNextSibling: () => module._ts_tree_cursor_goto_next_sibling_wasm(treeHandle) === 1,
    gotoParent: () => module._ts_tree_cursor_goto_parent_wasm(treeHandle) === 1,
    delete: () => {
      // The moves may have reallocated the cursor's stack: take the current state back before freeing it.
      for (let word = 0; word < CURSOR_WORDS; word++) handles[word] = module.getValue(transferBuffer + 4 * word, 'i32');
      cursor.delete();
    },
  };
}

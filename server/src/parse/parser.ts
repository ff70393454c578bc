import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { registerWasmModule } from './wasm-cursor';

/**
 * Loads web-tree-sitter and the Python grammar once per process.
 * The wasm files sit next to the bundle (`server/out/`) in a build, and in `node_modules` when run from source.
 */
let ready: Promise<Parser> | undefined;

function findWasm(fileName: string, packageName: string): string {
  const besideBundle = path.join(__dirname, fileName);
  if (fs.existsSync(besideBundle)) return besideBundle;
  // web-tree-sitter's `exports` hides `package.json`, so locate the package through node_modules paths instead.
  for (const dir of require.resolve.paths(packageName) ?? []) {
    const candidate = path.join(dir, packageName, fileName);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find ${fileName} (package ${packageName})`);
}

export function loadPythonParser(): Promise<Parser> {
  ready ??= (async () => {
    const moduleOptions = { locateFile: () => findWasm('web-tree-sitter.wasm', 'web-tree-sitter') };
    await Parser.init(moduleOptions);
    registerWasmModule(moduleOptions);
    const python = await Language.load(findWasm('tree-sitter-python.wasm', 'tree-sitter-python'));
    const parser = new Parser();
    parser.setLanguage(python);
    return parser;
  })();
  return ready;
}

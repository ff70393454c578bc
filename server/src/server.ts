/**
 * The Loss Lens language server. Run as a script (`node server/out/server.js --stdio`, or `--node-ipc`
 * when started by the VS Code client) it talks LSP on that channel; `startServer` lets tests drive it
 * over any connection.
 */
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { pathToFileURL } from 'node:url';
import { Connection, createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { LossLensAnalyzer } from './analysis';
import type { AnalyzerFactory } from './lsp/analyzers';
import { LossLensSession } from './lsp/session';
import { loadPythonParser } from './parse/parser';
import { ParseCache } from './parse/tree';

/**
 * The rule's documentation page shipped with the extension. `__dirname` is `server/out` in the bundle and
 * `server/src` when run from source: `docs/` is two levels up from either.
 */
function ruleDocumentation(rule: string): string {
  return pathToFileURL(path.join(__dirname, '../../docs/rules', `${rule}.md`)).href;
}

/** Parsed imported modules kept for all open programs together (the least recently used go first). */
const MODULE_CACHE_CAPACITY = 256;

/**
 * The engine with a parse cache of the size the session asks for (one per open document; see lsp/analyzers.ts) and
 * one cache of imported modules' parses shared by all.
 */
async function loadEngine(): Promise<AnalyzerFactory> {
  const parser = await loadPythonParser();
  const moduleCache = new ParseCache(parser, MODULE_CACHE_CAPACITY);
  return (cacheCapacity, project) => new LossLensAnalyzer(new ParseCache(parser, cacheCapacity), { ...project, moduleCache });
}

export function startServer(connection: Connection): void {
  new LossLensSession(connection, { loadEngine, ruleDocumentation }).start();
}

const USAGE = 'Usage: node server/out/server.js --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n';

/**
 * V8 grows the heap by a large factor after each collection, so the garbage of successive analyses piles
 * up before it is collected (about 210 MB peak in bench/lsp-bench.ts); growing by 20% keeps the peak near
 * 145 MB with no cost in analysis time measurable on the development VM. Only when run as the server: the flag is process-wide.
 */
const HEAP_GROWING_FLAG = '--heap-growing-percent=20';

if (require.main === module) {
  v8.setFlagsFromString(HEAP_GROWING_FLAG);
  let connection: Connection;
  try {
    // Reads the transport from argv: --stdio, --node-ipc, --socket=N or --pipe=NAME.
    connection = createConnection(ProposedFeatures.all);
  } catch (error) {
    process.stderr.write(`loss-lens server: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  // Last line of defence: a bug that escapes every handler's guard is logged, and the editor keeps its server.
  const logEscaped = (message: string) => {
    try {
      connection.console.error(message);
    } catch {
      process.stderr.write(`${message}\n`); // the connection itself is broken
    }
  };
  process.on('uncaughtException', (error) => logEscaped(`Loss Lens: uncaught error: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (reason) => logEscaped(`Loss Lens: unhandled rejection: ${String(reason)}`));
  startServer(connection);
}

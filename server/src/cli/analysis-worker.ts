import { parentPort } from 'node:worker_threads';
import { LossLensAnalyzer } from '../analysis/index';
import { loadPythonParser } from '../parse/parser';
import { ParseCache } from '../parse/tree';
import { ImportIndex } from '../analysis/cross-file-fixes';
import { ModuleResolver } from '../analysis/modules';
import type { AnalysisOptions, AnalysisResult, ProgramSource } from '../analysis/types';
import { DiskProjectFiles } from '../workspace/disk-files';

/**
 * The engine in a worker thread (bundled as `server/out/analysis-worker.js`), so that the CLI can stop an analysis
 * that does not return (see `isolated-analyzer.ts`). One request at a time: `{ id, source, options }` in,
 * `{ id, result }` or `{ id, error }` out.
 */

export interface AnalysisRequest {
  id: number;
  source: ProgramSource;
  options: AnalysisOptions;
  /** Files rewritten since the previous request (modules `fix` edited): read again. */
  rewritten?: string[];
}

export type AnalysisReply = { id: number; result: AnalysisResult } | { id: number; error: string };

/**
 * Imported modules kept parsed by the worker: in a project most files import the same few, and a folder's files
 * import their neighbours, checked soon after (a file parsed as a module is not parsed again as a program).
 */
const MODULE_CACHE_CAPACITY = 256;

const port = parentPort;
if (port) {
  const files = new DiskProjectFiles();
  const engineReady = loadPythonParser().then((parser) => {
    const parses = new ParseCache(parser);
    const moduleCache = new ParseCache(parser, MODULE_CACHE_CAPACITY);
    return { parses, analyzer: new LossLensAnalyzer(parses, { resolver: new ModuleResolver(files), importIndex: new ImportIndex(), moduleCache }) };
  });
  port.on('message', async (request: AnalysisRequest) => {
    let reply: AnalysisReply;
    try {
      const { parses, analyzer } = await engineReady;
      for (const file of request.rewritten ?? []) files.forget(file);
      reply = { id: request.id, result: analyzer.analyze(request.source, request.options) };
      // Keep only this program's trees: the next request is the next round of `fix` on it, or another file.
      parses.dropUnused();
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}

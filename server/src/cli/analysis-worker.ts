import { parentPort } from 'node:worker_threads';
import { createAnalyzer } from '../analysis/index';
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

/** Parsed files kept by the worker (programs and the modules they import). */
const PARSE_CACHE_CAPACITY = 4096;

const port = parentPort;
if (port) {
  // Files stay parsed for the run: in a project each is checked once and imported by others.
  const files = new DiskProjectFiles();
  const analyzerReady = createAnalyzer({ files, cacheCapacity: PARSE_CACHE_CAPACITY });
  port.on('message', async (request: AnalysisRequest) => {
    let reply: AnalysisReply;
    try {
      const analyzer = await analyzerReady;
      for (const file of request.rewritten ?? []) files.forget(file);
      reply = { id: request.id, result: analyzer.analyze(request.source, request.options) };
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}

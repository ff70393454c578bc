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
}

export type AnalysisReply = { id: number; result: AnalysisResult } | { id: number; error: string };

/** Parsed imported modules kept by the worker (a few MB for a thousand typical modules). */
const MODULE_CACHE_CAPACITY = 2048;

const port = parentPort;
if (port) {
  // Imported modules stay parsed for the whole run: in a project most files import the same few modules.
  const analyzerReady = createAnalyzer({ files: new DiskProjectFiles(), moduleCacheCapacity: MODULE_CACHE_CAPACITY });
  port.on('message', async (request: AnalysisRequest) => {
    let reply: AnalysisReply;
    try {
      const analyzer = await analyzerReady;
      reply = { id: request.id, result: analyzer.analyze(request.source, request.options) };
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}

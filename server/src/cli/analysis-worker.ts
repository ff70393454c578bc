import { parentPort } from 'node:worker_threads';
import { createAnalyzer } from '../analysis/index';
import type { AnalysisOptions, AnalysisResult, ProgramSource } from '../analysis/types';

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

const port = parentPort;
if (port) {
  const analyzerReady = createAnalyzer();
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

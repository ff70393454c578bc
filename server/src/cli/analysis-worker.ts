import { parentPort } from 'node:worker_threads';
import { LossLensAnalyzer } from '../analysis/index';
import { loadPythonParser } from '../parse/parser';
import { ParseCache } from '../parse/tree';
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
  const engineReady = loadPythonParser().then((parser) => {
    const parses = new ParseCache(parser);
    return { parses, analyzer: new LossLensAnalyzer(parses) };
  });
  port.on('message', async (request: AnalysisRequest) => {
    let reply: AnalysisReply;
    try {
      const { parses, analyzer } = await engineReady;
      reply = { id: request.id, result: analyzer.analyze(request.source, request.options) };
      // Keep only this program's trees: the next request is the next round of `fix` on it, or another file.
      parses.dropUnused();
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}

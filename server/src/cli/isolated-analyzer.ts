import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AnalysisOptions, AnalysisResult, ProgramSource } from '../analysis/types';
import type { AnalysisReply, AnalysisRequest } from './analysis-worker';

/**
 * Runs the engine in a worker thread with a hard deadline, so that one pathological file cannot hang a CI job.
 *
 * The engine's own time budget stops its analysis cleanly where it can; this deadline is the safety net for what it
 * cannot foresee (tree-sitter-python was quadratic in runs of comment lines until the parser started blanking them).
 * Past the deadline the worker is terminated, the file is reported as not analysed, and a fresh worker serves the
 * next file. The worker also gets a larger stack than the main thread, so that deeply nested code is
 * analysed instead of failing with a stack overflow.
 */

/** The engine's budget (10 s in the CLI) plus room for the parse and the worker's start; `LOSS_LENS_ANALYSIS_TIMEOUT_MS` overrides. */
const DEFAULT_HARD_TIMEOUT_MS = 30_000;

const WORKER_STACK_MB = 256;

export class AnalysisTimeoutError extends Error {}

export class IsolatedAnalyzer {
  private worker: Worker | undefined;
  private nextId = 0;
  /** Files written since the last request, which the worker must read again. */
  private rewritten: string[] = [];

  constructor(private readonly hardTimeoutMs: number) {}

  analyze(source: ProgramSource, options: AnalysisOptions): Promise<AnalysisResult> {
    const worker = (this.worker ??= startWorker());
    const request: AnalysisRequest = { id: this.nextId++, source, options, rewritten: this.rewritten };
    this.rewritten = [];
    return new Promise<AnalysisResult>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: AnalysisReply) => {
        if (reply.id !== request.id) return;
        finish();
        if ('error' in reply) reject(new Error(reply.error));
        else resolve(reply.result);
      };
      const onError = (error: Error) => {
        finish();
        this.worker = undefined;
        reject(error);
      };
      const onExit = (code: number) => {
        finish();
        this.worker = undefined;
        reject(new Error(`the analysis worker stopped (exit code ${code})`));
      };
      const timer = setTimeout(() => {
        finish();
        this.worker = undefined;
        void worker.terminate();
        reject(new AnalysisTimeoutError(`the analysis did not finish within ${(this.hardTimeoutMs / 1000).toFixed(1)} s and was stopped`));
      }, this.hardTimeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }

  /** A file of the project was rewritten (a module `fix` edited): the worker reads it again. */
  fileRewritten(path: string): void {
    this.rewritten.push(path);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

export function hardTimeoutFromEnvironment(env: NodeJS.ProcessEnv): number {
  const configured = Number(env.LOSS_LENS_ANALYSIS_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_HARD_TIMEOUT_MS;
}

/** The bundled worker beside the CLI bundle; from source (tests driving the CLI in-process), the TypeScript file via tsx. */
function startWorker(): Worker {
  const bundled = path.join(__dirname, 'analysis-worker.js');
  const resourceLimits = { stackSizeMb: WORKER_STACK_MB };
  if (fs.existsSync(bundled)) return new Worker(bundled, { resourceLimits });
  const source = path.join(__dirname, 'analysis-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, resourceLimits });
}

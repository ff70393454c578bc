import { parentPort } from 'node:worker_threads';
import { type BlockPartial, type ElementPassInput, type ElementPassOutput, runBlocks } from './element-pass';
import { rowMaxSumExpRange } from './host-kernel';

/**
 * One thread of the host kernel's parallel paths (bundled as `kernel-worker.js` beside the CLI and the extension
 * host; see `parallel.ts`). The typed arrays arrive on SharedArrayBuffers, so nothing input-sized is copied:
 * each job reads its range and writes its rows in place, and only per-block partial sums travel back.
 */

export type KernelJob =
  | { id: number; kind: 'element-pass'; input: ElementPassInput; output: ElementPassOutput; firstBlock: number; endBlock: number }
  | { id: number; kind: 'row-max-sum-exp'; x: Float32Array; classes: number; firstRow: number; endRow: number; maxOut: Float64Array; sumOut: Float64Array };

export type KernelReply = { id: number; partials?: BlockPartial[]; error?: string };

export function runKernelJob(job: KernelJob): KernelReply {
  if (job.kind === 'element-pass') return { id: job.id, partials: runBlocks(job.input, job.output, job.firstBlock, job.endBlock) };
  rowMaxSumExpRange(job.x, job.classes, job.firstRow, job.endRow, job.maxOut, job.sumOut);
  return { id: job.id };
}

const port = parentPort;
if (port) {
  port.on('message', (job: KernelJob) => {
    let reply: KernelReply;
    try {
      reply = runKernelJob(job);
    } catch (error) {
      reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}

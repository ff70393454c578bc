/**
 * Node-only: the host kernel on every core. A pool of worker threads (`kernel-worker.ts`) takes contiguous ranges
 * of the work while this thread runs the first range itself; inputs on a SharedArrayBuffer are read in place
 * (the Node readers, `readFileShared` in `tensors/read-file.ts`, put tensors there), others are copied to one once. Results do not depend on
 * the number of threads: the element pass sums fixed blocks in block order, and the row statistics are per row.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { blockCount, type BlockPartial, type ElementPassInput, type ElementPassOutput, mergePartials, runBlocks } from './element-pass';
import { registerParallelKernels } from './engine';
import { rowMaxSumExpRange, type RowStatistics } from './host-kernel';
import type { KernelJob, KernelReply } from './kernel-worker';
import { sharedFloat64Array } from './validate';

/** Below this many input elements a thread costs more to brief than it saves (a few milliseconds of work). */
const PARALLEL_MIN_ELEMENTS = 1 << 20;

type JobWithoutId = KernelJob extends infer J ? (J extends KernelJob ? Omit<J, 'id'> : never) : never;

class KernelPool {
  private readonly workers: (Worker | undefined)[] = [];
  private readonly pending = new Map<number, { resolve(reply: KernelReply): void; reject(error: Error): void }>();
  private nextId = 0;

  /** Starts the workers now (unreferenced), so that their start-up overlaps whatever the caller does next (reading tensors). */
  constructor(readonly threads: number, private readonly workerScript?: string) {
    for (let index = 0; index < threads - 1; index++) this.worker(index);
  }

  private worker(index: number): Worker {
    let worker = this.workers[index];
    if (!worker) {
      worker = startWorker(this.workerScript);
      worker.on('message', (reply: KernelReply) => {
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (!waiting) return;
        if (reply.error !== undefined) waiting.reject(new Error(reply.error));
        else waiting.resolve(reply);
      });
      worker.on('error', (error) => {
        for (const [, waiting] of this.pending) waiting.reject(error);
        this.pending.clear();
        this.workers[index] = undefined; // a crashed worker: the next job starts another
      });
      // Idle workers must not keep the CLI (or a test) alive; after the listeners, which would ref it again.
      worker.unref();
      this.workers[index] = worker;
    }
    return worker;
  }

  run(index: number, job: JobWithoutId): Promise<KernelReply> {
    const id = this.nextId++;
    const worker = this.worker(index);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...job, id });
    }).finally(() => {
      if (this.pending.size === 0) for (const each of this.workers) each?.unref();
    }) as Promise<KernelReply>;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker?.terminate()));
    this.workers.length = 0;
  }
}

/** The bundled worker beside this bundle (server/out/ or client/out/); from source (tests, tsx), the TypeScript file. */
function startWorker(script?: string): Worker {
  if (script) return new Worker(script);
  const bundled = path.join(__dirname, 'kernel-worker.js');
  if (fs.existsSync(bundled)) return new Worker(bundled);
  const source = path.join(__dirname, 'kernel-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

function isShared(array: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && array.buffer instanceof SharedArrayBuffer;
}

/** The array itself when it is on shared memory, else a copy on shared memory. */
function shared<T extends Float32Array | Float64Array>(array: T): T {
  if (isShared(array)) return array;
  const Constructor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Constructor(new SharedArrayBuffer(array.byteLength));
  copy.set(array as never);
  return copy;
}

/** Splits [0, count) into `parts` contiguous ranges, the first ones one larger. */
function ranges(count: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let part = 0, start = 0; part < parts; part++) {
    const size = Math.floor(count / parts) + (part < count % parts ? 1 : 0);
    if (size > 0) out.push([start, start + size]);
    start += size;
  }
  return out;
}

let pool: KernelPool | undefined;

async function parallelElementPass(input: ElementPassInput): Promise<{ output: ElementPassOutput; summary: BlockPartial }> {
  const rows = input.batch * input.inner;
  const sharedInput: ElementPassInput = { ...input, x: shared(input.x), targets: shared(input.targets) };
  const output: ElementPassOutput = { values: sharedFloat64Array(rows), trueProbability: sharedFloat64Array(rows) };
  const parts = ranges(blockCount(input), pool!.threads);
  const workerParts = parts.slice(1).map(([firstBlock, endBlock], index) =>
    pool!.run(index, { kind: 'element-pass', input: sharedInput, output, firstBlock, endBlock }));
  // This thread takes the first range while the workers run theirs.
  const own = parts.length ? runBlocks(sharedInput, output, parts[0][0], parts[0][1]) : [];
  const replies = await Promise.all(workerParts);
  const partials = own.concat(...replies.map((reply) => reply.partials!));
  return { output, summary: mergePartials(partials, input.classes) };
}

async function parallelRowStatistics(x: Float32Array, rows: number, classes: number): Promise<RowStatistics> {
  const sharedX = shared(x);
  const max = sharedFloat64Array(rows);
  const sumExp = sharedFloat64Array(rows);
  const parts = ranges(rows, pool!.threads);
  const workerParts = parts.slice(1).map(([firstRow, endRow], index) =>
    pool!.run(index, { kind: 'row-max-sum-exp', x: sharedX, classes, firstRow, endRow, maxOut: max, sumOut: sumExp }));
  if (parts.length) rowMaxSumExpRange(sharedX, classes, parts[0][0], parts[0][1], max, sumExp);
  await Promise.all(workerParts);
  return { max, sumExp };
}

/**
 * Lets the engine run its parallel paths on `threads` threads (default: every core, `LOSS_LENS_THREADS` to
 * override; 1 turns them off), starting the workers now. `workerScript`: a bundled `kernel-worker.js` to run instead
 * of the one beside this module (the benchmarks, run from source, use the built one as the extension does).
 * Idempotent; a later call with another count replaces the pool.
 */
export function configureParallelKernels(threads = threadsFromEnvironment(), workerScript?: string): void {
  if (pool?.threads === threads) return;
  void pool?.terminate();
  pool = threads > 1 ? new KernelPool(threads, workerScript) : undefined;
  registerParallelKernels(pool ? {
    elementPass: (input) => (input.x.length >= PARALLEL_MIN_ELEMENTS ? parallelElementPass(input) : null),
    rowStatistics: (x, rows, classes) => (x.length >= PARALLEL_MIN_ELEMENTS ? parallelRowStatistics(x, rows, classes) : null),
    threads,
  } : undefined);
}

export function threadsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.LOSS_LENS_THREADS);
  return Number.isInteger(configured) && configured >= 1 ? configured : os.availableParallelism();
}

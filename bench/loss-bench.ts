/**
 * Benchmark (not a test): cross_entropy and binary_cross_entropy_with_logits on [65536, 1000] float32 through the
 * loss engine on each backend Node offers, against PyTorch on the CPU timed in-process on the same tensors,
 * in the same run. Prints times, ratios to PyTorch, and memory against the input's size.
 *
 *   node --import tsx bench/loss-bench.ts [--rows 65536] [--classes 1000] [--repeat 3] [--rounds 2] [--backends js,js@1,wasm,cpu] [--no-torch]
 *
 * `js@N` runs the host kernel on N threads (LOSS_LENS_THREADS=N); plain `js` on every core, as `loss-lens loss` does.
 * Besides the wall time (median) each row gives the process CPU time per run, all threads together.
 *
 * Every measurement runs in its own process, so that peak RSS belongs to one backend alone. On a shared machine the
 * load drifts between measurements: the whole sequence (PyTorch, then each backend) runs `--rounds` times,
 * interleaved, and each keeps its fastest round (TensorFlow.js's slow cpu backend runs in the first round only).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LossName } from '../server/src/losses/api';
import { BackendChoice, computeLoss } from '../server/src/losses/engine';
import { configureNodeBackends } from '../server/src/losses/node-backends';
import { configureParallelKernels } from '../server/src/losses/parallel';
import { encodeNpy } from '../server/src/tensors/npy';
import { readTensorArgument } from '../server/src/tensors/read-file';

const PYTHON_WITH_TORCH = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const LOSSES: LossName[] = ['cross_entropy', 'binary_cross_entropy_with_logits'];

interface Measurement {
  backend: string;
  ms: number;
  /** Process CPU time per run (the warm-up included in the average), all threads together. */
  cpuMs: number;
  value: number;
  peakRss: number;
  loadedRss: number;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

/** Deterministic standard normals (xorshift + Box-Muller), so that every run times the same numbers. */
function writeTensors(folder: string, rows: number, classes: number): number {
  let state = 0x9e3779b9;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const input = new Float32Array(rows * classes);
  for (let i = 0; i < input.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    input[i] = 2 * radius * Math.cos(angle);
    if (i + 1 < input.length) input[i + 1] = 2 * radius * Math.sin(angle);
  }
  const labels = BigInt64Array.from({ length: rows }, () => BigInt(Math.floor(uniform() * classes)));
  const binary = Float32Array.from({ length: rows * classes }, () => (uniform() < 0.3 ? 1 : 0));
  fs.writeFileSync(path.join(folder, 'input.npy'), encodeNpy({ dtype: 'float32', shape: [rows, classes], data: input }));
  fs.writeFileSync(path.join(folder, 'labels.npy'), encodeNpy({ dtype: 'int64', shape: [rows], data: labels }));
  fs.writeFileSync(path.join(folder, 'binary.npy'), encodeNpy({ dtype: 'float32', shape: [rows, classes], data: binary }));
  return input.byteLength;
}

/** The child process: one loss on one backend. */
async function measure(folder: string, loss: LossName, backend: BackendChoice, repeat: number): Promise<Measurement> {
  configureNodeBackends();
  // As `loss-lens loss` does: every core (or LOSS_LENS_THREADS), with the built worker when there is one.
  const bundled = path.join(__dirname, '../server/out/kernel-worker.js');
  configureParallelKernels(undefined, fs.existsSync(bundled) ? bundled : undefined);
  const input = readTensorArgument(path.join(folder, 'input.npy'));
  const target = readTensorArgument(path.join(folder, loss === 'cross_entropy' ? 'labels.npy' : 'binary.npy'));
  const loadedRss = process.memoryUsage().rss;
  const cpuStart = process.cpuUsage();
  const result = await computeLoss({ loss, input, target }, { backend, repeat });
  const cpu = process.cpuUsage(cpuStart);
  return { backend: result.backend + (result.threads ? ` (${result.threads} threads)` : ''), cpuMs: (cpu.user + cpu.system) / 1000 / (repeat + 1), ms: result.ms, value: result.value!, peakRss: process.resourceUsage().maxRSS * 1024, loadedRss };
}

function run(command: string, args: string[], env: Record<string, string> = {}): Measurement | string {
  const child = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, ...env } });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Measurement;
  } catch {
    return (child.stderr || child.stdout || `exit ${child.status}`).trim().split('\n').slice(-3).join(' / ');
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [folder, loss, backend, repeat] = process.argv.slice(3);
    console.log(JSON.stringify(await measure(folder, loss as LossName, backend as BackendChoice, Number(repeat))));
    return;
  }
  const rows = Number(option('--rows', '65536'));
  const classes = Number(option('--classes', '1000'));
  const repeat = Number(option('--repeat', '3'));
  const rounds = Number(option('--rounds', '2'));
  const backends = option('--backends', 'js,wasm,cpu').split(',') as BackendChoice[];
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-bench-'));
  try {
    const inputBytes = writeTensors(folder, rows, classes);
    console.log(`loss-bench: [${rows}, ${classes}] float32 (${mib(inputBytes)} per tensor), median of ${repeat} after one warm-up, best of ${rounds} rounds, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg()[0].toFixed(1)}`);
    for (const loss of LOSSES) {
      console.log(`\n${loss}`);
      const contenders = ['torch', ...backends].filter((name) => name !== 'torch' || !process.argv.includes('--no-torch'));
      const best = new Map<string, Measurement | string>();
      for (let round = 0; round < rounds; round++) {
        for (const name of contenders) {
          if (name === 'cpu' && round > 0) continue;
          // TensorFlow.js's cpu backend takes many seconds per run at this size: one timed run after the warm-up.
          // `js@N`: the host kernel on N threads (LOSS_LENS_THREADS), to compare with PyTorch's own thread count.
          const [backend, threads] = name.split('@');
          const measurement = name === 'torch'
            ? run(PYTHON_WITH_TORCH, [path.join(__dirname, 'loss-bench-torch.py'), folder, loss, String(repeat)])
            : run(process.execPath, ['--import', 'tsx', __filename, '--child', folder, loss, backend, String(name === 'cpu' ? 1 : repeat)], threads ? { LOSS_LENS_THREADS: threads } : {});
          const previous = best.get(name);
          if (previous === undefined || typeof previous === 'string' || (typeof measurement !== 'string' && measurement.ms < previous.ms)) best.set(name, measurement);
        }
      }
      const torch = best.get('torch') ?? 'skipped';
      const rowsOut = contenders.map((name) => [name, best.get(name)!] as [string, Measurement | string]);
      for (const [name, measurement] of rowsOut) {
        if (typeof measurement === 'string') {
          console.log(`  ${name.padEnd(8)} failed: ${measurement}`);
          continue;
        }
        const ratio = typeof torch === 'string' ? '' : `  ${(measurement.ms / torch.ms).toFixed(2)}x torch`;
        const extra = Math.max(0, measurement.peakRss - measurement.loadedRss);
        const cpuRatio = typeof torch === 'string' ? '' : ` (${(measurement.cpuMs / torch.cpuMs).toFixed(2)}x)`;
        console.log(`  ${measurement.backend.padEnd(34)} ${measurement.ms.toFixed(1).padStart(9)} ms${ratio.padEnd(16)} CPU ${measurement.cpuMs.toFixed(0)} ms${cpuRatio}  value ${measurement.value.toPrecision(8)}` +
          `   peak RSS ${mib(measurement.peakRss)} (${(measurement.peakRss / inputBytes).toFixed(2)}x input), beyond the loaded tensors ${mib(extra)} (${(extra / inputBytes).toFixed(2)}x input)`);
      }
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * `loss-lens check` at repository scale: a generated folder of 1,200 files of about 600 lines, checked by the CLI as a
 * process with `--jobs 1` and with the default (the machine's available parallelism), and the peak memory of the
 * same run on 100 of those files.
 *
 *   npx tsx bench/cli-scale-bench.ts [--files 1200] [--small 100] [--lines 600] [--baseline OTHER/bin/loss-lens.js]
 *
 * `--baseline` also measures another build of the CLI (another checkout's) on the same files with its defaults: the
 * before/after of a change.
 *
 * Goals (issue 10): speed-up of the default over `--jobs 1` at least 0.75 x the available parallelism; peak RSS for
 * 1,200 files at most 1.5x that for 100. Each figure is a ratio to a reference measured in the same run, so that
 * the load other processes put on a shared machine hits both sides; the load average is printed before and after.
 * Peak RSS is the process's own (the workers are threads in it), read by a preloaded module when it exits.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTree, removeTree } from '../test/cli/cli-harness';
import { trainingFile, trainingProject } from '../test/synthetic-training';

const repoRoot = path.resolve(__dirname, '..');
const thisCli = path.join(repoRoot, 'bin', 'loss-lens.js');

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** Plausible training code, distinct per file and block; one block in four puts a softmax before the cross-entropy. */
function generateFile(file: number, lines: number): string {
  return trainingFile(lines, (block) => ({ id: `${file}_${block}`, variant: file + block, softmaxBeforeLoss: (file + block) % 4 === 0, evaluation: true }));
}

interface Run {
  wallMs: number;
  /** User + system CPU time of the process, all threads. */
  cpuMs: number;
  peakRssMb: number;
  findings: number;
  report: string;
}

function check(target: string, extra: string[], cli = thisCli): Run {
  const rssFile = path.join(os.tmpdir(), `loss-lens-bench-rss-${process.pid}`);
  const preload = path.join(os.tmpdir(), `loss-lens-bench-preload-${process.pid}.js`);
  fs.writeFileSync(
    preload,
    `process.on('exit', () => { const usage = process.resourceUsage(); require('fs').writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify([usage.maxRSS, usage.userCPUTime + usage.systemCPUTime])); });\n`,
  );
  const start = process.hrtime.bigint();
  // --quiet is this build's (stderr is a pipe here anyway, so there is no progress line); a baseline may lack it.
  const quiet = cli === thisCli ? ['--quiet'] : [];
  const run = spawnSync(process.execPath, ['--require', preload, cli, 'check', '--format', 'json', ...quiet, ...extra, target], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0 && run.status !== 1) throw new Error(`check exited ${run.status}: ${run.stderr}`);
  let report: { diagnostics: unknown[]; notes: unknown[]; errors: unknown[] };
  try {
    report = JSON.parse(run.stdout);
  } catch {
    // A build that exits before stdout is drained (the baseline before issue 10) cuts its report short.
    console.log(`  (${path.relative(repoRoot, cli) || cli}: the report through the pipe was cut short at ${run.stdout.length} characters)`);
    report = { diagnostics: [], notes: [], errors: [] };
  }
  if (report.errors.length > 0 || report.notes.length > 0) console.log(`  (${report.errors.length} errors, ${report.notes.length} notes)`);
  const [maxRssKb, cpuMicroseconds] = JSON.parse(fs.readFileSync(rssFile, 'utf8')) as [number, number];
  const peakRssMb = maxRssKb / 1024;
  fs.rmSync(rssFile);
  fs.rmSync(preload);
  return { wallMs, cpuMs: cpuMicroseconds / 1000, peakRssMb, findings: report.diagnostics.length, report: run.stdout };
}

function main(): void {
  const files = flag('--files', 1200);
  const small = flag('--small', 100);
  const lines = flag('--lines', 600);
  const cores = os.availableParallelism();
  const large = makeTree(trainingProject(files, (file) => generateFile(file, lines)));
  const smallRoot = makeTree(trainingProject(small, (file) => generateFile(file, lines)));
  try {
    console.log(`loss-lens check at scale: ${files} files of ~${lines} lines (and ${small} of them), ${cores} available cores, load ${os.loadavg()[0].toFixed(2)}`);

    const one = check(large, ['--jobs', '1']);
    const all = check(large, []);
    const few = check(smallRoot, []);
    if (all.report !== one.report) throw new Error('the default --jobs gave a different report than --jobs 1');

    const speedUp = one.wallMs / all.wallMs;
    const memoryRatio = all.peakRssMb / few.peakRssMb;
    // CPU time over wall time: how many cores the run really had. On a machine other processes keep busy, a
    // speed-up below the goal with a share well under the core count says the cores were missing, not the workers.
    const share = (run: Run) => `CPU ${(run.cpuMs / 1000).toFixed(1)} s, ${(run.cpuMs / run.wallMs).toFixed(2)} cores busy`;
    console.log(`  --jobs 1          ${(one.wallMs / 1000).toFixed(1)} s (${share(one)}), peak RSS ${one.peakRssMb.toFixed(0)} MB, ${one.findings} findings`);
    console.log(`  --jobs ${cores} (default) ${(all.wallMs / 1000).toFixed(1)} s (${share(all)}), peak RSS ${all.peakRssMb.toFixed(0)} MB, same report`);
    console.log(`  CPU time of the default against --jobs 1: ${(all.cpuMs / one.cpuMs).toFixed(2)}x (the workers' overhead)`);
    console.log(`  ${small} files (default) ${(few.wallMs / 1000).toFixed(1)} s, peak RSS ${few.peakRssMb.toFixed(0)} MB`);
    console.log(`speed-up ${speedUp.toFixed(2)}x on ${cores} cores (goal >= ${(0.75 * cores).toFixed(2)}): ${speedUp >= 0.75 * cores ? 'met' : 'NOT met'}`);
    console.log(`peak RSS ${files} / ${small} files: ${memoryRatio.toFixed(2)}x (goal <= 1.5): ${memoryRatio <= 1.5 ? 'met' : 'NOT met'}`);
    const baselineFlag = process.argv.indexOf('--baseline');
    if (baselineFlag >= 0) {
      const baselineCli = path.resolve(process.argv[baselineFlag + 1]);
      const before = check(large, [], baselineCli);
      const beforeSmall = check(smallRoot, [], baselineCli);
      console.log(`baseline ${baselineCli}:`);
      console.log(`  ${files} files ${(before.wallMs / 1000).toFixed(1)} s, peak RSS ${before.peakRssMb.toFixed(0)} MB; ${small} files peak RSS ${beforeSmall.peakRssMb.toFixed(0)} MB (${(before.peakRssMb / beforeSmall.peakRssMb).toFixed(2)}x)`);
      console.log(`  this build against the baseline on ${files} files: ${(before.wallMs / all.wallMs).toFixed(2)}x as fast, ${(all.peakRssMb / before.peakRssMb).toFixed(2)}x the peak RSS`);
    }
    console.log(`load average after: ${os.loadavg()[0].toFixed(2)}`);
  } finally {
    removeTree(large);
    removeTree(smallRoot);
  }
}

main();

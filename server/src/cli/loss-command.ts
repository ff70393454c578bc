/**
 * `loss-lens loss`: recomputes a loss on saved tensors with PyTorch's semantics (shared/spec/cli.md).
 * Exit status: 0 computed, 1 a case PyTorch rejects (its message, no value), 2 usage error or unreadable file.
 */
import { HostTensor, LossError, LossName, LossRequest, LossResult, Reduction, RuntimeCheck } from '../losses/api';
import { intendedValue, runChecks, type IntendedValue } from '../losses/checks';
import { BACKEND_CHOICES, BackendChoice, BackendUnavailableError, computeLoss, TENSORFLOW_JS_VERSIONS } from '../losses/engine';
import { configureNodeBackends } from '../losses/node-backends';
import { configureParallelKernels } from '../losses/parallel';
import { TensorFormatError } from '../tensors/npy';
import { readTensorArgument, TensorFileError } from '../tensors/read-file';
import { CliIO, UsageError } from './io';

const LOSSES: LossName[] = ['cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits'];
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

const LOSS_USAGE = `Usage: loss-lens loss --loss NAME --input FILE --target FILE [options]

  --loss cross_entropy|nll_loss|binary_cross_entropy|binary_cross_entropy_with_logits
  --input FILE, --target FILE       .npy, or archive.npz:name
  --weight FILE, --pos-weight FILE  optional tensors
  --ignore-index N                  default -100
  --label-smoothing F               default 0
  --reduction mean|sum|none         default mean
  --backend auto|js|cpu|wasm|webgl|webgpu|tfjs-node-gpu   default auto
  --repeat N                        compute N times after one warm-up; ms is the median
  --format text|json                default text
`;

interface LossOptions {
  loss: LossName;
  input: string;
  target: string;
  weight?: string;
  posWeight?: string;
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: Reduction;
  backend: BackendChoice;
  repeat?: number;
  format: 'text' | 'json';
}

function parseOptions(argv: string[]): LossOptions | 'help' {
  const values = new Map<string, string>();
  const known = ['--loss', '--input', '--target', '--weight', '--pos-weight', '--ignore-index', '--label-smoothing', '--reduction', '--backend', '--repeat', '--format'];
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--help' || argument === '-h') return 'help';
    const [name, inline] = argument.startsWith('--') && argument.includes('=') ? [argument.slice(0, argument.indexOf('=')), argument.slice(argument.indexOf('=') + 1)] : [argument, undefined];
    if (!known.includes(name)) throw new UsageError(argument.startsWith('-') ? `unknown option '${name}' for 'loss'` : `unexpected argument '${argument}'`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option '${name}' needs a value`);
    values.set(name, value);
  }
  const required = (name: string) => {
    const value = values.get(name);
    if (value === undefined) throw new UsageError(`'loss' needs ${name}`);
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = values.get(name) ?? fallback;
    if (!allowed.includes(value as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got '${value}')`);
    return value as T;
  };
  const loss = oneOf('--loss', LOSSES, required('--loss') as LossName);
  const ignoreIndexText = values.get('--ignore-index') ?? '-100';
  if (!/^-?\d+$/.test(ignoreIndexText)) throw new UsageError(`--ignore-index must be an integer (got '${ignoreIndexText}')`);
  const smoothingText = values.get('--label-smoothing') ?? '0';
  const labelSmoothing = Number(smoothingText);
  if (smoothingText.trim() === '' || !Number.isFinite(labelSmoothing)) throw new UsageError(`--label-smoothing must be a number (got '${smoothingText}')`);
  let repeat: number | undefined;
  if (values.has('--repeat')) {
    const text = values.get('--repeat')!;
    repeat = Number(text);
    if (!/^\d+$/.test(text) || repeat < 1) throw new UsageError(`--repeat must be a positive integer (got '${text}')`);
  }
  return {
    loss,
    input: required('--input'),
    target: required('--target'),
    weight: values.get('--weight'),
    posWeight: values.get('--pos-weight'),
    ignoreIndex: Number(ignoreIndexText),
    labelSmoothing,
    reduction: oneOf('--reduction', REDUCTIONS, 'mean'),
    backend: oneOf('--backend', BACKEND_CHOICES, 'auto'),
    repeat,
    format: oneOf('--format', ['text', 'json'] as const, 'text'),
  };
}

export async function runLossCommand(argv: string[], io: CliIO): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    io.stdout(LOSS_USAGE);
    return 0;
  }
  if (options.posWeight !== undefined && options.loss !== 'binary_cross_entropy_with_logits') {
    throw new UsageError(`--pos-weight applies to binary_cross_entropy_with_logits only`);
  }
  // The host kernel's threads start while the tensors are read (TensorFlow.js backends have their own).
  if (options.backend === 'auto' || options.backend === 'js') configureParallelKernels();
  let request: LossRequest;
  try {
    const read = (file: string | undefined): HostTensor | undefined => (file === undefined ? undefined : readTensorArgument(file));
    request = {
      loss: options.loss,
      input: read(options.input)!,
      target: read(options.target)!,
      weight: read(options.weight),
      posWeight: read(options.posWeight),
      ignoreIndex: options.ignoreIndex,
      labelSmoothing: options.labelSmoothing,
      reduction: options.reduction,
    };
  } catch (error) {
    if (error instanceof TensorFileError || error instanceof TensorFormatError) {
      io.stderr(`loss-lens: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  configureNodeBackends();
  let result: LossResult;
  try {
    result = await computeLoss(request, { backend: options.backend, repeat: options.repeat });
  } catch (error) {
    if (error instanceof BackendUnavailableError) {
      io.stderr(`loss-lens: ${error.message}\n`);
      return 2;
    }
    if (!(error instanceof LossError)) throw error;
    // PyTorch would raise: its message, the checks that explain it, and no value.
    const checks = runChecks(request);
    if (options.format === 'json') {
      io.stdout(JSON.stringify({ loss: options.loss, reduction: options.reduction, error: error.message, checks }) + '\n');
    } else {
      io.stdout(checks.map(formatCheck).join(''));
    }
    io.stderr(`loss-lens: ${options.loss}: ${error.message}\n`);
    return 1;
  }

  if (options.format === 'json') {
    const checks = runChecks(request, result);
    io.stdout(JSON.stringify({
      loss: result.loss,
      reduction: result.reduction,
      value: jsonNumber(result.value),
      shape: result.shape,
      values: result.values ? Array.from(result.values, jsonNumber) : null,
      backend: result.backend,
      ms: Number(result.ms.toFixed(3)),
      checks,
    }) + '\n');
  } else {
    // The text prints the "probably meant" value the checks' messages quote: one loss pass serves both.
    const meant = intendedValue(request);
    io.stdout(formatText(result, runChecks(request, result, meant), meant));
  }
  return 0;
}

/** JSON has no NaN or infinities: those are written as the strings "NaN", "Infinity", "-Infinity" (what Number() reads back). */
function jsonNumber(value: number | null): number | string | null {
  if (value === null || Number.isFinite(value)) return value;
  return String(value);
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(8)).toString() : String(value);
}

function formatCheck(check: RuntimeCheck): string {
  return `${check.severity} ${check.rule}: ${check.message}\n${check.suggestion ? `    ${check.suggestion}\n` : ''}`;
}

function formatText(result: LossResult, checks: RuntimeCheck[], meant: IntendedValue | null): string {
  const lines: string[] = [];
  if (result.value !== null) {
    lines.push(`${result.loss} (reduction=${result.reduction}) = ${formatNumber(result.value)}`);
  } else {
    const values = result.values ?? new Float64Array(0);
    const shown = Array.from(values.subarray(0, 8), formatNumber).join(', ');
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    lines.push(`${result.loss} (reduction=none): ${values.length} values, shape [${result.shape.join(', ')}], mean ${formatNumber(mean)}`);
    lines.push(`  [${shown}${values.length > 8 ? ', ...' : ''}]`);
  }
  if (meant) lines.push(`  probably meant: ${formatNumber(meant.value)} (${meant.explanation})`);
  const library = TENSORFLOW_JS_VERSIONS[result.backend] ? ` (TensorFlow.js ${TENSORFLOW_JS_VERSIONS[result.backend]})` : '';
  lines.push(`  backend: ${result.backend}${library}${result.threads ? ` on ${result.threads} threads` : ''}, precision ${result.precision}, ${result.ms.toFixed(3)} ms`);
  return lines.join('\n') + '\n' + checks.map(formatCheck).join('');
}

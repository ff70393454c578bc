/**
 * The Python code "Inspect loss" runs in the kernel: it loads the helper module's source (the same
 * `python/loss_lens/__init__.py` users import, so both ways write the same record) into a private
 * module, evaluates the loss call's argument expressions in the notebook's namespace, writes the
 * capture folder (`manifest.json` + `.npy` files) and prints one marker line with its path.
 * Nothing is installed and no name is left behind in the user's namespace.
 */
import type { LossCallSite } from '../../../server/src/analysis/types';
import { codeHash } from '../../../server/src/captures/fingerprint';

const CAPTURE_MARKER = 'LOSS_LENS_CAPTURE ';

/** Canonical PyTorch loss names the kernel capture handles (Keras captures go through the helper). */
const PYTORCH_LOSSES = ['cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits'];
const OPTION_KEYWORDS = ['weight', 'pos_weight', 'ignore_index', 'label_smoothing', 'reduction'];

export class KernelCaptureError extends Error {}

/** A Python string literal for any text (JSON's escapes are all valid in Python string literals). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

export interface KernelCaptureSpec {
  call: LossCallSite;
  /** The call's source text (`criterion(logits, y)`, `F.cross_entropy(out, y, weight=w)`). */
  callText: string;
  cell: number;
  notebook: string;
  folder: string;
  helperSource: string;
  /** The fingerprint of the notebook's code up to the call's cell (`notebookCodeHashes`), recorded as `source.codeHashes`. */
  codeHashes?: string[];
}

/** A notebook cell as the fingerprint reads it. */
export interface FingerprintCell {
  index: number;
  /** A Python code cell (the cells the language server analyses); markdown and other languages are not code here. */
  python: boolean;
  text: string;
}

/**
 * The fingerprint of the code an "Inspect loss" capture comes from: the hashes of the Python code cells up to and
 * including the call's cell, as they are when it is taken (the kernel's state is taken to be the result of them).
 */
export function notebookCodeHashes(cells: readonly FingerprintCell[], cell: number): string[] {
  const hashes = cells.filter((entry) => entry.python && entry.index <= cell).map((entry) => codeHash(entry.text));
  return [...new Set(hashes.filter((hash): hash is string => hash !== undefined))];
}

/** The callee of a call's text: what comes before its argument list. */
function calleeOf(callText: string): string {
  const open = callText.indexOf('(');
  return (open < 0 ? callText : callText.slice(0, open)).trim();
}

export function kernelCaptureCode(spec: KernelCaptureSpec): string {
  const { call } = spec;
  if (call.framework !== 'pytorch' || !PYTORCH_LOSSES.includes(call.loss)) {
    throw new KernelCaptureError(`"Inspect loss" captures PyTorch losses; for ${call.loss} call loss_lens.capture(input=..., target=..., loss=...) in the notebook`);
  }
  if (!call.inputExpression || !call.targetExpression) {
    throw new KernelCaptureError('the analysis could not tell which arguments are the input and the target of this call');
  }
  const args = [`input=(${call.inputExpression})`, `target=(${call.targetExpression})`];
  if (call.constructorLocation) {
    // A loss module (`criterion = nn.CrossEntropyLoss(...)`): the object carries its options.
    args.push(`loss=(${calleeOf(spec.callText)})`);
  } else {
    args.push(`loss=${pythonString(call.loss)}`);
  }
  for (const keyword of OPTION_KEYWORDS) {
    const expression = call.options[keyword];
    if (expression !== undefined) args.push(`${keyword}=(${expression})`);
  }
  const source = {
    via: 'kernel',
    notebook: spec.notebook,
    cell: spec.cell,
    call: spec.callText,
    inputExpression: call.inputExpression,
    targetExpression: call.targetExpression,
    line: call.location.range.start.line,
    ...(spec.codeHashes ? { codeHashes: spec.codeHashes } : {}),
  };
  return [
    'def __loss_lens_inspect():',
    '    import json as _json, types as _types',
    '    _helper = _types.ModuleType("loss_lens_inspect")',
    `    exec(compile(${pythonString(spec.helperSource)}, "loss_lens/__init__.py", "exec"), _helper.__dict__)`,
    `    _record = _helper.capture(${args.join(', ')}, folder=${pythonString(spec.folder)}, display=False, source=_json.loads(${pythonString(JSON.stringify(source))}))`,
    `    print(${pythonString(CAPTURE_MARKER)} + _json.dumps({"folder": _record["folder"]}))`,
    'try:',
    '    __loss_lens_inspect()',
    'finally:',
    '    del __loss_lens_inspect',
    '',
  ].join('\n');
}

/** The capture folder printed by the code, from the kernel's stdout. */
export function capturedFolder(stdout: string): string | undefined {
  const line = stdout.split('\n').find((text) => text.startsWith(CAPTURE_MARKER));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(line.slice(CAPTURE_MARKER.length)) as { folder?: unknown };
    return typeof parsed.folder === 'string' ? parsed.folder : undefined;
  } catch {
    return undefined;
  }
}

// The fingerprint of a capture's code (server/src/captures/fingerprint.ts) is computed by the Python helper in the
// kernel and by the extension and checked by the CLI and the server in TypeScript: both sides must normalise and hash
// alike, or every capture would look stale (or, worse, fresh). Python here is Debian's /usr/bin/python3 (NumPy is
// the helper's one dependency).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { codeHash, normaliseCode, sha256Hex } from '../../server/src/captures/fingerprint';

const root = path.resolve(__dirname, '../..');
const python = '/usr/bin/python3';
const skip = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0 ? false : `${python} cannot import numpy`;

const CELL = 'import torch.nn.functional as F\n\ndef forward(x):\n    h = model(x)\n    return F.softmax(h, dim=1)\n\nprobs = forward(x)\n';

/** Pairs of code: the same program up to comments and whitespace, or a different one. */
const SAME: [string, string][] = [
  [CELL, CELL.replace('    h = model(x)\n', '    # the model\n    h = model(x)  # logits\n\n')],
  [CELL, CELL.replace('F.softmax(h, dim=1)', 'F.softmax( h,dim = 1 )   ').replace(/\n/g, '\r\n')],
  ['x = 1\n', '\n\n# only a comment\nx=1'],
  ['s = "a # b"\n', "s = \"a # b\"  # '\n"],
];
const DIFFERENT: [string, string][] = [
  [CELL, CELL.replace('return F.softmax(h, dim=1)', 'return h')],
  [CELL, CELL.replace('    h = model(x)', '  h = model(x)')], // indentation is block structure
  ['s = "a # b"\n', 's = "a #  b"\n'], // inside a string, everything counts
  ['t = """x\n# y\n"""\n', 't = """x\n# z\n"""\n'],
  ['return x\n', 'returnx\n'],
  ["s = 'it\\'s # here'\n", "s = 'it\\'s # there'\n"],
];
const SAMPLES = [
  ...SAME.flat(), ...DIFFERENT.flat(), '', '# nothing\n\n', 'λ = 1  # non-ASCII\nnaïve = λ\n', 'x = "😀  a"\n', "r'\\'' if a else b\n", 'u = "unterminated\n', "v = 'ends in a backslash \\", 'w = """it\'s "quoted" here"""\tx\t=\t1\n', '\tif a:\n\t\treturn\tb # tab\n',
];

describe('code fingerprint', () => {
  it('is SHA-256 (checked against Node\'s)', () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 1000, 70_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) & 255);
      assert.equal(sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'), `${size} bytes`);
    }
  });

  it('ignores comments and whitespace, and nothing else', () => {
    for (const [a, b] of SAME) assert.equal(codeHash(a), codeHash(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    for (const [a, b] of DIFFERENT) assert.notEqual(codeHash(a), codeHash(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(codeHash('# nothing\n\n'), undefined);
    assert.equal(normaliseCode(CELL), 'import torch.nn.functional as F\ndef forward(x):\n    h=model(x)\n    return F.softmax(h,dim=1)\nprobs=forward(x)');
  });

  it('is the same in the Python helper', { skip }, () => {
    const script = 'import json, sys, loss_lens\nsamples = json.load(sys.stdin)\nprint(json.dumps([[loss_lens._normalise_code(s), loss_lens._code_hash(s)] for s in samples]))';
    const run = spawnSync(python, ['-c', script], { input: JSON.stringify(SAMPLES), encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(root, 'python') } });
    assert.equal(run.status, 0, run.stderr);
    const fromPython = JSON.parse(run.stdout) as [string, string | null][];
    SAMPLES.forEach((sample, index) => {
      assert.equal(fromPython[index][0], normaliseCode(sample), `normalised ${JSON.stringify(sample)}`);
      assert.equal(fromPython[index][1] ?? undefined, codeHash(sample), `hash of ${JSON.stringify(sample)}`);
    });
  });
});

describe('the helper\'s fingerprint of an IPython session', { skip }, () => {
  it('holds each cell run once, in the order last run, and only the latest 1000 of a long session', () => {
    const script = [
      'import json, types, loss_lens',
      'def shell(cells): return types.SimpleNamespace(history_manager=types.SimpleNamespace(input_hist_raw=cells))',
      'short = loss_lens._code_history(shell(["", "a = 1", "# a comment only", "b = 2", "a=1  # again"]))',
      'long = loss_lens._code_history(shell([""] + ["x = %d" % i for i in range(1500)]))',
      'print(json.dumps({"short": short, "long": [len(long), long[0], long[-1]], "none": loss_lens._code_history(None)}))',
    ].join('\n');
    const run = spawnSync(python, ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(root, 'python') } });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { short: string[]; long: [number, string, string]; none: null };
    assert.deepEqual(result.short, [codeHash('b = 2'), codeHash('a = 1')]);
    assert.deepEqual(result.long, [1000, codeHash('x = 500'), codeHash('x = 1499')]);
    assert.equal(result.none, null);
  });
});

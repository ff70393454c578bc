// What the rule messages say happens at run time, checked against Debian's PyTorch (/usr/bin/python3 +
// python3-torch): each program is checked with the `loss-lens` CLI as a process and run with PyTorch; the error a
// message quotes must be the one PyTorch raises, and a value it states must be the one PyTorch computes.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, makeTree, removeTree, runJson } from '../cli/cli-harness';

const python = '/usr/bin/python3';
const torchCheck = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
const skip = torchCheck.status === 0 ? false : `${python} cannot import torch (install python3-torch)`;

const PROGRAMS: Record<string, string> = {
  'bce-logits-long.py': `import torch
import torch.nn as nn

model = nn.Linear(10, 1)
x = torch.randn(8, 10)
y = torch.randint(0, 2, (8, 1))
loss = nn.BCEWithLogitsLoss()(model(x), y)
`,
  'bce-long.py': `import torch
import torch.nn as nn

model = nn.Linear(10, 1)
x = torch.randn(8, 10)
y = (torch.rand(8, 1) > 0.5).long()
loss = nn.BCELoss()(torch.sigmoid(model(x)), y)
`,
  'bce-int.py': `import torch
import torch.nn.functional as F

model = torch.nn.Linear(10, 1)
x = torch.randn(8, 10)
y = torch.randint(0, 2, (8, 1)).int()
loss = F.binary_cross_entropy(torch.sigmoid(model(x)), y)
`,
  'bce-logits-int32.py': `import torch
import torch.nn.functional as F

model = torch.nn.Linear(10, 1)
x = torch.randn(8, 10)
y = torch.randint(0, 2, (8, 1), dtype=torch.int32)
loss = F.binary_cross_entropy_with_logits(model(x), y)
`,
  'nll-probabilities.py': `import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 5)
x = torch.randn(64, 10) * 10
y = torch.randint(0, 5, (64,))
loss = F.nll_loss(F.softmax(model(x), dim=1), y)
print(loss.item())
`,
  'nll-logits.py': `import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Linear(10, 5)
# Logits far above 0 (as training that inflates the target's logit drives them): -logit is far below any NLL.
with torch.no_grad():
    model.bias.fill_(100.0)
x = torch.randn(64, 10)
y = torch.randint(0, 5, (64,))
loss = F.nll_loss(model(x), y)
print(loss.item())
`,
};

describe('rule messages state what PyTorch does', { skip }, () => {
  let root: string;
  before(() => {
    ensureBuilt();
    root = makeTree(PROGRAMS);
  });
  after(() => removeTree(root));

  /** The one finding of `rule` in `file`, and what PyTorch prints (stdout) or raises (the last line of stderr) running it. */
  function checkAndRun(file: string, rule: string): { message: string; stdout: string; error: string } {
    const { report } = runJson(['check', file], { cwd: root });
    const findings = report.diagnostics.filter((d) => d.rule === rule);
    assert.equal(findings.length, 1, `${file}: ${JSON.stringify(report.diagnostics.map((d) => d.rule))}`);
    const run = spawnSync(python, [file], { cwd: root, encoding: 'utf8' });
    return { message: findings[0].message, stdout: run.stdout.trim(), error: run.stderr.trim().split('\n').pop() ?? '' };
  }

  for (const file of ['bce-logits-long.py', 'bce-long.py', 'bce-int.py', 'bce-logits-int32.py']) {
    it(`integer-target-to-bce quotes the error ${file.replace('.py', '')} raises`, () => {
      const { message, error } = checkAndRun(file, 'integer-target-to-bce');
      const quoted = /PyTorch raises "([^"]+)"/.exec(message)?.[1];
      assert.ok(quoted, `no quoted error in: ${message}`);
      assert.match(error, /^RuntimeError: /);
      assert.equal(quoted, error);
    });
  }

  it('nll-without-log-softmax on probabilities gives the range PyTorch computes, and claims no divergence', () => {
    const { message, stdout } = checkAndRun('nll-probabilities.py', 'nll-without-log-softmax');
    const loss = Number(stdout);
    assert.ok(loss >= -1 && loss <= 0, `PyTorch computed ${stdout}`);
    assert.match(message, /in \[-1, 0\]/);
    assert.doesNotMatch(message, /unbounded|diverge/);
  });

  it('nll-without-log-softmax on logits says the loss is unbounded below', () => {
    const { message, stdout } = checkAndRun('nll-logits.py', 'nll-without-log-softmax');
    assert.ok(Number(stdout) < -1, `PyTorch computed ${stdout}: a negated logit, below any log-likelihood`);
    assert.match(message, /unbounded below/);
  });
});

describe('softmax-without-dim names the axis PyTorch picks', { skip }, () => {
  let root: string;
  const program = `import warnings
import torch
import torch.nn.functional as F

warnings.simplefilter("ignore")
vector = torch.randn(10)
a = F.softmax(vector)
batch = torch.randn(4, 10)
b = F.softmax(batch)
sequence = torch.randn(4, 5, 10)
c = F.softmax(sequence)
image = torch.randn(2, 3, 4, 5)
d = F.softmax(image)
for name, x, y in [("a", vector, a), ("b", batch, b), ("c", sequence, c), ("d", image, d)]:
    print(name, [k for k in range(x.dim()) if torch.equal(y, F.softmax(x, dim=k))])
`;
  before(() => {
    ensureBuilt();
    root = makeTree({ 'implicit.py': program });
  });
  after(() => removeTree(root));

  it('the dim in each message is the one PyTorch normalises over', () => {
    const { report } = runJson(['check', 'implicit.py'], { cwd: root });
    const claimed = report.diagnostics.filter((d) => d.rule === 'softmax-without-dim').map((d) => [program.split('\n')[d.line - 1].slice(0, 1), /picks dim=(\d)/.exec(d.message)?.[1]]);
    const run = spawnSync(python, ['implicit.py'], { cwd: root, encoding: 'utf8' });
    const actual = run.stdout.trim().split('\n').map((line) => {
      const [name, dims] = line.split(' ', 2);
      return [name, String(JSON.parse(dims)[0])];
    });
    assert.deepEqual(claimed, actual);
  });
});

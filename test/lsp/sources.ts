/** Python programs the LSP tests open, and helpers to read what the server says about them. */
import type { Diagnostic, Range } from 'vscode-languageserver-protocol';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { NotebookCellSpec } from './harness';

/**
 * Two findings on the last loss line: softmax-before-cross-entropy at `probs` (softmax on line 8) and
 * float-class-index-target at `targets` (`.float()` on line 10).
 */
export const TRAIN_PY = `import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
criterion = nn.CrossEntropyLoss(reduction="sum")

x = torch.randn(32, 20)
probs = F.softmax(model(x), dim=1)
labels = torch.randint(0, 5, (32,))
targets = labels.float()
loss = criterion(probs, targets)
loss.backward()
`;
export const TRAIN_PY_LOSS_LINE = 11;

/**
 * A notebook whose loss cell (4) gets its input from cell 2's softmax and its target from cell 3's
 * `.float()`; cell 1 is markdown. Fixing everything edits two cells other than the one with the findings.
 */
export const TRAIN_NOTEBOOK: NotebookCellSpec[] = [
  { kind: 'code', text: 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n' },
  { kind: 'markdown', text: '# Training\nThe softmax below is a mistake.\n' },
  {
    kind: 'code',
    text: 'model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))\nx = torch.randn(32, 20)\nprobs = F.softmax(model(x), dim=1)\n',
  },
  { kind: 'code', text: 'labels = torch.randint(0, 5, (32,))\ntargets = labels.float()\n' },
  { kind: 'code', text: 'criterion = nn.CrossEntropyLoss()\nloss = criterion(probs, targets)\nloss.backward()\n' },
];
export const LOSS_CELL = 4;

export function textAt(document: TextDocument | undefined, range: Range): string {
  if (!document) throw new Error('document not open');
  return document.getText(range);
}

export function rulesOf(diagnostics: readonly Diagnostic[] | undefined): string[] {
  return (diagnostics ?? []).map((diagnostic) => String(diagnostic.code)).sort();
}

export function findRule(diagnostics: readonly Diagnostic[] | undefined, rule: string): Diagnostic {
  const found = (diagnostics ?? []).find((diagnostic) => diagnostic.code === rule);
  if (!found) throw new Error(`no ${rule} diagnostic among ${JSON.stringify(rulesOf(diagnostics))}`);
  return found;
}

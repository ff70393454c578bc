/**
 * Generated PyTorch training code for the benchmarks (`bench/check-bench.ts`, `bench/cli-scale-bench.ts`) and the
 * CLI's scale tests (`test/cli/scale.test.ts`): plausible code at any size, with a known number of findings, and no
 * data files. Every name in a block carries the block's id, so that blocks are distinct code, not one text repeated
 * (a parse cache keyed by text could otherwise skip the work being measured).
 */

export const TORCH_IMPORTS = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';

export interface TrainingBlock {
  /** The suffix of the block's class and function names. */
  id: string;
  /** Varies the layer widths, class count, batch size and label smoothing from block to block. */
  variant: number;
  /** The training step puts a softmax before the cross-entropy: one softmax-before-cross-entropy finding. */
  softmaxBeforeLoss: boolean;
  /** Adds a data-loader factory. */
  loader?: boolean;
  /** Adds an evaluation loop (a softmax for the argmax, which is no finding). */
  evaluation?: boolean;
  /** Adds a multi-label step: `torch.sigmoid` then `nn.BCELoss`, or the logits to the `_with_logits` loss (neither is a finding). */
  multilabel?: 'sigmoid-then-bce' | 'logits';
}

/** The text of one block: a classifier, a training epoch, and the optional parts, each after two blank lines. */
export function trainingBlock(block: TrainingBlock): string {
  const { id, variant } = block;
  const inFeatures = 64 + (variant % 64);
  const classes = 3 + (variant % 17);
  const parts = [
    `class Classifier${id}(nn.Module):
    def __init__(self, in_features=${inFeatures}, hidden=${128 + (variant % 5) * 32}, num_classes=${classes}):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.head(self.body(x))
`,
  ];
  if (block.loader) {
    parts.push(`def make_loader${id}(batch_size=${32 * (1 + (variant % 4))}):
    inputs = torch.randn(512, ${inFeatures})
    labels = torch.randint(0, ${classes}, (512,))
    dataset = torch.utils.data.TensorDataset(inputs, labels)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
`);
  }
  const loss = block.softmaxBeforeLoss ? 'probs = F.softmax(logits, dim=1)\n        loss = criterion(probs, labels)' : 'loss = criterion(logits, labels)';
  parts.push(`def train_epoch${id}(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss(label_smoothing=${(variant % 3) / 10})
    model.train()
    total = 0.0
    for inputs, labels in loader:
        logits = model(inputs)
        ${loss}
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / max(len(loader), 1)
`);
  if (block.evaluation) {
    parts.push(`@torch.no_grad()
def evaluate${id}(model, loader):
    model.eval()
    correct, seen = 0, 0
    for inputs, labels in loader:
        probabilities = torch.softmax(model(inputs), dim=-1)
        correct += (probabilities.argmax(dim=-1) == labels).sum().item()
        seen += labels.numel()
    return correct / max(seen, 1)
`);
  }
  if (block.multilabel === 'sigmoid-then-bce') {
    parts.push(`def multilabel_step${id}(head, features, tags):
    scores = torch.sigmoid(head(features))
    return nn.BCELoss()(scores, tags.float())
`);
  } else if (block.multilabel === 'logits') {
    parts.push(`def multilabel_step${id}(head, features, tags):
    return F.binary_cross_entropy_with_logits(head(features), tags.float())
`);
  }
  return parts.map((part) => `\n\n${part}`).join('');
}

/** The imports, then blocks 0, 1, 2, ... until the file has at least `lines` lines (whole blocks). */
export function trainingFile(lines: number, blockAt: (index: number) => TrainingBlock): string {
  let text = TORCH_IMPORTS;
  let lineCount = text.split('\n').length;
  for (let index = 0; lineCount < lines; index++) {
    const block = trainingBlock(blockAt(index));
    text += block;
    lineCount += block.split('\n').length - 1;
  }
  return text;
}

/** A project of `files` Python files in folders of 20 (`pkg00/module_00.py`, ...), the layout of a mid-sized repository. */
export function trainingProject(files: number, fileAt: (file: number) => string): Record<string, string> {
  const project: Record<string, string> = {};
  for (let file = 0; file < files; file++) {
    project[`pkg${String(Math.floor(file / 20)).padStart(2, '0')}/module_${String(file % 20).padStart(2, '0')}.py`] = fileAt(file);
  }
  return project;
}

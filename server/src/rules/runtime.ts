import type { RuleInfo } from '../analysis/types';

/** Run-time checks: reported by the panel and `loss-lens loss` on captured tensors, not on code. Listed here for the catalogue. */
export const RUNTIME_RULES: RuleInfo[] = [
  { id: 'input-rows-sum-to-one', severity: 'warning', category: 'runtime', description: 'Every row of a cross-entropy input is in [0, 1] and sums to 1: already softmaxed.', example: 'cross_entropy(torch.softmax(z, 1), y)', fix: 'Pass the logits.' },
  { id: 'input-in-unit-interval', severity: 'warning', category: 'runtime', description: 'A with-logits binary loss gets inputs all in [0, 1]: sigmoid likely applied.', example: 'binary_cross_entropy_with_logits(torch.sigmoid(z), y)', fix: 'Pass the logits.' },
  { id: 'input-outside-unit-interval', severity: 'error', category: 'runtime', description: 'A probability loss gets values outside [0, 1] (PyTorch raises).', example: 'binary_cross_entropy(z, y)  # z are logits', fix: 'Use the with-logits loss.' },
  { id: 'target-out-of-range', severity: 'error', category: 'runtime', description: 'A class index outside [0, C) that is not ignore_index (on CUDA: "device-side assert triggered").', example: 'cross_entropy(z, torch.tensor([0, 10]))  # C = 10', fix: 'Map labels to 0..C-1 or set ignore_index.' },
  { id: 'target-float-integers', severity: 'warning', category: 'runtime', description: 'A float target whose values are all integers, used as class indices.', example: 'cross_entropy(z, y.float())', fix: 'Pass integer (long) class indices.' },
  { id: 'target-one-hot', severity: 'warning', category: 'runtime', description: "The target's rows are one-hot.", example: 'cross_entropy(z, F.one_hot(y, 10).float())', fix: 'Pass the class indices.' },
  { id: 'target-multi-hot', severity: 'error', category: 'runtime', description: "The target's rows have several ones.", example: 'cross_entropy(z, multi_hot)', fix: 'Use a per-class binary loss.' },
  { id: 'non-finite-values', severity: 'error', category: 'runtime', description: 'NaN or ±Inf in input or target.', example: 'cross_entropy(torch.log(p), y)  # p has zeros', fix: 'Find where the non-finite values come from.' },
  { id: 'loss-near-uniform', severity: 'information', category: 'runtime', description: 'The loss is within 2% of ln(C): predictions are near uniform.', example: 'cross_entropy(torch.zeros(8, 10), y)', fix: 'Check that the model learns (learning rate, inputs, labels).' },
  { id: 'class-imbalance', severity: 'information', category: 'runtime', description: 'The rarest class is under 1/10 of the commonest: suggests weight (inverse frequency) or pos_weight (negatives/positives) values.', example: 'cross_entropy(z, y)  # 95% class 0', fix: 'Pass weight= or pos_weight= with the suggested values.' },
];

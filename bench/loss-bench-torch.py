#!/usr/bin/python3
"""PyTorch's side of bench/loss-bench.ts: times one loss in-process on the same .npy tensors.

    /usr/bin/python3 bench/loss-bench-torch.py DIR LOSS REPEAT

Prints one JSON line: the median time of REPEAT calls after one warm-up (the loss read back with .item(),
as `loss-lens loss` reads its value back), the value, and memory (peak RSS, RSS after loading).
"""
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

folder, loss, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])


def rss_bytes():
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


x = torch.from_numpy(np.load(f'{folder}/input.npy'))
if loss == 'cross_entropy':
    target = torch.from_numpy(np.load(f'{folder}/labels.npy'))
    run = lambda: F.cross_entropy(x, target)
else:
    target = torch.from_numpy(np.load(f'{folder}/binary.npy'))
    run = lambda: F.binary_cross_entropy_with_logits(x, target)
loaded = rss_bytes()
run().item()
samples = []
cpu_start = time.process_time()
for _ in range(repeat):
    start = time.perf_counter()
    value = run().item()
    samples.append((time.perf_counter() - start) * 1000)
cpu_ms = (time.process_time() - cpu_start) * 1000 / repeat
samples.sort()
middle = len(samples) // 2
median = samples[middle] if len(samples) % 2 else (samples[middle - 1] + samples[middle]) / 2
print(json.dumps({
    'backend': f'torch {torch.__version__} ({torch.get_num_threads()} threads)', 'ms': median, 'cpuMs': cpu_ms, 'value': value,
    'peakRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'loadedRss': loaded,
}))

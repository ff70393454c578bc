#!/usr/bin/python3
"""What `loss_lens.watch` costs on the calls it does not capture, against the same loss unwrapped, in the same run.

    /usr/bin/python3 bench/watch-bench.py [CALLS]

Times CALLS calls (default 20000) of nn.CrossEntropyLoss and F.cross_entropy on a small batch ([64, 10], where a
per-call overhead shows most), plain and watched (the watched ones after their first, captured, call), interleaved
over 7 rounds; reports each side's median time per call and the ratio watched / plain. Prints one JSON line.
"""
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import loss_lens  # noqa: E402

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
ROUNDS = 7
torch.set_num_threads(1)
torch.manual_seed(0)
logits = torch.randn(64, 10)
labels = torch.randint(0, 10, (64,))


def per_call(loss):
    start = time.perf_counter()
    for _ in range(CALLS):
        loss(logits, labels)
    return (time.perf_counter() - start) / CALLS


with tempfile.TemporaryDirectory() as folder:
    pairs = {
        "module": (nn.CrossEntropyLoss(), loss_lens.watch(nn.CrossEntropyLoss(), folder=folder, display=False)),
        "function": (F.cross_entropy, loss_lens.watch(F.cross_entropy, folder=folder, display=False)),
    }
    for _, watched in pairs.values():
        watched(logits, labels)  # the captured call, excluded from the timing
    times = {name: ([], []) for name in pairs}
    for _ in range(ROUNDS):
        for name, (plain, watched) in pairs.items():
            times[name][0].append(per_call(plain))
            times[name][1].append(per_call(watched))
    captured = len(os.listdir(folder))

report = {"calls": CALLS, "rounds": ROUNDS, "captures": captured}
for name, (plain, watched) in times.items():
    plain_us, watched_us = statistics.median(plain) * 1e6, statistics.median(watched) * 1e6
    report[name] = {"plainUs": round(plain_us, 2), "watchedUs": round(watched_us, 2), "ratio": round(watched_us / plain_us, 3)}
print(json.dumps(report))

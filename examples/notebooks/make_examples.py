"""Writes the example notebooks whose saved outputs hold Loss Lens captures (run with a Python that has
PyTorch: `/usr/bin/python3 examples/notebooks/make_examples.py`). Each notebook is what a user would have
after running it: the buggy loss call, a `loss_lens.capture(...)` output, and PyTorch's loss value printed
(the panel's tests compare against it). Seeded, so reruns give the same tensors.
"""
import contextlib
import io
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import loss_lens  # noqa: E402


def code_cell(source, outputs=(), count=None):
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": list(outputs),
            "source": source.strip("\n").splitlines(keepends=True)}


def markdown_cell(source):
    return {"cell_type": "markdown", "metadata": {}, "source": source.strip("\n").splitlines(keepends=True)}


def stream(text):
    return {"name": "stdout", "output_type": "stream", "text": [text]}


def notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def run_cells(setup, training, capture):
    """Runs the cells' code as the kernel would, and returns the cells with the outputs it produced."""
    namespace = {}
    exec(setup, namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(training, namespace)
    shown = []
    loss_lens._display = shown.append  # plain Python has no IPython display: keep what it would show
    with tempfile.TemporaryDirectory() as folder:  # the capture folder is not part of the example
        os.environ["LOSS_LENS_CAPTURE_DIR"] = folder
        exec(capture, namespace)
    record = shown[0]
    # Stable files across reruns, and no path of this machine in the example.
    record.update(id="example-" + record["loss"].replace("_", "-"), createdAt="2026-01-01T00:00:00+00:00")
    del record["folder"]
    capture_output = {"output_type": "display_data", "metadata": {},
                      "data": {loss_lens.MIME_TYPE: record, "text/plain": [loss_lens._summary(record)]}}
    return [
        code_cell(setup, count=1),
        code_cell(training, [stream(printed.getvalue())], count=2),
        code_cell(capture, [capture_output], count=3),
    ]


def softmax_before_cross_entropy():
    # Imbalanced labels: class c drawn with weight 1/(c+1), so the rarest is far under 1/10 of the commonest.
    setup = """
import torch
import torch.nn as nn
import loss_lens

torch.manual_seed(7)
samples, classes = 2048, 40
labels = torch.multinomial(1.0 / torch.arange(1, classes + 1, dtype=torch.float32), samples, replacement=True)
logits = torch.randn(samples, classes) * 2.0
logits[torch.arange(samples), labels] += 3.0
"""
    training = """
criterion = nn.CrossEntropyLoss()
probabilities = torch.softmax(logits, dim=1)
loss = criterion(probabilities, labels)
print(f"loss = {loss.item():.9g}")
"""
    capture = "loss_lens.capture(input=probabilities, target=labels, loss=criterion)"
    return notebook([
        markdown_cell("# Softmax before CrossEntropyLoss\nThe saved output of the last cell holds a Loss Lens capture: open the Loss Lens panel."),
        *run_cells(setup, training, capture),
    ])


def sigmoid_before_bce_with_logits():
    setup = """
import torch
import torch.nn as nn
import loss_lens

torch.manual_seed(11)
samples, outputs = 4096, 24
targets = (torch.rand(samples, outputs) < torch.linspace(0.02, 0.5, outputs)).float()
scores = torch.randn(samples, outputs) + 2.0 * targets
"""
    training = """
criterion = nn.BCEWithLogitsLoss()
probabilities = torch.sigmoid(scores)
loss = criterion(probabilities, targets)
print(f"loss = {loss.item():.9g}")
"""
    capture = "loss_lens.capture(input=probabilities, target=targets, loss=criterion)"
    return notebook([
        markdown_cell("# Sigmoid before BCEWithLogitsLoss\nMulti-label outputs with rare positives; the capture is in the last cell's output."),
        *run_cells(setup, training, capture),
    ])


for name, build in (("softmax-before-cross-entropy.ipynb", softmax_before_cross_entropy),
                    ("sigmoid-before-bce-with-logits.ipynb", sigmoid_before_bce_with_logits)):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as handle:
        json.dump(build(), handle, indent=1)
        handle.write("\n")
    print("wrote", name)

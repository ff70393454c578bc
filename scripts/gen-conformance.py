#!/usr/bin/python3
"""Generates the loss engine's conformance suite with PyTorch itself.

Run with an interpreter that has torch and numpy (Debian: /usr/bin/python3 with python3-torch):

    /usr/bin/python3 scripts/gen-conformance.py

Writes test/fixtures/conformance/cases.json: every case's input tensors, options and PyTorch's
result (value, per-element values, gradient with respect to the input) or PyTorch's error message.
It also writes test/fixtures/tensors/: small .npy/.npz files in every dtype, byte order and layout NumPy
writes, with a manifest of the values they hold. float32 numbers are written as their shortest float32 representation (exact once read back into a
Float32Array), float64 numbers with repr (exact); non-finite numbers as the strings "nan", "inf", "-inf".
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'conformance', 'cases.json')
FLOAT_DTYPES = {torch.float32: 'float32', torch.float64: 'float64'}
ALL_DTYPES = {**FLOAT_DTYPES, torch.int64: 'int64', torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'bool'}
FUNCTIONS = {
    'cross_entropy': F.cross_entropy,
    'nll_loss': F.nll_loss,
    'binary_cross_entropy': F.binary_cross_entropy,
    'binary_cross_entropy_with_logits': F.binary_cross_entropy_with_logits,
}

generator = torch.Generator().manual_seed(20261126)
cases = []


def number(value, dtype):
    value = float(value)
    if math.isnan(value):
        return 'nan'
    if math.isinf(value):
        return 'inf' if value > 0 else '-inf'
    if dtype == 'float32':
        return float(str(np.float32(value)))
    return value


def encode(tensor):
    dtype = ALL_DTYPES[tensor.dtype]
    flat = tensor.detach().reshape(-1).tolist()
    if dtype in ('float32', 'float64'):
        data = [number(v, dtype) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {'dtype': dtype, 'shape': list(tensor.shape), 'data': data}


def randn(*shape, scale=1.0, dtype=torch.float32):
    return (torch.randn(*shape, generator=generator, dtype=torch.float64) * scale).to(dtype)


def rand(*shape, dtype=torch.float32):
    return torch.rand(*shape, generator=generator, dtype=torch.float64).to(dtype)


def randint(high, *shape):
    return torch.randint(0, high, shape, generator=generator, dtype=torch.int64)


def soft(*shape, dim=1, dtype=torch.float32):
    return torch.softmax(randn(*shape, scale=2.0, dtype=torch.float64), dim=dim).to(dtype)


def add(name, loss, input, target, weight=None, pos_weight=None, ignore_index=None, label_smoothing=None,
        reduction='mean', gradient=False):
    """Runs one case through PyTorch and records it; an exception becomes the expected error."""
    kwargs = {'reduction': reduction}
    if weight is not None:
        kwargs['weight'] = weight
    if pos_weight is not None:
        kwargs['pos_weight'] = pos_weight
    if ignore_index is not None:
        kwargs['ignore_index'] = ignore_index
    if label_smoothing is not None:
        kwargs['label_smoothing'] = label_smoothing
    case = {'id': f'{len(cases):03d}-{name}', 'loss': loss, 'input': encode(input), 'target': encode(target)}
    if weight is not None:
        case['weight'] = encode(weight)
    if pos_weight is not None:
        case['posWeight'] = encode(pos_weight)
    if ignore_index is not None:
        case['ignoreIndex'] = ignore_index
    if label_smoothing is not None:
        case['labelSmoothing'] = label_smoothing
    case['reduction'] = reduction
    leaf = input.detach().clone()
    if gradient and leaf.is_floating_point():
        leaf.requires_grad_(True)
    try:
        result = FUNCTIONS[loss](leaf, target, **kwargs)
    except (RuntimeError, ValueError, IndexError) as error:
        case['error'] = str(error)
        cases.append(case)
        return
    out_dtype = FLOAT_DTYPES[result.dtype]
    case['expected'] = {'dtype': out_dtype, 'shape': list(result.shape)}
    if reduction == 'none':
        case['expected']['values'] = [number(v, out_dtype) for v in result.detach().reshape(-1).tolist()]
    else:
        case['expected']['value'] = number(result.item(), out_dtype)
    if gradient and leaf.requires_grad:
        (result.sum() if reduction == 'none' else result).backward()
        case['expected']['gradient'] = [number(v, out_dtype) for v in leaf.grad.reshape(-1).tolist()]
    cases.append(case)


def cross_entropy_cases():
    for dtype in (torch.float32, torch.float64):
        d = FLOAT_DTYPES[dtype]
        for reduction in ('mean', 'sum', 'none'):
            add(f'ce-index-{d}-{reduction}', 'cross_entropy', randn(6, 5, dtype=dtype), randint(5, 6), reduction=reduction, gradient=True)
            add(f'ce-index-weight-{d}-{reduction}', 'cross_entropy', randn(6, 5, dtype=dtype), randint(5, 6),
                weight=rand(5, dtype=dtype) + 0.1, reduction=reduction, gradient=True)
            target = randint(4, 7)
            target[[1, 4]] = -100
            add(f'ce-ignore-default-{d}-{reduction}', 'cross_entropy', randn(7, 4, dtype=dtype), target, reduction=reduction, gradient=True)
            target = randint(4, 8)
            target[[0, 3, 5]] = 2
            add(f'ce-ignore-2-weight-{d}-{reduction}', 'cross_entropy', randn(8, 4, dtype=dtype), target,
                weight=rand(4, dtype=dtype) + 0.5, ignore_index=2, reduction=reduction, gradient=True)
            for smoothing in (0.1, 0.5, 1.0):
                add(f'ce-smooth-{smoothing}-{d}-{reduction}', 'cross_entropy', randn(5, 6, dtype=dtype), randint(6, 5),
                    label_smoothing=smoothing, reduction=reduction, gradient=smoothing != 1.0)
            target = randint(6, 9)
            target[2] = -100
            add(f'ce-smooth-weight-ignore-{d}-{reduction}', 'cross_entropy', randn(9, 6, dtype=dtype), target,
                weight=rand(6, dtype=dtype) + 0.2, label_smoothing=0.2, reduction=reduction, gradient=True)
            add(f'ce-rank3-{d}-{reduction}', 'cross_entropy', randn(3, 4, 5, dtype=dtype), randint(4, 3, 5), reduction=reduction, gradient=True)
            target = randint(3, 2, 4, 3)
            target[0, 1, 2] = -100
            add(f'ce-rank4-weight-ignore-{d}-{reduction}', 'cross_entropy', randn(2, 3, 4, 3, dtype=dtype), target,
                weight=rand(3, dtype=dtype) + 0.3, label_smoothing=0.05, reduction=reduction, gradient=True)
            add(f'ce-rank5-{d}-{reduction}', 'cross_entropy', randn(2, 3, 2, 2, 3, dtype=dtype), randint(3, 2, 2, 2, 3), reduction=reduction)
            add(f'ce-1d-{d}-{reduction}', 'cross_entropy', randn(7, dtype=dtype), torch.tensor(3), reduction=reduction, gradient=True)
            add(f'ce-1d-smooth-weight-{d}-{reduction}', 'cross_entropy', randn(7, dtype=dtype), torch.tensor(6),
                weight=rand(7, dtype=dtype) + 0.1, label_smoothing=0.3, reduction=reduction)
            # Probability targets.
            add(f'ce-prob-{d}-{reduction}', 'cross_entropy', randn(6, 5, dtype=dtype), soft(6, 5, dtype=dtype), reduction=reduction, gradient=True)
            add(f'ce-prob-weight-smooth-{d}-{reduction}', 'cross_entropy', randn(6, 5, dtype=dtype), soft(6, 5, dtype=dtype),
                weight=rand(5, dtype=dtype) + 0.1, label_smoothing=0.25, reduction=reduction, gradient=True)
            add(f'ce-prob-rank4-{d}-{reduction}', 'cross_entropy', randn(2, 4, 3, 3, dtype=dtype), soft(2, 4, 3, 3, dtype=dtype),
                weight=rand(4, dtype=dtype) + 0.1, reduction=reduction, gradient=True)
            add(f'ce-prob-1d-{d}-{reduction}', 'cross_entropy', randn(5, dtype=dtype), soft(5, dim=0, dtype=dtype), reduction=reduction)
        # Precision: large logits, where x - (max + lse) would lose digits.
        add(f'ce-large-logits-{d}', 'cross_entropy', randn(8, 10, scale=1e4, dtype=dtype), randint(10, 8), reduction='none')
        add(f'ce-large-offset-{d}', 'cross_entropy', (randn(4, 6, dtype=dtype) + 1e4), randint(6, 4), reduction='none')
        # Softmax outputs fed as logits (the bug Loss Lens looks for).
        add(f'ce-on-softmax-{d}', 'cross_entropy', soft(12, 10, dtype=dtype), randint(10, 12), gradient=True)
    # Edge cases of the mean's denominator.
    all_ignored = torch.full((4,), -100, dtype=torch.int64)
    for reduction in ('mean', 'sum', 'none'):
        add(f'ce-all-ignored-{reduction}', 'cross_entropy', randn(4, 3), all_ignored, reduction=reduction)
    add('ce-zero-weight-mean', 'cross_entropy', randn(4, 3), torch.tensor([0, 0, 1, 1]), weight=torch.tensor([0.0, 0.0, 1.0]))
    add('ce-zero-total-weight-smooth', 'cross_entropy', randn(4, 3), torch.tensor([0, 0, 1, 1]),
        weight=torch.tensor([0.0, 0.0, 1.0]), label_smoothing=0.1)
    add('ce-all-ignored-smooth-mean', 'cross_entropy', randn(4, 3), all_ignored, label_smoothing=0.2)
    add('ce-nan-input', 'cross_entropy', torch.tensor([[0.5, float('nan'), 1.0], [0.1, 0.2, 0.3]]), torch.tensor([0, 2]), reduction='none')
    add('ce-inf-input', 'cross_entropy', torch.tensor([[float('inf'), 1.0, 0.0], [0.1, float('-inf'), 0.3]]), torch.tensor([0, 1]), reduction='none')
    add('ce-single-class', 'cross_entropy', randn(5, 1), torch.zeros(5, dtype=torch.int64), gradient=True)
    # Sizes over 128 elements, so that WebGL really runs them on the GPU.
    for reduction in ('mean', 'sum', 'none'):
        target = randint(10, 40)
        target[::7] = -100
        add(f'ce-gpu-size-{reduction}', 'cross_entropy', randn(40, 10, scale=3.0), target,
            weight=rand(10) + 0.5, label_smoothing=0.1, reduction=reduction, gradient=True)
        add(f'ce-prob-gpu-size-{reduction}', 'cross_entropy', randn(32, 12, scale=2.0), soft(32, 12), reduction=reduction, gradient=True)
        add(f'ce-rank4-gpu-size-{reduction}', 'cross_entropy', randn(3, 5, 6, 7), randint(5, 3, 6, 7), reduction=reduction)
    add('ce-gpu-size-all-ignored', 'cross_entropy', randn(40, 10), torch.full((40,), -100, dtype=torch.int64))
    # Error cases, with PyTorch's own wording.
    x = randn(3, 5)
    add('ce-error-float-target', 'cross_entropy', x, torch.tensor([1.0, 2.0, 3.0]))
    add('ce-error-int32-target', 'cross_entropy', x, torch.tensor([1, 2, 3], dtype=torch.int32))
    add('ce-error-n1-target', 'cross_entropy', x, torch.tensor([[1], [2], [3]]))
    add('ce-error-out-of-range', 'cross_entropy', x, torch.tensor([1, 7, 2]))
    add('ce-error-negative-target', 'cross_entropy', x, torch.tensor([1, -3, 2]))
    add('ce-error-ignore-index-out-of-range', 'cross_entropy', x, torch.tensor([1, 5, 2]), ignore_index=4)
    add('ce-error-long-one-hot', 'cross_entropy', x, F.one_hot(torch.tensor([1, 2, 3]), 5))
    add('ce-error-batch-mismatch', 'cross_entropy', x, torch.tensor([1, 2]))
    add('ce-error-weight-length', 'cross_entropy', x, torch.tensor([1, 2, 3]), weight=torch.ones(4))
    add('ce-error-prob-weight-length', 'cross_entropy', x, soft(3, 5), weight=torch.ones(4))
    add('ce-error-smoothing-high', 'cross_entropy', x, torch.tensor([1, 2, 3]), label_smoothing=1.5)
    add('ce-smoothing-negative-is-ignored', 'cross_entropy', x, torch.tensor([1, 2, 3]), label_smoothing=-0.1)
    add('ce-error-prob-ignore-index', 'cross_entropy', x, soft(3, 5), ignore_index=1)
    add('ce-error-rank3-target-shape', 'cross_entropy', randn(2, 3, 4), torch.zeros(2, 5, dtype=torch.int64))
    add('ce-error-rank4-target-shape', 'cross_entropy', randn(2, 3, 4, 4), torch.zeros(2, 5, 4, dtype=torch.int64))
    add('ce-error-rank5-target-shape', 'cross_entropy', randn(2, 3, 4, 4, 2), torch.zeros(2, 5, 4, 2, dtype=torch.int64))
    add('ce-error-rank4-target-rank', 'cross_entropy', randn(2, 3, 4, 4), torch.zeros(2, 4, dtype=torch.int64))
    add('ce-error-integer-input', 'cross_entropy', randint(5, 3, 5), torch.tensor([1, 2, 3]))
    add('ce-error-weight-dtype', 'cross_entropy', x, torch.tensor([1, 2, 3]), weight=torch.ones(5, dtype=torch.float64))


def nll_cases():
    for dtype in (torch.float32, torch.float64):
        d = FLOAT_DTYPES[dtype]
        for reduction in ('mean', 'sum', 'none'):
            logp = torch.log_softmax(randn(6, 5, dtype=dtype), 1)
            add(f'nll-{d}-{reduction}', 'nll_loss', logp, randint(5, 6), reduction=reduction, gradient=True)
            target = randint(5, 7)
            target[[0, 2]] = -100
            add(f'nll-weight-ignore-{d}-{reduction}', 'nll_loss', randn(7, 5, dtype=dtype), target,
                weight=rand(5, dtype=dtype) + 0.2, reduction=reduction, gradient=True)
            add(f'nll-rank3-{d}-{reduction}', 'nll_loss', randn(2, 4, 3, dtype=dtype), randint(4, 2, 3), reduction=reduction, gradient=True)
            add(f'nll-rank4-{d}-{reduction}', 'nll_loss', randn(2, 3, 2, 2, dtype=dtype), randint(3, 2, 2, 2),
                weight=rand(3, dtype=dtype) + 0.1, ignore_index=1, reduction=reduction)
            add(f'nll-1d-{d}-{reduction}', 'nll_loss', randn(4, dtype=dtype), torch.tensor(2), reduction=reduction)
    for reduction in ('mean', 'sum'):
        add(f'nll-all-ignored-{reduction}', 'nll_loss', randn(3, 4), torch.full((3,), 1, dtype=torch.int64), ignore_index=1, reduction=reduction)
    add('nll-gpu-size', 'nll_loss', randn(30, 8), randint(8, 30), weight=rand(8) + 0.1, gradient=True)
    add('nll-error-float-target', 'nll_loss', randn(3, 4), torch.tensor([1.0, 2.0, 0.0]))
    add('nll-error-out-of-range', 'nll_loss', randn(3, 4), torch.tensor([1, 4, 0]))
    add('nll-error-rank3-out-of-range', 'nll_loss', randn(3, 4, 5), torch.full((3, 5), 9, dtype=torch.int64))
    add('nll-error-prob-target', 'nll_loss', randn(3, 4), soft(3, 4))


def bce_cases():
    for dtype in (torch.float32, torch.float64):
        d = FLOAT_DTYPES[dtype]
        for reduction in ('mean', 'sum', 'none'):
            add(f'bce-{d}-{reduction}', 'binary_cross_entropy', rand(5, 3, dtype=dtype), (rand(5, 3, dtype=dtype) > 0.5).to(dtype),
                reduction=reduction, gradient=True)
            add(f'bce-soft-weight-{d}-{reduction}', 'binary_cross_entropy', rand(4, 3, dtype=dtype), rand(4, 3, dtype=dtype),
                weight=rand(3, dtype=dtype), reduction=reduction, gradient=True)
            add(f'bce-weight-full-{d}-{reduction}', 'binary_cross_entropy', rand(6, dtype=dtype), rand(6, dtype=dtype).round(),
                weight=rand(6, dtype=dtype), reduction=reduction)
            add(f'bce-clamp-{d}-{reduction}', 'binary_cross_entropy', torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-45 if d == 'float32' else 1e-300, 0.5], dtype=dtype),
                torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.5], dtype=dtype), reduction=reduction)
        add(f'bce-scalar-{d}', 'binary_cross_entropy', torch.tensor(0.3, dtype=dtype), torch.tensor(1.0, dtype=dtype), gradient=True)
        add(f'bce-weight-column-{d}', 'binary_cross_entropy', rand(4, 3, dtype=dtype), rand(4, 3, dtype=dtype).round(),
            weight=rand(4, 1, dtype=dtype), reduction='none')
    for reduction in ('mean', 'sum', 'none'):
        add(f'bce-gpu-size-{reduction}', 'binary_cross_entropy', rand(20, 10) * 0.98 + 0.01, rand(20, 10).round(),
            weight=rand(10) + 0.5, reduction=reduction, gradient=True)
    add('bce-gpu-size-clamp', 'binary_cross_entropy', torch.cat([torch.zeros(100), torch.ones(100)]),
        torch.cat([torch.ones(50), torch.zeros(50), torch.ones(50), torch.zeros(50)]), reduction='none')
    add('bce-error-above-one', 'binary_cross_entropy', torch.tensor([0.2, 1.5]), torch.tensor([0.0, 1.0]))
    add('bce-error-negative', 'binary_cross_entropy', torch.tensor([-0.2, 0.5]), torch.tensor([0.0, 1.0]))
    add('bce-error-nan', 'binary_cross_entropy', torch.tensor([0.5, float('nan')]), torch.tensor([0.0, 1.0]))
    add('bce-error-shape', 'binary_cross_entropy', rand(4), rand(4, 1))
    add('bce-error-shape-2d', 'binary_cross_entropy', rand(4, 1), rand(4))
    add('bce-error-long-target', 'binary_cross_entropy', rand(4), torch.ones(4, dtype=torch.int64))
    add('bce-error-double-target', 'binary_cross_entropy', rand(4), torch.ones(4, dtype=torch.float64))
    add('bce-error-weight-broadcast', 'binary_cross_entropy', rand(4, 3), rand(4, 3), weight=torch.ones(2))


def bce_logits_cases():
    for dtype in (torch.float32, torch.float64):
        d = FLOAT_DTYPES[dtype]
        for reduction in ('mean', 'sum', 'none'):
            add(f'bcel-{d}-{reduction}', 'binary_cross_entropy_with_logits', randn(5, 4, scale=3.0, dtype=dtype),
                (rand(5, 4, dtype=dtype) > 0.5).to(dtype), reduction=reduction, gradient=True)
            add(f'bcel-pos-weight-{d}-{reduction}', 'binary_cross_entropy_with_logits', randn(5, 4, scale=3.0, dtype=dtype),
                rand(5, 4, dtype=dtype), pos_weight=rand(4, dtype=dtype) * 5, reduction=reduction, gradient=True)
            add(f'bcel-weight-pos-weight-{d}-{reduction}', 'binary_cross_entropy_with_logits', randn(6, 3, dtype=dtype),
                (rand(6, 3, dtype=dtype) > 0.3).to(dtype), weight=rand(3, dtype=dtype), pos_weight=rand(3, dtype=dtype) * 3,
                reduction=reduction, gradient=True)
            add(f'bcel-rank4-pos-weight-{d}-{reduction}', 'binary_cross_entropy_with_logits', randn(2, 3, 2, 2, dtype=dtype),
                rand(2, 3, 2, 2, dtype=dtype).round(), pos_weight=rand(3, 1, 1, dtype=dtype) * 4, reduction=reduction, gradient=True)
        add(f'bcel-extreme-{d}', 'binary_cross_entropy_with_logits', torch.tensor([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, 1e-8], dtype=dtype),
            torch.tensor([1.0, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0], dtype=dtype), reduction='none', gradient=True)
        add(f'bcel-extreme-pos-weight-{d}', 'binary_cross_entropy_with_logits', torch.tensor([-1e4, -100.0, 50.0, 0.0], dtype=dtype),
            torch.tensor([1.0, 1.0, 0.0, 1.0], dtype=dtype), pos_weight=torch.tensor([3.0, 0.5, 2.0, 10.0], dtype=dtype), reduction='none')
        add(f'bcel-scalar-{d}', 'binary_cross_entropy_with_logits', torch.tensor(1.3, dtype=dtype), torch.tensor(0.0, dtype=dtype), gradient=True)
        add(f'bcel-weight-column-{d}', 'binary_cross_entropy_with_logits', randn(4, 3, dtype=dtype), rand(4, 3, dtype=dtype),
            weight=rand(4, 1, dtype=dtype), reduction='sum')
    for reduction in ('mean', 'sum', 'none'):
        add(f'bcel-gpu-size-{reduction}', 'binary_cross_entropy_with_logits', randn(25, 8, scale=4.0), rand(25, 8).round(),
            weight=rand(8) + 0.5, pos_weight=rand(8) * 6, reduction=reduction, gradient=True)
    add('bcel-gpu-size-extreme', 'binary_cross_entropy_with_logits', randn(200, scale=200.0), rand(200).round(), reduction='none')
    add('bcel-nan-input', 'binary_cross_entropy_with_logits', torch.tensor([0.5, float('nan'), float('inf')]), torch.tensor([1.0, 0.0, 0.0]), reduction='none')
    add('bcel-error-long-target', 'binary_cross_entropy_with_logits', randn(4), torch.ones(4, dtype=torch.int64))
    add('bcel-error-shape', 'binary_cross_entropy_with_logits', randn(4), rand(4, 1))
    add('bcel-error-shape-n1', 'binary_cross_entropy_with_logits', randn(4, 1), rand(4))
    add('bcel-error-pos-weight', 'binary_cross_entropy_with_logits', randn(4, 3), rand(4, 3), pos_weight=torch.ones(4))
    add('bcel-error-pos-weight-rank4', 'binary_cross_entropy_with_logits', randn(2, 3, 2, 2), rand(2, 3, 2, 2), pos_weight=torch.ones(3))
    add('bcel-error-weight', 'binary_cross_entropy_with_logits', randn(4, 3), rand(4, 3), weight=torch.ones(2))


def tensor_fixtures():
    """Small .npy/.npz files in every layout NumPy writes, with the values they must decode to."""
    folder = os.path.join(os.path.dirname(OUT), '..', 'tensors')
    os.makedirs(folder, exist_ok=True)
    base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.75 - 7
    manifest = []

    def save(name, array, **extra):
        np.save(os.path.join(folder, name), array)
        manifest.append({'file': name, 'shape': list(array.shape), 'values': array.astype(np.float64).reshape(-1).tolist(), **extra})

    for code in ('f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8'):
        values = base if code[0] == 'f' else np.abs(base).astype(np.int64) * (1 if code[0] == 'u' else -1)
        save(f'{code}-le.npy', values.astype('<' + code), dtype=code)
        save(f'{code}-be.npy', values.astype('>' + code), dtype=code)
        save(f'{code}-fortran.npy', np.asfortranarray(values.astype('<' + code)), dtype=code)
    save('bool.npy', base > 0, dtype='b1')
    save('bool-fortran.npy', np.asfortranarray(base > 0), dtype='b1')
    save('scalar.npy', np.float32(2.5), dtype='f4')
    save('empty.npy', np.zeros((0, 3), dtype=np.float32), dtype='f4')
    save('int64-1d.npy', np.array([3, 0, 9, -100], dtype=np.int64), dtype='i8')
    # Version 2.0 header (NumPy writes it when the header outgrows 65535 bytes; forced here).
    with open(os.path.join(folder, 'v2.npy'), 'wb') as out:
        np.lib.format.write_array(out, base.astype(np.float32), version=(2, 0))
    manifest.append({'file': 'v2.npy', 'shape': [2, 3, 4], 'values': base.reshape(-1).tolist(), 'dtype': 'f4'})
    members = {'logits': base.astype(np.float32), 'labels': np.array([1, 0, 2], dtype=np.int64)}
    np.savez(os.path.join(folder, 'stored.npz'), **members)
    np.savez_compressed(os.path.join(folder, 'deflated.npz'), **members)
    for archive in ('stored.npz', 'deflated.npz'):
        for key, array in members.items():
            manifest.append({'file': f'{archive}:{key}', 'shape': list(array.shape), 'values': array.astype(np.float64).reshape(-1).tolist()})
    np.savez_compressed(os.path.join(folder, 'single.npz'), only=np.ones(5, dtype=np.float32))
    with open(os.path.join(folder, 'manifest.json'), 'w') as out:
        json.dump(manifest, out, indent=0)


def example_tensors():
    """examples/tensors: a batch whose logits went through softmax before cross_entropy (the README example)."""
    folder = os.path.join(os.path.dirname(OUT), '..', '..', '..', 'examples', 'tensors')
    os.makedirs(folder, exist_ok=True)
    labels = torch.tensor([0] * 41 + [1] * 13 + [2] * 6 + [3] * 4, dtype=torch.int64)[torch.randperm(64, generator=generator)]
    logits = randn(64, 4, scale=1.5) + 4.0 * F.one_hot(labels, 4).float()
    probabilities = torch.softmax(logits, dim=1)
    np.save(os.path.join(folder, 'probabilities.npy'), probabilities.numpy())
    np.save(os.path.join(folder, 'labels.npy'), labels.numpy())
    np.savez_compressed(os.path.join(folder, 'batch.npz'), logits=logits.numpy(), probabilities=probabilities.numpy(), labels=labels.numpy())
    print('example: cross_entropy(probabilities) =', F.cross_entropy(probabilities, labels).item(),
          ' cross_entropy(logits) =', F.cross_entropy(logits, labels).item())


tensor_fixtures()
cross_entropy_cases()
nll_cases()
bce_cases()
bce_logits_cases()
example_tensors()

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as out:
    out.write('{"generator": "scripts/gen-conformance.py", "torch": %s, "cases": [\n' % json.dumps(torch.__version__))
    out.write(',\n'.join(json.dumps(case, separators=(',', ':'), allow_nan=False) for case in cases))
    out.write('\n]}\n')
errors = sum('error' in case for case in cases)
print(f'wrote {len(cases)} cases ({errors} error cases) to {os.path.relpath(OUT)}')

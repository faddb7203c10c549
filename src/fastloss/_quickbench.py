"""``python -m fastloss bench``: fastloss timed next to NumPy, PyTorch and a ruler.

For each case (an op and a float32 size) and each thread count, this times

- fastloss computing the value and the gradient (``value_and_grad``) into a
  preallocated ``out=`` buffer (``log_softmax``: its result; ``wcss``: value and labels);
- what a NumPy user would write (`fastloss._baselines`);
- PyTorch, when it is installed (imported here and only here, never required): the
  loss forward + ``.backward()``;
- a bandwidth ruler moving the bytes the fused kernel must move: ``np.copyto`` (read
  and write N*C floats) for the row kernels, ``np.add(x, y, out=)`` (read two arrays,
  write one) for the elementwise losses; fastloss/ruler near 1 means memory speed.
  ``wcss`` is compute-bound and has no ruler.

and prints the medians and their ratios. Each time is the median of a few samples after
a short warm-up. NumPy and the ruler run on one thread at every thread count, so they
are timed once per case. The pytest-benchmark suites in ``bench/`` are the careful
version of this table.
"""
import math
import os
import statistics
import sys
import time
from functools import partial
from types import SimpleNamespace
from typing import Callable, NamedTuple, Optional

import numpy as np

from . import (BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, MSELoss,
               MultiMarginLoss, _baselines, _config, build_info, log_softmax, optim, wcss)
from .reference import _optim as _reference_optim

class Timing(NamedTuple):
    """How long to measure one implementation of one case (seconds)."""
    warmup: float      # untimed calls for this long (at least one): thread pools,
                       # caches and the allocator settle
    min_sample: float  # enough calls per sample to last this long
    budget: float      # samples for about this long
    max_samples: int


QUICK_TIMING = Timing(warmup=0.1, min_sample=0.002, budget=0.15, max_samples=15)
FULL_TIMING = Timing(warmup=0.3, min_sample=0.01, budget=0.6, max_samples=50)
MIN_SAMPLES = 3


# ---- the ops: inputs, and how each implementation runs them ------------------------

def _logits(shape):
    """Logits (N, C), int64 labels, a touched output buffer."""
    n, c = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c), dtype=np.float32) * 3
    return SimpleNamespace(x=x, y=rng.integers(0, c, size=n, dtype=np.int64),
                           out=np.zeros_like(x))


def _distributions(shape):
    """Log-probabilities and a target distribution (N, C), a touched output buffer."""
    rng = np.random.default_rng(0)
    logq = log_softmax(rng.standard_normal(shape, dtype=np.float32) * 3)
    t = rng.random(shape, dtype=np.float32)
    return SimpleNamespace(x=logq, y=t / t.sum(axis=1, keepdims=True),
                           out=np.zeros_like(logq))


def _entries(shape, binary=False):
    """Predictions or logits (N,), real or 0/1 targets, a touched output buffer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32) * 2
    y = ((rng.random(shape, dtype=np.float32) < 0.5).astype(np.float32) if binary
         else rng.standard_normal(shape, dtype=np.float32))
    return SimpleNamespace(x=x, y=y, out=np.zeros_like(x), ruler=np.zeros_like(x))


def _points(shape):
    """N points in D dimensions around K centres, and K centroids near them."""
    n, d, k = shape
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 4.0, size=(k, d))
    x = (centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))).astype(np.float32)
    return SimpleNamespace(x=x, y=(centres + rng.normal(0.0, 0.5, size=(k, d))).astype(
        np.float32))


def _torch_value_and_grad(name, **options):
    """PyTorch's loss `name` forward + backward on a leaf tensor sharing x's memory."""
    def build(torch, d):
        fn = partial(getattr(torch.nn.functional, name), **options)
        xt = torch.from_numpy(d.x).requires_grad_()
        yt = torch.from_numpy(d.y)

        def forward_backward():
            xt.grad = None  # as optimizer.zero_grad() does
            fn(xt, yt).backward()
        return forward_backward
    return build


def _torch_log_softmax(torch, d):
    return partial(torch.log_softmax, torch.from_numpy(d.x), dim=1)


def _torch_wcss(torch, d):
    xt, ct = torch.from_numpy(d.x), torch.from_numpy(d.y)
    return lambda: torch.cdist(xt, ct).square().min(dim=1)


def _fused(loss_class, **options):
    """fastloss's value_and_grad of a loss class into the preallocated buffer."""
    return lambda d, nt: partial(loss_class(n_threads=nt, **options).value_and_grad,
                                 d.x, d.y, out=d.out)


def _copy_ruler(d):
    return partial(np.copyto, d.out, d.x)


def _add_ruler(d):
    return partial(np.add, d.x, d.y, out=d.ruler)


def _arrays(shape):
    """N parameter arrays of C float32 entries each, and their fixed gradients."""
    n, c = shape
    rng = np.random.default_rng(0)
    return SimpleNamespace(params=[rng.standard_normal(c, dtype=np.float32) for _ in range(n)],
                           grads=[rng.standard_normal(c, dtype=np.float32) for _ in range(n)])


def _adam_fastloss(d, nt):
    return partial(optim.Adam(d.params, lr=1e-3, n_threads=nt).step, d.grads)


def _adam_numpy(d):
    """Adam as a NumPy user writes it: a loop over the arrays, vectorized per array."""
    states = [{} for _ in d.params]
    return lambda: [_reference_optim.adam_update(p, g, s, lr=1e-3)
                    for p, g, s in zip(d.params, d.grads, states)]


def _adam_torch(torch, d):
    tensors = [torch.from_numpy(p) for p in d.params]
    for t, g in zip(tensors, d.grads):
        t.grad = torch.from_numpy(g)
    return torch.optim.Adam(tensors, lr=1e-3, fused=True).step


def _adam_ruler(d):
    """The bytes of an Adam step at best (read p, g, m, v; write p, m, v) as in-place
    adds over three state-sized arrays (reads g three times: 36 bytes, not 28)."""
    m = [np.zeros_like(p) for p in d.params]
    v = [np.zeros_like(p) for p in d.params]

    def move():
        for p, g, a, b in zip(d.params, d.grads, m, v):
            np.add(p, g, out=p)
            np.add(a, g, out=a)
            np.add(b, g, out=b)
    return move


class Op(NamedTuple):
    inputs: Callable               # size -> data (x, y, buffers)
    fastloss: Callable             # (data, n_threads) -> callable
    numpy: Callable                # data -> callable
    torch: Optional[Callable]      # (torch module, data) -> callable, or None
    ruler: Optional[Callable]      # data -> callable, or None


OPS = {
    "cross_entropy": Op(_logits, _fused(CrossEntropyLoss),
                        lambda d: partial(_baselines.numpy_cross_entropy, d.x, d.y),
                        _torch_value_and_grad("cross_entropy"), _copy_ruler),
    "log_softmax": Op(_logits, lambda d, nt: partial(log_softmax, d.x, out=d.out, n_threads=nt),
                      lambda d: partial(_baselines.numpy_log_softmax, d.x),
                      _torch_log_softmax, _copy_ruler),
    "mse": Op(_entries, _fused(MSELoss), lambda d: partial(_baselines.numpy_mse, d.x, d.y),
              _torch_value_and_grad("mse_loss"), _add_ruler),
    "huber": Op(_entries, _fused(HuberLoss),
                lambda d: partial(_baselines.numpy_huber, d.x, d.y),
                _torch_value_and_grad("huber_loss"), _add_ruler),
    "bce_with_logits": Op(partial(_entries, binary=True), _fused(BCEWithLogitsLoss),
                          lambda d: partial(_baselines.numpy_bce_with_logits, d.x, d.y),
                          _torch_value_and_grad("binary_cross_entropy_with_logits"),
                          _add_ruler),
    "multi_margin": Op(_logits, _fused(MultiMarginLoss),
                       lambda d: partial(_baselines.numpy_multi_margin, d.x, d.y),
                       _torch_value_and_grad("multi_margin_loss"), _copy_ruler),
    "kl_div": Op(_distributions, _fused(KLDivLoss),
                 lambda d: partial(_baselines.numpy_kl_div, d.x, d.y),
                 _torch_value_and_grad("kl_div", reduction="batchmean"), _copy_ruler),
    "adam_step": Op(_arrays, _adam_fastloss, _adam_numpy, _adam_torch, _adam_ruler),
    "wcss": Op(_points, lambda d, nt: partial(wcss, d.x, d.y, n_threads=nt),
                    lambda d: partial(_baselines.numpy_wcss, d.x, d.y), _torch_wcss, None),
}

# (op, size): N x C for rows, (N,) for entries, N points x D features x K centroids,
# N arrays x C parameters for an optimizer step
QUICK_CASES = (
    ("cross_entropy", (4096, 1000)), ("cross_entropy", (1024, 32000)),
    ("log_softmax", (4096, 1000)),
    ("mse", (10_000_000,)), ("huber", (10_000_000,)), ("bce_with_logits", (10_000_000,)),
    ("multi_margin", (4096, 1000)), ("kl_div", (4096, 1000)),
    ("wcss", (100_000, 64, 16)),
    ("adam_step", (100, 100_000)), ("adam_step", (10_000, 1_000)),
)
FULL_CASES = (
    ("cross_entropy", (4096, 10)), ("cross_entropy", (4096, 1000)),
    ("cross_entropy", (1024, 32000)), ("cross_entropy", (256, 128000)),
    ("log_softmax", (4096, 10)), ("log_softmax", (4096, 1000)),
    ("log_softmax", (1024, 32000)), ("log_softmax", (256, 128000)),
    ("mse", (10_000_000,)), ("huber", (10_000_000,)), ("bce_with_logits", (10_000_000,)),
    ("multi_margin", (4096, 10)), ("multi_margin", (4096, 1000)),
    ("kl_div", (4096, 10)), ("kl_div", (4096, 1000)),
    ("wcss", (100_000, 64, 16)),
    ("adam_step", (1, 10_000_000)), ("adam_step", (100, 100_000)),
    ("adam_step", (10_000, 1_000)),
)


# ---- measuring -----------------------------------------------------------------------

def _median_seconds(fn, timing):
    """Median seconds per call of ``fn()``: warm-up calls for ``timing.warmup``, then at
    least MIN_SAMPLES samples of enough calls to last ``timing.min_sample``, within
    ``timing.budget``."""
    warmup_end = time.perf_counter() + timing.warmup
    fastest = math.inf
    while True:
        start = time.perf_counter()
        fn()
        end = time.perf_counter()
        fastest = min(fastest, max(end - start, 1e-7))
        if end >= warmup_end:
            break
    loops = max(1, math.ceil(timing.min_sample / fastest))
    n_samples = int(timing.budget / (fastest * loops))
    n_samples = min(max(MIN_SAMPLES, n_samples), timing.max_samples)
    samples = []
    for _ in range(n_samples):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def _import_torch():
    """PyTorch if it is installed and loads, else None."""
    try:
        import torch
    except (ImportError, OSError):
        return None
    return torch


def _cpu_count():
    """Cores this process may run on."""
    return _config._cores


def _measure(cases, threads, timing, torch):
    """One row per (op, size, threads), in the order of `cases`: a dict of names to
    seconds (None = not run). One case's arrays are in memory at a time."""
    rows = []
    for name, size in cases:
        op = OPS[name]
        d = op.inputs(size)
        ruler = _median_seconds(op.ruler(d), timing) if op.ruler else None
        numpy_s = _median_seconds(op.numpy(d), timing)
        for nt in threads:
            torch_s = None
            if torch is not None and op.torch is not None:
                torch.set_num_threads(nt)
                torch_s = _median_seconds(op.torch(torch, d), timing)
            fastloss_s = _median_seconds(op.fastloss(d, nt), timing)
            rows.append({"op": name, "shape": "x".join(map(str, size)), "threads": nt,
                         "fastloss": fastloss_s, "numpy": numpy_s, "torch": torch_s,
                         "ruler": ruler})
        del d
    return rows


# ---- printing ------------------------------------------------------------------------

FOOTNOTE = """
ms: median per call, float32. Losses: value and gradient (mean reduction; PyTorch:
forward + backward), fastloss into a preallocated out=. wcss (N x D x K): value and
labels. adam_step (N arrays x C): one step; PyTorch: Adam(fused=True); NumPy: a loop
over the arrays. NumPy and the ruler run on one thread. ruler: np.copyto of N*C floats
(row ops), np.add of two arrays into a third (elementwise losses), three in-place adds
per array (Adam): the bytes the fused pass moves, so fastloss/ruler near 1 is memory
speed."""

COLUMNS = ("op", "size", "threads", "fastloss ms", "NumPy ms", "PyTorch ms", "ruler ms",
           "NumPy/fastloss", "PyTorch/fastloss", "fastloss/ruler")


def _ms(seconds):
    return "-" if seconds is None else f"{seconds * 1e3:.3g}"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def _cells(row):
    fl = row["fastloss"]
    return [row["op"], row["shape"], str(row["threads"]),
            _ms(fl), _ms(row["numpy"]), _ms(row["torch"]), _ms(row["ruler"]),
            _ratio(row["numpy"], fl), _ratio(row["torch"], fl), _ratio(fl, row["ruler"])]


def _format_table(header, rows):
    """Plain-text columns: text left-aligned, numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(cells, widths)))
    lines = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(lines)


def _header(threads, torch):
    info = build_info()
    thp = os.environ.get("THP_MEM_ALLOC_ENABLE")
    torch_text = ("PyTorch not installed" if torch is None else
                  f"PyTorch {torch.__version__} (THP_MEM_ALLOC_ENABLE="
                  f"{'unset' if thp is None else thp})")
    return [
        f"fastloss {info['version']} | SIMD {info['simd_active']} | OpenMP "
        f"{'on' if info['openmp'] else 'off'} | threads {', '.join(map(str, threads))} "
        f"(of {_cpu_count()} cores)",
        f"NumPy {np.__version__} | {torch_text}",
    ]


# ---- entry point ---------------------------------------------------------------------

def run(quick=True, threads=None):
    """Time fastloss against NumPy, PyTorch (if installed) and a ruler; print a table.

    Parameters
    ----------
    quick : bool, default True
        One or two sizes per op (`QUICK_CASES`) and short timings: about a minute in
        all. False runs `FULL_CASES` (more sizes) and measures longer.
    threads : list of int, optional
        Thread counts to measure; default 1 and every core this process may use.

    Returns
    -------
    int
        0 (the exit status of ``python -m fastloss bench``); 2 for a bad thread count.
    """
    if threads is None:
        threads = [1, _cpu_count()]
    threads = sorted(set(threads))
    if any(n < 1 for n in threads):
        print(f"fastloss bench: thread counts must be >= 1, got {threads}", file=sys.stderr)
        return 2
    torch = _import_torch()
    cases, timing = (QUICK_CASES, QUICK_TIMING) if quick else (FULL_CASES, FULL_TIMING)

    print("\n".join(_header(threads, torch)), flush=True)
    torch_threads = torch.get_num_threads() if torch is not None else None
    try:
        rows = _measure(cases, threads, timing, torch)
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print()
    print(_format_table(list(COLUMNS), [_cells(r) for r in rows]))
    print(FOOTNOTE)
    return 0

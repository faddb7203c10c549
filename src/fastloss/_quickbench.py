"""``python -m fastloss bench``: fastloss timed next to NumPy, PyTorch and a copy.

For each case (an op and an N x C float32 shape) and each thread count, this times

- fastloss, writing into a preallocated ``out=`` buffer;
- what a NumPy user would write (`numpy_cross_entropy`, `numpy_log_softmax`);
- PyTorch, when it is installed (imported here and only here, never required):
  ``F.cross_entropy`` forward + ``.backward()``, and ``torch.log_softmax``;
- the copy ruler: ``np.copyto`` of the same bytes. A fused kernel reads N*C and
  writes N*C floats, as a copy does, so fastloss/copy near 1 means memory speed.

and prints the medians and their ratios. Each time is the median of a few samples after
a short warm-up. NumPy and the copy ruler run on one thread at every thread count, so
they are timed once per case. The pytest-benchmark suite in ``bench/`` is the careful
version of this table.
"""
import math
import os
import statistics
import sys
import time
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from . import CrossEntropyLoss, _config, build_info, log_softmax

QUICK_SHAPES = ((4096, 1000), (1024, 32000))
FULL_SHAPES = ((4096, 10), (4096, 1000), (1024, 32000), (256, 128000))


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


# ---- the NumPy baseline: what a NumPy user writes ------------------------------------

def numpy_cross_entropy(x, y):
    """Mean softmax cross-entropy of logits x (N, C) and labels y (N,), and its gradient."""
    n = x.shape[0]
    rows = np.arange(n)
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1)
    loss = np.mean(np.log(s) + m[:, 0] - x[rows, y])
    grad = e / s[:, None]
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


def numpy_log_softmax(x):
    """log_softmax of the rows of x (N, C)."""
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# ---- the cases: one op = how each implementation runs it ----------------------------
# Each builder returns the zero-argument callable that is timed.

def _torch_cross_entropy(torch, x, y):
    xt = torch.from_numpy(x).requires_grad_()
    yt = torch.from_numpy(y)

    def forward_backward():
        xt.grad = None  # as optimizer.zero_grad() does
        torch.nn.functional.cross_entropy(xt, yt).backward()
    return forward_backward


def _torch_log_softmax(torch, x, y):
    xt = torch.from_numpy(x)
    return partial(torch.log_softmax, xt, dim=1)


class Op(NamedTuple):
    name: str
    fastloss: Callable  # (x, y, out, n_threads) -> callable
    numpy: Callable     # (x, y) -> callable
    torch: Callable     # (torch module, x, y) -> callable


OPS = (
    Op("cross_entropy",
       lambda x, y, out, nt: partial(CrossEntropyLoss(n_threads=nt).value_and_grad,
                                     x, y, out=out),
       lambda x, y: partial(numpy_cross_entropy, x, y),
       _torch_cross_entropy),
    Op("log_softmax",
       lambda x, y, out, nt: partial(log_softmax, x, out=out, n_threads=nt),
       lambda x, y: partial(numpy_log_softmax, x),
       _torch_log_softmax),
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


def _inputs(n, c):
    """Logits (n, c) float32, int64 labels, and a touched output buffer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c), dtype=np.float32) * 3
    y = rng.integers(0, c, size=n, dtype=np.int64)
    out = np.empty_like(x)
    out.fill(0)  # page faults now, not in the timed calls
    return x, y, out


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


def _measure(shapes, threads, timing, torch):
    """One row per (op, shape, threads), ops outermost: a dict of names to seconds
    (None = not run). One shape's arrays are in memory at a time."""
    rows = []
    for n, c in shapes:
        x, y, out = _inputs(n, c)
        copy = _median_seconds(partial(np.copyto, out, x), timing)
        for op in OPS:
            numpy_s = _median_seconds(op.numpy(x, y), timing)
            for nt in threads:
                torch_s = None
                if torch is not None:
                    torch.set_num_threads(nt)
                    torch_s = _median_seconds(op.torch(torch, x, y), timing)
                fastloss_s = _median_seconds(op.fastloss(x, y, out, nt), timing)
                rows.append({"op": op.name, "shape": f"{n}x{c}", "threads": nt,
                             "fastloss": fastloss_s, "numpy": numpy_s, "torch": torch_s,
                             "copy": copy})
        del x, y, out
    op_order = [op.name for op in OPS]
    # sorted() is stable: within an op, shapes and thread counts keep their order
    return sorted(rows, key=lambda row: op_order.index(row["op"]))


# ---- printing ------------------------------------------------------------------------

FOOTNOTE = """
ms: median per call, float32. cross_entropy: value and gradient (mean reduction, int64
labels; PyTorch: forward + backward). fastloss writes into a preallocated out=. NumPy
and copy run on one thread. copy: np.copyto of the same bytes (read N*C, write N*C);
fastloss/copy near 1 is memory speed."""

COLUMNS = ("op", "shape", "threads", "fastloss ms", "NumPy ms", "PyTorch ms", "copy ms",
           "NumPy/fastloss", "PyTorch/fastloss", "fastloss/copy")


def _ms(seconds):
    return "-" if seconds is None else f"{seconds * 1e3:.3g}"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def _cells(row):
    fl = row["fastloss"]
    return [row["op"], row["shape"], str(row["threads"]),
            _ms(fl), _ms(row["numpy"]), _ms(row["torch"]), _ms(row["copy"]),
            _ratio(row["numpy"], fl), _ratio(row["torch"], fl), _ratio(fl, row["copy"])]


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
    """Time fastloss against NumPy, PyTorch (if installed) and a copy; print a table.

    Parameters
    ----------
    quick : bool, default True
        Two shapes (4096x1000, 1024x32000) and short timings: seconds in all. False
        adds 4096x10 and 256x128000 and measures longer.
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
    shapes, timing = (QUICK_SHAPES, QUICK_TIMING) if quick else (FULL_SHAPES, FULL_TIMING)

    print("\n".join(_header(threads, torch)), flush=True)
    torch_threads = torch.get_num_threads() if torch is not None else None
    try:
        rows = _measure(shapes, threads, timing, torch)
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print()
    print(_format_table(list(COLUMNS), [_cells(r) for r in rows]))
    print(FOOTNOTE)
    return 0

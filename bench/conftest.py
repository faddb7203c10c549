"""Benchmark session: thread settings, machine facts, and the ratio table at the end.

Threads
-------
Every timed call states its thread count itself: fastloss through ``n_threads=``,
PyTorch through ``torch.set_num_threads``, scikit-learn through its ``n_threads``. The
NumPy baselines run on one thread: ufuncs and reductions always do, and
``OPENBLAS_NUM_THREADS=1`` (set below, before anything imports NumPy, unless you set
it yourself) keeps the matrix products of the clustering baselines on one thread too.
``OMP_*`` is left alone: fastloss and PyTorch load the same ``libgomp.so.1``, and
setting ``OMP_NUM_THREADS`` would only change defaults that every call here overrides.
The memory rulers (``np.copyto``, ``np.add``) run on one thread at every thread count.

Huge pages
----------
NumPy asks for transparent huge pages on large arrays (``madvise``); PyTorch's CPU
allocator does so only when ``THP_MEM_ALLOC_ENABLE=1``, which can change its timings
on 100 MB tensors by a factor of up to four. The table says which setting this run
used; run the suite once with and once without it to see both.
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
_NUMPY_IMPORTED_FIRST = "numpy" in sys.modules  # then the line above came too late

# PyTorch and fastloss share libgomp, which reads its settings when it first loads.
# Importing PyTorch first lets it load with the defaults, so that PyTorch is measured as
# it runs anywhere (fastloss's shorter spin-wait default then does not apply to either).
try:
    import torch  # noqa: F401
except ImportError:
    pass

import datetime  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPORT = Path(__file__).with_name("last_run.md")
THP_SETTING = os.environ.get("THP_MEM_ALLOC_ENABLE")  # read once: what PyTorch saw
_START = {}  # wall clock, machine-wide and own CPU seconds at session start
LOAD_LIMIT = 0.1  # cores taken by other processes above which a timing is suspect

# (extra_info["impl"], column title) in table order
IMPLS = (("fastloss", "fastloss ms"), ("fastloss_noout", "fastloss, no out= ms"),
         ("numpy", "NumPy ms"), ("torch", "PyTorch ms"), ("sklearn", "scikit-learn ms"),
         ("copy", "copy ms"))


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _kernel_thp_mode():
    """The bracketed choice of /sys/kernel/mm/transparent_hugepage/enabled, if any."""
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "unknown"
    return text[text.find("[") + 1:text.find("]")] if "[" in text else text.strip()


def _numpy_hugepage():
    import numpy as np
    try:
        return bool(np._core.multiarray._get_madvise_hugepage())
    except AttributeError:
        return "unknown"


def _cpu_seconds():
    """(wall seconds, CPU seconds used by everything on the machine, by this process)."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(
                int, f.readline().split()[1:9])
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        busy = None
    own = os.times()
    return time.monotonic(), busy, own.user + own.system


def other_cores(start, end):
    """Cores that other processes (or the hypervisor) took on average between two
    `_cpu_seconds` readings; None where /proc/stat is missing.

    Another busy process spoils the 2-thread timings: a kernel's second thread then
    shares a core with it and waits for scheduler time slices (runs 2-4x slower)."""
    (wall0, busy0, own0), (wall1, busy1, own1) = start, end
    if busy0 is None or busy1 is None or wall1 <= wall0:
        return None
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall1 - wall0)


def background_load():
    """The whole run's `other_cores`, as text."""
    others = other_cores(_START["cpu"], _cpu_seconds()) if "cpu" in _START else None
    if others is None:
        return "unknown (no /proc/stat)"
    text = f"{others:.2f} cores on average, taken by other processes"
    if others > LOAD_LIMIT:
        text += " -- **the machine was not idle: rerun these numbers on a quiet machine**"
    return text


def thp_description():
    """How PyTorch's allocator was told to treat huge pages in this run."""
    if THP_SETTING == "1":
        return "THP_MEM_ALLOC_ENABLE=1 (PyTorch allocator asks for transparent huge pages)"
    if THP_SETTING is None:
        return "THP_MEM_ALLOC_ENABLE unset (PyTorch allocator: ordinary 4 KiB pages)"
    return f"THP_MEM_ALLOC_ENABLE={THP_SETTING} (not 1: PyTorch allocator uses 4 KiB pages)"


def machine_facts():
    """Facts the table is only meaningful with, as (name, value) pairs."""
    import fastloss
    info = fastloss.build_info()
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count()
    return [
        ("date", datetime.datetime.now().isoformat(timespec="seconds")),
        ("CPU", f"{_cpu_model()}, {cores} cores usable ({os.cpu_count()} online)"),
        ("Python", platform.python_version()),
        ("fastloss", f"{info['version']}, SIMD path {info['simd_active']}, "
                     f"OpenMP {'on' if info['openmp'] else 'off'}, {info['compiler']}"),
        ("NumPy", f"{_version('numpy')}, madvise huge pages: {_numpy_hugepage()}"),
        ("PyTorch", _version("torch") or "not installed"),
        ("PyTorch allocator", thp_description()),
        ("kernel THP mode", _kernel_thp_mode()),
        ("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS")
         + (" (NumPy was imported before conftest: not applied)" if _NUMPY_IMPORTED_FIRST
            else "")),
        ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "unset")),
        ("background load", background_load()),
    ]


def _fmt_ms(seconds):
    return "-" if seconds is None else f"{seconds * 1e3:.3g}"


def _fmt_ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def _fmt_load(cores):
    if cores is None:
        return "-"
    return f"{cores:.2f}" + (" !" if cores > LOAD_LIMIT else "")


def _medians(benchmarks):
    """{(op, N, C, threads): {impl: median seconds, "load": max background load}}."""
    table = {}
    for bench in benchmarks:
        info = bench.extra_info
        if not bench or "impl" not in info:  # no rounds ran (error, skip, disabled)
            continue
        row = table.setdefault((info["op"], info["N"], info["C"], info["threads"]), {})
        row[info["impl"]] = bench.stats.median
        load = info.get("background_load")
        if load is not None:
            row["load"] = max(load, row.get("load", 0.0))
    return table


def ratio_table(benchmarks):
    """The markdown lines of the report: machine facts, then one row per group."""
    lines = ["# fastloss benchmark, float32", ""]
    lines += [f"- **{name}**: {value}" for name, value in machine_facts()]
    lines += [
        "",
        "Medians per call. fastloss writes into a preallocated `out=` (reused every "
        "round); *no out=* lets it allocate the result, as NumPy and PyTorch do. "
        "Losses are timed as value and gradient (PyTorch: forward + `.backward()`). "
        "NumPy and the copy ruler run on one thread whatever the thread count. "
        "copy = a bandwidth ruler: `np.copyto` of N*C floats, or for the elementwise "
        "losses `np.add(x, y, out=)` (the bytes of the fused pass); each bench module "
        "says which: fastloss/copy near 1 means memory speed. "
        "others' load: cores other processes took while the row was measured (the "
        f"most over its cases); `!` above {LOAD_LIMIT}: the row is suspect.",
        "",
    ]
    header = (["op", "N x C", "threads"] + [title for _, title in IMPLS]
              + ["torch/fastloss", "numpy/fastloss", "sklearn/fastloss", "fastloss/copy",
                 "others' load"])
    lines.append("| " + " | ".join(header) + " |")
    align = ["---"] * 2 + ["---:"] * (len(header) - 2)  # text left, numbers right
    lines.append("|" + "|".join(align) + "|")
    by_size = sorted(_medians(benchmarks).items(),
                     key=lambda item: (item[0][0], item[0][1] * item[0][2], item[0][2:]))
    for (op, n, c, threads), m in by_size:
        fl = m.get("fastloss")
        cells = [op, f"{n}x{c}", str(threads)] + [_fmt_ms(m.get(impl)) for impl, _ in IMPLS]
        cells += [_fmt_ratio(m.get("torch"), fl), _fmt_ratio(m.get("numpy"), fl),
                  _fmt_ratio(m.get("sklearn"), fl), _fmt_ratio(fl, m.get("copy")),
                  _fmt_load(m.get("load"))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def pytest_sessionstart(session):
    _START["cpu"] = _cpu_seconds()


@pytest.fixture(autouse=True)
def _record_background_load(request):
    """extra_info["background_load"]: cores other processes took during a benchmark."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    benchmark = request.getfixturevalue("benchmark")
    start = _cpu_seconds()
    yield
    benchmark.extra_info["background_load"] = other_cores(start, _cpu_seconds())


def pytest_benchmark_update_machine_info(config, machine_info):
    """Saved JSON (--benchmark-autosave/--benchmark-json) carries the same facts."""
    machine_info["fastloss_bench"] = dict(machine_facts())


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After pytest-benchmark's own tables: the ratio table, also saved as markdown."""
    session = getattr(config, "_benchmarksession", None)  # pytest-benchmark's state
    benchmarks = getattr(session, "benchmarks", None)
    if not benchmarks:
        return
    lines = ratio_table(benchmarks)
    REPORT.write_text("\n".join(lines) + "\n")
    terminalreporter.write_sep("=", "fastloss ratio table")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(written to {REPORT})")

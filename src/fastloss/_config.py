"""The library-wide thread default (one helper resolves ``n_threads`` for every call)."""
import numbers
import os

__all__ = ["set_num_threads", "get_num_threads"]

_default_threads = None

# Far more threads than cores only oversubscribe them, and an OpenMP runtime that cannot
# create the team it is asked for may abort the process: counts above this are refused
# (an argument) or lowered to it (OMP_NUM_THREADS).
MAX_THREADS = 1024


def _check_threads(n, name="n_threads"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer or None, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    if n > MAX_THREADS:
        raise ValueError(f"{name} must be at most {MAX_THREADS}, got {n}")
    return n


def _usable_cores():
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, MAX_THREADS)


_cores = _usable_cores()  # read once: a system call is too slow for every kernel call


def _threads_from_environment():
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value.isdigit() and int(value) >= 1:
        return min(int(value), MAX_THREADS)
    return _cores


def set_num_threads(n):
    """Set the number of threads fastloss kernels use when ``n_threads`` is None.

    Parameters
    ----------
    n : int or None
        Threads per kernel call, 1 to ``MAX_THREADS`` (1024). ``None`` restores the
        default: ``OMP_NUM_THREADS`` if set (lowered to 1024), else the cores this
        process may run on.

    Notes
    -----
    Results never depend on the thread count: every reduction is summed in fixed
    blocks, in a fixed order. Small inputs run on one thread whatever is set here.

    Examples
    --------
    >>> import fastloss
    >>> fastloss.set_num_threads(1)
    >>> fastloss.get_num_threads()
    1
    >>> fastloss.set_num_threads(None)
    """
    global _default_threads
    _default_threads = None if n is None else _check_threads(n, "n")


def get_num_threads():
    """The number of threads a kernel call uses by default (see `set_num_threads`).

    Examples
    --------
    >>> import fastloss
    >>> fastloss.get_num_threads() >= 1
    True
    """
    if _default_threads is not None:
        return _default_threads
    return _threads_from_environment()


def resolve_threads(n_threads):
    """``n_threads`` as given to a public function -> the positive int the kernel gets."""
    if n_threads is None:
        return get_num_threads()
    return _check_threads(n_threads)

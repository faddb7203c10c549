"""What this build of fastloss is: version, OpenMP, compiler, SIMD paths, threads."""
import platform
from importlib import metadata

import numpy as np

from . import _kernels
from ._config import get_num_threads

try:
    __version__ = metadata.version("fastloss")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"


def build_info():
    """Facts about this build and the machine it runs on.

    Returns
    -------
    dict
        ``version``; ``openmp`` (bool: False means every kernel runs serially);
        ``openmp_max_threads``; ``compiler`` (the C compiler of the kernels);
        ``simd_paths`` (the code paths compiled in: on x86-64 with GCC, baseline SSE2,
        AVX2+FMA and AVX-512 clones chosen at load time, since wheels are built without
        -march=native); ``simd_active`` (the path this CPU runs); ``default_threads``
        (`fastloss.get_num_threads()`); ``numpy``; ``python``; ``machine``.

    Examples
    --------
    >>> import fastloss
    >>> info = fastloss.build_info()
    >>> sorted(info)[:3]
    ['compiler', 'default_threads', 'machine']
    """
    info = {"version": __version__}
    info.update(_kernels.build_facts())
    info["default_threads"] = get_num_threads()
    info["numpy"] = np.__version__
    info["python"] = platform.python_version()
    info["machine"] = platform.machine()
    return info

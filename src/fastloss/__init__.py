"""fastloss: fast, exact losses with fused forward+backward for NumPy.

The kernels are C with OpenMP behind Cython; `fastloss.reference` holds a plain NumPy
twin of each one.
"""
import os as _os

# libgomp reads its settings once, when it loads (with fastloss._kernels, just below).
# By default its worker threads spin for a while after each parallel region; when kernel
# calls alternate with OpenBLAS calls (a network's forward and backward pass), the
# spinning threads take the cores that BLAS's threads need, and a training step runs up
# to 10x slower. A short spin keeps back-to-back kernel calls as fast (measured) and
# frees the cores within microseconds. Only a default: a user's GOMP_SPINCOUNT or
# OMP_WAIT_POLICY wins, and a libgomp loaded before fastloss keeps its own settings.
_SPIN_DEFAULT = not {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY"} & set(_os.environ)
if _SPIN_DEFAULT:
    _os.environ["GOMP_SPINCOUNT"] = "1000"
from . import _kernels  # noqa: E402
if _SPIN_DEFAULT:
    del _os.environ["GOMP_SPINCOUNT"]  # not imposed on anything loaded later

from . import binary, clustering, composite, divergence, gradient_check, margin  # noqa: E402
from . import datasets, landscape, nn, optim, regression, regularizers, train  # noqa: E402
from ._build import __version__, build_info
from ._config import get_num_threads, set_num_threads
from .binary import *  # noqa: F401,F403
from .clustering import *  # noqa: F401,F403
from .composite import *  # noqa: F401,F403
from .divergence import *  # noqa: F401,F403
from .gradient_check import *  # noqa: F401,F403
from .losses import CrossEntropyLoss, NLLLoss, cross_entropy, nll_loss
from .margin import *  # noqa: F401,F403
from .regression import *  # noqa: F401,F403
from .regularizers import *  # noqa: F401,F403
from .softmax import log_softmax, logsumexp, softmax

__all__ = [
    "__version__",
    "build_info",
    "get_num_threads",
    "set_num_threads",
    "CrossEntropyLoss",
    "NLLLoss",
    "cross_entropy",
    "nll_loss",
    "log_softmax",
    "logsumexp",
    "softmax",
]
for _module in (regression, binary, margin, divergence, clustering, regularizers, composite,
                gradient_check):
    __all__ += _module.__all__
del _module

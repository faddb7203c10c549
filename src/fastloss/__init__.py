"""fastloss: fast, exact losses with fused forward+backward for NumPy.

The kernels are C with OpenMP behind Cython; `fastloss.reference` holds a plain NumPy
twin of each one.
"""
from . import binary, clustering, composite, divergence, gradient_check, margin, regression
from . import datasets, nn, optim, regularizers, train
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

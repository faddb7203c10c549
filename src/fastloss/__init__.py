"""fastloss: fast, exact losses with fused forward+backward for NumPy.

The kernels are C with OpenMP behind Cython; `fastloss.reference` holds a plain NumPy
twin of each one.
"""
from ._build import __version__, build_info
from ._config import get_num_threads, set_num_threads
from .losses import CrossEntropyLoss, NLLLoss, cross_entropy, nll_loss
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

"""Plain NumPy twins of the fastloss kernels: the same maths, written for clarity.

Every function computes in float64 and returns the input's dtype, so that tests can
compare the kernels with it in both float32 and float64. Nothing here is fast. One
module per kernel family, mirroring csrc/.
"""
from . import _binary, _cluster, _composite, _divergence, _margin, _regression, _regularizers
from . import _nn, _optim, _softmax
from ._binary import *  # noqa: F401,F403
from ._cluster import *  # noqa: F401,F403
from ._composite import *  # noqa: F401,F403
from ._divergence import *  # noqa: F401,F403
from ._margin import *  # noqa: F401,F403
from ._nn import *  # noqa: F401,F403
from ._optim import *  # noqa: F401,F403
from ._regression import *  # noqa: F401,F403
from ._regularizers import *  # noqa: F401,F403
from ._softmax import *  # noqa: F401,F403

__all__ = [name for module in (_softmax, _regression, _binary, _margin, _divergence,
                               _cluster, _regularizers, _composite, _optim, _nn)
           for name in module.__all__]

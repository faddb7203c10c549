"""Small neural networks on one flat parameter buffer: layers, `Sequential` and `MLP`.

A model is a tree of layers. ``forward(X)`` keeps what ``backward`` needs;
``backward(grad_output)`` OVERWRITES the parameter gradients and returns the gradient
with respect to the input. Any fastloss loss plugs in through its ``value_and_grad``::

    logits = model.forward(X)
    value, d_logits = loss.value_and_grad(logits, y)
    d_X = model.backward(d_logits)

One flat buffer
---------------
All parameters of a model are views into one contiguous 1-D array,
``model.flat_params``, and their gradients views into another, ``model.flat_grads``
(same layout), so an optimizer step is one kernel call over the whole model and a
direction in parameter space is one vector. A `Sequential` re-homes the parameters
of the layers it is given into its own buffer (copying their values); the layers'
attributes (``layer.weight``, ``layer.flat_params``, ...) then view the new buffer.
A layer belongs to at most one `Sequential`.

Layout and names follow PyTorch: `Linear` holds ``weight`` of shape
``(out_features, in_features)`` (one row per output unit) and ``bias`` of shape
``(out_features,)``, and computes ``X @ weight.T + bias``; in a `Sequential` the
parameters are named ``"<index>.weight"``, ``"<index>.bias"``, where activations take
indices too.

Kernels
-------
Matrix products go through NumPy (BLAS). The elementwise rest runs in C: a `Linear`
followed by an activation inside a `Sequential` is fused, ``A = act(X @ W.T + b)``
with the bias and the activation in one pass over the product, and its backward
``dZ = dA * act'(Z + b)`` with the bias gradient (column sums of dZ, in double, in
fixed blocks of rows: bitwise identical for every ``n_threads``) in one pass too.
Standalone activation layers call the same kernel without a bias. The number of BLAS
threads is NumPy's business (``OPENBLAS_NUM_THREADS``), not ``n_threads``'.

Examples
--------
>>> import numpy as np, fastloss
>>> model = fastloss.nn.MLP([2, 8, 3], activation="relu", seed=0)
>>> model
Sequential(Linear(2, 8), ReLU(), Linear(8, 3))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> model.bias_mask()
[False, True, False, True]
>>> model.flat_params.shape, np.shares_memory(model.parameters()[0], model.flat_params)
((51,), True)
>>> X, y = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([0, 2])
>>> value, grads = model.value_and_grad(fastloss.CrossEntropyLoss(), X, y)
>>> [g.shape for g in grads]
[(8, 2), (8,), (3, 8), (3,)]
>>> np.shares_memory(grads[0], model.flat_grads)
True
"""
import math
import numbers

import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import as_float_array

__all__ = ["Module", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "GELU", "Dropout",
           "Sequential", "MLP", "calculate_gain", "init_weight", "INITS"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Initializer names (with their aliases) -> (distribution, scale rule).
INITS = ("he_uniform", "he_normal", "xavier_uniform", "xavier_normal", "pytorch")
_INIT_ALIASES = {"he": "he_uniform", "kaiming_uniform": "he_uniform",
                 "kaiming_normal": "he_normal", "xavier": "xavier_uniform",
                 "glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal"}


def _check_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


def _check_size(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(value)


def _as_model_array(name, x, dtype, ndim=2):
    """x as a C-contiguous array of the model's dtype with `ndim` dimensions; converted
    only without loss (float64 data into a float32 model is a TypeError)."""
    a = as_float_array(name, x)
    if a.dtype != dtype:
        if not np.can_cast(a.dtype, dtype, casting="safe"):
            raise TypeError(f"{name} has dtype {a.dtype.name} but the model is {dtype.name}; "
                            f"pass {name}.astype(np.{dtype.name})")
        a = a.astype(dtype)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D (samples x features), got shape {a.shape}")
    return a


# ---- initializers (PyTorch's formulas) ------------------------------------------------

def calculate_gain(nonlinearity, param=None):
    """The recommended gain of an initializer for a nonlinearity, as
    ``torch.nn.init.calculate_gain``.

    ================= ==================================
    nonlinearity      gain
    ================= ==================================
    linear, identity,
    sigmoid           1
    tanh              5/3
    relu              sqrt(2)
    leaky_relu        sqrt(2 / (1 + negative_slope^2)),
                      `param` the slope (default 0.01)
    selu              3/4
    ================= ==================================

    Examples
    --------
    >>> from fastloss.nn import calculate_gain
    >>> calculate_gain("relu") == 2 ** 0.5, calculate_gain("tanh")
    (True, 1.6666666666666667)
    """
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, (bool, np.bool_)) or not isinstance(slope, numbers.Real):
            raise TypeError(f"param must be a number (the negative slope), got {param!r}")
        return math.sqrt(2.0 / (1 + float(slope) ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _init_name(init):
    name = _INIT_ALIASES.get(init, init)
    if name not in INITS:
        raise ValueError(f"init must be one of {INITS + tuple(_INIT_ALIASES)}, got {init!r}")
    return name


def init_weight(weight, init="he_uniform", gain=None, seed=None):
    """Fill a (fan_out, fan_in) weight in place with a seeded initializer; returns it.

    With ``fan_in = weight.shape[1]``, ``fan_out = weight.shape[0]`` and `gain` (default:
    `calculate_gain("relu")` for He, 1 for Xavier), PyTorch's formulas:

    - ``"he_uniform"`` (alias ``"he"``, ``"kaiming_uniform"``): U(-b, b),
      ``b = gain * sqrt(3 / fan_in)``;
    - ``"he_normal"`` (``"kaiming_normal"``): N(0, std^2), ``std = gain / sqrt(fan_in)``;
    - ``"xavier_uniform"`` (``"xavier"``, ``"glorot_uniform"``): U(-b, b),
      ``b = gain * sqrt(6 / (fan_in + fan_out))``;
    - ``"xavier_normal"`` (``"glorot_normal"``): ``std = gain * sqrt(2 / (fan_in +
      fan_out))``;
    - ``"pytorch"``: ``torch.nn.Linear``'s default, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      (He uniform with gain sqrt(1/3)); `gain` must be None.

    The numbers are drawn in float64 from ``numpy.random.default_rng(seed)`` (or the
    Generator passed as `seed`) and rounded to the weight's dtype, so float32 and
    float64 weights from one seed agree.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.nn import init_weight
    >>> w = init_weight(np.empty((64, 2)), "he_uniform", seed=0)
    >>> bool(np.abs(w).max() <= 2 ** 0.5 * (3 / 2) ** 0.5)
    True
    """
    name = _init_name(init)
    if not isinstance(weight, np.ndarray) or weight.ndim != 2:
        raise ValueError(f"weight must be a 2-D array (fan_out, fan_in), got {weight!r}")
    fan_out, fan_in = weight.shape
    if name == "pytorch":
        if gain is not None:
            raise ValueError(f"init='pytorch' has a fixed gain; got gain={gain!r}")
        gain = math.sqrt(1.0 / 3)
        name = "he_uniform"
    if gain is None:
        gain = calculate_gain("relu") if name.startswith("he") else 1.0
    if isinstance(gain, (bool, np.bool_)) or not isinstance(gain, numbers.Real) \
            or not gain > 0 or not math.isfinite(gain):
        raise ValueError(f"gain must be a finite number > 0, got {gain!r}")
    rng = np.random.default_rng(seed)
    if name == "he_uniform":
        bound = gain * math.sqrt(3.0 / fan_in)
        weight[...] = rng.uniform(-bound, bound, size=weight.shape)
    elif name == "he_normal":
        weight[...] = rng.normal(0.0, gain / math.sqrt(fan_in), size=weight.shape)
    elif name == "xavier_uniform":
        bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
        weight[...] = rng.uniform(-bound, bound, size=weight.shape)
    else:
        weight[...] = rng.normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)),
                                 size=weight.shape)
    return weight


# ---- the module protocol ------------------------------------------------------------

class Module:
    """Base of every layer and container.

    Attributes
    ----------
    flat_params, flat_grads : ndarray, 1-D, the model's dtype
        Every parameter (gradient) is a view into these, in `named_parameters` order.
    training : bool
        True after `train()` (the default), False after `eval()`; only `Dropout`
        behaves differently.
    n_threads : int or None
        Threads of the C kernels (None: `fastloss.get_num_threads()`).
    """

    _param_names = ()  # own parameters, in order: attribute names
    _bias_names = ()   # which of them are biases

    def __init__(self, dtype=np.float64, n_threads=None):
        self.dtype = _check_dtype(dtype)
        if n_threads is not None:
            resolve_threads(n_threads)
        self._n_threads = n_threads
        self.training = True
        self._owner = None
        self._forwarded = False
        self._output_shape = None

    # -- threads: a container passes its setting down
    @property
    def n_threads(self):
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value):
        if value is not None:
            resolve_threads(value)
        self._n_threads = value
        for child in self._children():
            child.n_threads = value

    def _children(self):
        return ()

    # -- parameters
    def _slots(self):
        """(name, module, attribute, is_bias) of every parameter of the tree, in order."""
        slots = [(a, self, a, a in self._bias_names) for a in self._param_names]
        for i, child in enumerate(self._children()):
            slots += [(f"{i}.{n}", m, a, b) for n, m, a, b in child._slots()]
        return slots

    def _bind(self, flat_params, flat_grads):
        """Make every parameter of the tree a view into flat_params (values copied from
        the current arrays), its gradient a view into flat_grads (zeroed)."""
        self.flat_params, self.flat_grads = flat_params, flat_grads
        offset = 0
        for attribute in self._param_names:
            value = getattr(self, attribute)
            size = value.size
            view = flat_params[offset:offset + size].reshape(value.shape)
            view[...] = value
            grad = flat_grads[offset:offset + size].reshape(value.shape)
            grad[...] = 0
            setattr(self, attribute, view)
            setattr(self, attribute + "_grad", grad)
            offset += size
        for child in self._children():
            size = child.flat_params.size
            child._bind(flat_params[offset:offset + size], flat_grads[offset:offset + size])
            offset += size

    def __setstate__(self, state):
        # pickle and copy.deepcopy store every view as an array of its own: make the
        # parameters and gradients views of the flat buffers again (from the root, whose
        # children are complete by then), or set_flat would change nothing
        self.__dict__.update(state)
        if self._owner is None and getattr(self, "flat_params", None) is not None:
            grads = self.flat_grads.copy()
            self._bind(self.flat_params, self.flat_grads)
            self.flat_grads[...] = grads

    def _home(self):
        """Gather the tree's parameters into a fresh pair of flat buffers."""
        total = sum(getattr(m, a).size for _, m, a, _ in self._slots())
        self._bind(np.empty(total, dtype=self.dtype), np.zeros(total, dtype=self.dtype))

    def named_parameters(self):
        """[(name, view into flat_params)] in order: "weight", "bias" for a layer,
        "<index>.weight", "<index>.bias" in a `Sequential`."""
        return [(name, getattr(m, a)) for name, m, a, _ in self._slots()]

    def parameters(self):
        """The parameters: views into `flat_params`, in order."""
        return [getattr(m, a) for _, m, a, _ in self._slots()]

    def gradients(self):
        """The gradients: views into `flat_grads`, aligned with `parameters()`."""
        return [getattr(m, a + "_grad") for _, m, a, _ in self._slots()]

    def bias_mask(self):
        """[bool] aligned with `parameters()`: which parameters are biases."""
        return [is_bias for _, _, _, is_bias in self._slots()]

    def get_flat(self):
        """A copy of `flat_params`."""
        return self.flat_params.copy()

    def set_flat(self, theta):
        """Copy theta (1-D, ``flat_params.size`` entries, the model's dtype or one that
        converts to it without loss) into `flat_params`."""
        t = np.asarray(theta)
        if t.dtype.kind not in "fiu" or not np.can_cast(t.dtype, self.dtype, casting="safe"):
            raise TypeError(f"theta has dtype {t.dtype.name}, which does not convert to the "
                            f"model's {self.dtype.name} without loss; pass "
                            f"theta.astype(np.{self.dtype.name})")
        if t.shape != self.flat_params.shape:
            raise ValueError(f"theta must have shape {self.flat_params.shape} (one entry per "
                             f"parameter), got {t.shape}")
        self.flat_params[...] = t

    # -- modes
    def train(self, mode=True):
        """Training mode (Dropout active); returns self."""
        self.training = bool(mode)
        for child in self._children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (Dropout is the identity); returns self."""
        return self.train(False)

    # -- passes
    @property
    def in_features(self):
        """Columns the model expects, or None where any width goes."""
        return None

    def forward(self, X):
        """The output for X (N, in_features); keeps what `backward` needs (a reference
        to X among it: do not modify X before `backward`)."""
        X = self._check_input(X)
        self._forwarded = False
        out = self._forward(X, True, self.training)
        self._forwarded, self._output_shape = True, out.shape
        return out

    __call__ = forward

    def predict(self, X):
        """The output for X in evaluation mode, keeping no state: the last `forward`
        can still be back-propagated."""
        return self._forward(self._check_input(X), False, False)

    def backward(self, grad_output):
        """Back-propagate d(loss)/d(output) of the last `forward`: overwrites the
        parameter gradients (`flat_grads`), returns d(loss)/d(X)."""
        if not self._forwarded:
            raise ValueError(f"{self!r}: backward called before forward; run "
                             f"forward(X) first (predict keeps no state)")
        g = _as_model_array("grad_output", grad_output, self.dtype, ndim=len(self._output_shape))
        if g.shape != self._output_shape:
            raise ValueError(f"grad_output must have the shape of the last forward's output "
                             f"{self._output_shape}, got {g.shape}")
        return self._backward(g)

    def value_and_grad(self, loss, X, y):
        """`fastloss.train.fit`'s protocol: forward, ``loss.value_and_grad(output, y)``,
        backward; returns ``(float value, gradients())``."""
        value, grad = loss.value_and_grad(self.forward(X), y)
        self.backward(grad)
        return float(value), self.gradients()

    def value(self, loss, X, y):
        """The loss of `predict(X)` (evaluation mode) against y, as a float."""
        return float(loss(self.predict(X), y))

    def _check_input(self, X):
        X = _as_model_array("X", X, self.dtype)
        width = self.in_features
        if width is not None and X.shape[1] != width:
            raise ValueError(f"X must have {width} columns (the in_features of {self!r}), "
                             f"got shape {X.shape}")
        return X

    def _threads(self):
        return resolve_threads(self._n_threads)

    def _forward(self, X, keep, training):
        raise NotImplementedError

    def _backward(self, grad):
        raise NotImplementedError


def _no_params(module):
    module.flat_params = np.empty(0, dtype=module.dtype)
    module.flat_grads = np.empty(0, dtype=module.dtype)


# ---- layers ---------------------------------------------------------------------------

class _Activation(Module):
    """An elementwise activation (a kernel of csrc/nn.h, no parameters)."""

    _kernel_name = "identity"

    def __init__(self, *, dtype=np.float64, n_threads=None):
        super().__init__(dtype, n_threads)
        _no_params(self)
        self._saved = None

    @property
    def _code(self):
        return _kernels.ACTIVATIONS[self._kernel_name]

    _slope = 0.0

    def _forward(self, X, keep, training):
        out = np.empty_like(X)
        _kernels.bias_act_fwd(X, None, self._code, self._slope, out, self._threads())
        if keep:
            self._saved = (X, out)
        return out

    def _backward(self, grad):
        X, out = self._saved
        grad_in = np.empty_like(grad)
        _kernels.bias_act_bwd(grad, X, None, out, self._code, self._slope, grad_in, None,
                              None, self._threads())
        return grad_in

    def __repr__(self):
        return f"{type(self).__name__}()"


class Sigmoid(_Activation):
    """``sigmoid(x) = 1 / (1 + exp(-x))``, elementwise; derivative ``s (1 - s)``.

    Evaluated from ``exp(-|x|)``: no overflow, relative accuracy of a few ulp (results
    below the smallest normal number may be flushed to 0). NaN gives NaN; -inf gives 0,
    +inf gives 1.
    """

    _kernel_name = "sigmoid"


class Tanh(_Activation):
    """``tanh(x)``, elementwise; derivative ``1 - tanh(x)^2``.

    Evaluated as ``-m / (2 + m)``, ``m = expm1(-2|x|)`` with the sign of x: a few ulp
    of relative accuracy everywhere, tiny x included. NaN gives NaN, +-inf gives +-1.
    """

    _kernel_name = "tanh"


class ReLU(_Activation):
    """``max(x, 0)``, elementwise. The derivative at 0 is taken as 0 (a subgradient, as
    PyTorch); NaN gives NaN forward and passes the gradient through backward."""

    _kernel_name = "relu"


class LeakyReLU(_Activation):
    """``x if x > 0 else negative_slope * x``, elementwise (``torch.nn.LeakyReLU``).

    The derivative at 0 is `negative_slope` (PyTorch's choice).
    """

    _kernel_name = "leaky_relu"

    def __init__(self, negative_slope=0.01, *, dtype=np.float64, n_threads=None):
        super().__init__(dtype=dtype, n_threads=n_threads)
        if isinstance(negative_slope, (bool, np.bool_)) or not isinstance(
                negative_slope, numbers.Real) or not math.isfinite(negative_slope):
            raise ValueError(f"negative_slope must be a finite number, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    @property
    def _slope(self):
        return self.negative_slope

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class GELU(_Activation):
    """Gaussian error linear unit, ``torch.nn.GELU``.

    ``approximate="none"``: ``x Phi(x)``, Phi the standard normal CDF, computed as
    ``erfc(-x / sqrt 2) / 2`` (accurate in both tails; libm's erfc, not vectorized);
    derivative ``Phi(x) + x phi(x)``. ``approximate="tanh"``: ``0.5 x (1 + tanh(u))``,
    ``u = sqrt(2/pi) (x + 0.044715 x^3)``, computed as ``x sigmoid(2u)``. Both give
    NaN for -inf (``-inf * 0``, as PyTorch) and +inf for +inf.
    """

    def __init__(self, approximate="none", *, dtype=np.float64, n_threads=None):
        super().__init__(dtype=dtype, n_threads=n_threads)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    @property
    def _kernel_name(self):
        return "gelu" if self.approximate == "none" else "gelu_tanh"

    def __repr__(self):
        return "GELU()" if self.approximate == "none" else "GELU(approximate='tanh')"


class Dropout(Module):
    """Inverted dropout, ``torch.nn.Dropout``: in training mode each entry is zeroed
    with probability `p` and the others scaled by ``1 / (1 - p)``; in evaluation mode
    (and in `predict`) the identity.

    The masks come from ``numpy.random.default_rng(seed)``: a fresh mask per training
    forward, the same sequence of masks for the same seed. `backward` multiplies by
    the last mask. ``p = 1`` zeroes everything.
    """

    def __init__(self, p=0.5, seed=0, *, dtype=np.float64, n_threads=None):
        super().__init__(dtype, n_threads)
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) \
                or not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        _no_params(self)
        self._mask = None

    def _forward(self, X, keep, training):
        if not training or self.p == 0.0:
            if keep:
                self._mask = None
            return X.copy()
        keep_entry = self._rng.random(X.shape) >= self.p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        mask = keep_entry.astype(self.dtype) * self.dtype.type(scale)
        if keep:
            self._mask = mask
        return X * mask

    def _backward(self, grad):
        return grad.copy() if self._mask is None else grad * self._mask

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Linear(Module):
    """Dense layer, ``torch.nn.Linear``: ``Y = X @ weight.T + bias``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    init : str, default "he"
        See `init_weight`: "he"/"he_uniform", "he_normal", "xavier"/"xavier_uniform",
        "xavier_normal", "pytorch". The bias starts at 0 (U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) with "pytorch", as PyTorch).
    gain : float, optional
        The initializer's gain (default: see `init_weight`).
    seed : int or numpy.random.Generator, default 0
    dtype : float32 or float64, default float64
    n_threads : int, optional

    Attributes
    ----------
    weight : ndarray (out_features, in_features)
    bias : ndarray (out_features,) or None
    weight_grad, bias_grad : their gradients after `backward`.
    """

    _param_names = ("weight", "bias")
    _bias_names = ("bias",)

    def __init__(self, in_features, out_features, bias=True, *, init="he", gain=None, seed=0,
                 dtype=np.float64, n_threads=None):
        super().__init__(dtype, n_threads)
        self._in = _check_size("in_features", in_features)
        self.out_features = _check_size("out_features", out_features)
        rng = np.random.default_rng(seed)
        self.weight = init_weight(np.empty((self.out_features, self._in)), init, gain, rng)
        if not bias:
            self._param_names = ("weight",)
            self.bias = None
            self.bias_grad = None
        elif _init_name(init) == "pytorch":
            bound = 1.0 / math.sqrt(self._in)
            self.bias = rng.uniform(-bound, bound, size=self.out_features)
        else:
            self.bias = np.zeros(self.out_features)
        self._home()
        self._saved = None

    @property
    def in_features(self):
        return self._in

    def _forward(self, X, keep, training, activation=None):
        """X @ W.T + b, followed by `activation` (an _Activation or None) in one pass."""
        Z = np.matmul(X, self.weight.T)
        if activation is None:
            if self.bias is not None:
                np.add(Z, self.bias, out=Z)
            out = Z
        else:
            out = np.empty_like(Z)
            _kernels.bias_act_fwd(Z, self.bias, activation._code, activation._slope, out,
                                  self._threads())
        if keep:
            self._saved = (X, Z, out, activation)
        return out

    def _backward(self, grad):
        X, Z, out, activation = self._saved
        nt = self._threads()
        workspace = (None if self.bias is None else
                     np.empty(_kernels.bias_act_workspace_len(*grad.shape)))
        if activation is None:
            grad_z = grad
            if self.bias is not None:
                _kernels.bias_act_bwd(grad, None, None, None, _kernels.ACTIVATIONS["identity"],
                                      0.0, None, self.bias_grad, workspace, nt)
        else:
            grad_z = np.empty_like(grad)
            _kernels.bias_act_bwd(grad, Z, self.bias, out, activation._code,
                                  activation._slope, grad_z, self.bias_grad, workspace, nt)
        np.matmul(grad_z.T, X, out=self.weight_grad)
        return np.matmul(grad_z, self.weight)

    def __repr__(self):
        extra = "" if self.bias is not None else ", bias=False"
        return f"Linear({self._in}, {self.out_features}{extra})"


# ---- containers -------------------------------------------------------------------------

def _out_features(module):
    """Columns a module produces, or None where it keeps its input's width."""
    if isinstance(module, Linear):
        return module.out_features
    if isinstance(module, Sequential):
        return module.out_features
    return None


class Sequential(Module):
    """Layers applied in order, on one flat parameter buffer.

    ``Sequential(Linear(2, 64), ReLU(), Linear(64, 3))``: the layers' parameters are
    copied into this container's `flat_params` and the layers' attributes re-pointed
    there, so every view stays valid. A `Linear` directly followed by an activation runs
    fused (one C pass for bias, activation and, backward, the bias gradient).

    Parameters
    ----------
    *layers : Module
        At least one; all of one dtype; consecutive widths must match; a layer can
        belong to one container only.
    n_threads : int, optional
        Given: set on every layer.

    Raises
    ------
    ValueError
        Mismatched widths, no layers, a layer already in a container.
    TypeError
        A layer that is not a Module, or layers of different dtypes.
    """

    def __init__(self, *layers, n_threads=None):
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layer {i} must be a fastloss.nn Module, got "
                                f"{type(layer).__name__}")
            if layer._owner is not None:
                raise ValueError(f"layer {i} ({layer!r}) already belongs to another "
                                 f"Sequential; create a new layer")
            if layer.dtype != layers[0].dtype:
                raise TypeError(f"all layers must have one dtype: layer 0 is "
                                f"{layers[0].dtype.name}, layer {i} is {layer.dtype.name}")
        width, width_from = None, None
        for i, layer in enumerate(layers):
            expected = layer.in_features
            if expected is not None and width is not None and expected != width:
                raise ValueError(
                    f"layer {i} ({layer!r}) expects {expected} input features but layer "
                    f"{width_from} ({layers[width_from]!r}) gives {width}")
            produced = _out_features(layer)
            if produced is not None:
                width, width_from = produced, i
        super().__init__(layers[0].dtype, None)
        self.layers = list(layers)
        for layer in layers:
            layer._owner = self
        self._home()
        if n_threads is not None:
            self.n_threads = n_threads
        # (layer index, fused activation or None): a Linear takes the activation after it
        self._plan = []
        i = 0
        while i < len(layers):
            fused = (isinstance(layers[i], Linear) and i + 1 < len(layers)
                     and isinstance(layers[i + 1], _Activation))
            self._plan.append((i, layers[i + 1] if fused else None))
            i += 2 if fused else 1

    def _children(self):
        return self.layers

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    @property
    def in_features(self):
        for layer in self.layers:
            if layer.in_features is not None:
                return layer.in_features
        return None

    @property
    def out_features(self):
        for layer in reversed(self.layers):
            produced = _out_features(layer)
            if produced is not None:
                return produced
        return None

    def _forward(self, X, keep, training):
        for i, activation in self._plan:
            layer = self.layers[i]
            if activation is None:
                X = layer._forward(X, keep, training)
            else:
                X = layer._forward(X, keep, training, activation)
        return X

    def _backward(self, grad):
        for i, _ in reversed(self._plan):
            grad = self.layers[i]._backward(grad)
        return grad

    def __repr__(self):
        return f"Sequential({', '.join(map(repr, self.layers))})"


_ACTIVATION_LAYERS = {
    "relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh,
    "gelu": GELU, "gelu_tanh": lambda **kw: GELU("tanh", **kw),
}


def MLP(sizes, activation="relu", seed=0, dtype=np.float64, init=None, *, bias=True,
        negative_slope=0.01, n_threads=None):
    """A multilayer perceptron: ``Sequential(Linear(s0, s1), act, ..., Linear(s_{k-1},
    s_k))``, with no activation after the last layer (it gives logits or predictions).

    Parameters
    ----------
    sizes : sequence of int
        Widths, input first: ``[2, 64, 64, 3]`` has two hidden layers of 64 units.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh"}
    seed : int or numpy.random.Generator, default 0
        One generator draws every layer's weights, first layer first.
    dtype : float32 or float64
    init : str, optional
        See `init_weight`. Default: "he_uniform" for the ReLU family and GELU,
        "xavier_uniform" for sigmoid and tanh. The gain is `calculate_gain` of the
        activation (of "relu" for GELU) for the hidden layers, 1 for the last layer
        ("pytorch" init: its own fixed gain).
    bias : bool, default True
    negative_slope : float, default 0.01
        Of "leaky_relu".
    n_threads : int, optional

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> model = fastloss.nn.MLP([2, 64, 64, 3], seed=0)
    >>> model.flat_params.size, model.predict(np.zeros((5, 2))).shape
    (4547, (5, 3))
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"sizes must list at least two widths (input and output), "
                         f"got {sizes!r}")
    sizes = [_check_size(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    if activation not in _ACTIVATION_LAYERS:
        raise ValueError(f"activation must be one of {tuple(_ACTIVATION_LAYERS)}, "
                         f"got {activation!r}")
    relu_family = activation in ("relu", "leaky_relu", "gelu", "gelu_tanh")
    init = init if init is not None else ("he_uniform" if relu_family else "xavier_uniform")
    pytorch_init = _init_name(init) == "pytorch"
    if activation == "leaky_relu":
        hidden_gain = calculate_gain("leaky_relu", negative_slope)
    else:
        hidden_gain = calculate_gain("relu" if relu_family else activation)
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        gain = None if pytorch_init else (1.0 if last else hidden_gain)
        layers.append(Linear(n_in, n_out, bias, init=init, gain=gain, seed=rng, dtype=dtype))
        if not last:
            if activation == "leaky_relu":
                layers.append(LeakyReLU(negative_slope, dtype=dtype))
            else:
                layers.append(_ACTIVATION_LAYERS[activation](dtype=dtype))
    return Sequential(*layers, n_threads=n_threads)

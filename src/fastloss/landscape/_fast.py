"""The objective of a fastloss.nn model, and the fast path of its loss surfaces.

``NetworkObjective(model, loss, X, y)`` is J(theta) = loss(model(X; theta), y) as a
function of the flat parameter vector. Evaluated one theta at a time it goes through the
model (the serial path). Its ``_fast_surface`` evaluates a whole grid
``theta + alpha d1 + beta d2`` in one C call (csrc/landscape.c) for a multilayer
perceptron (`Sequential` of `Linear` layers, each optionally followed by an activation;
`Dropout`, the identity in evaluation mode, is skipped) with `CrossEntropyLoss` (hard
labels, no label smoothing) or `MSELoss`, reduction "mean" or "sum". Anything else is
evaluated point by point through the serial path, with a warning that says why.

The first layer is affine in the grid coordinates,
``X (W + a D1 + b D2)^T + (c + a e1 + b e2) = P0 + a P1 + b P2``,
so for more than 3 inputs its three products are formed once (BLAS) and shared by every
point; with 1 to 3 inputs the kernel forms ``X W(a, b)^T`` directly, which costs less
than reading three products. The deeper layers are evaluated per point in C, the points
spread over threads; every point is computed whole by one thread, so the grid is
bitwise identical for every thread count.
"""
import contextlib
import threading
import warnings

import numpy as np

from .. import _kernels
from . import _hvp
from .._config import resolve_threads
from .._validation import as_labels
from ..losses import CrossEntropyLoss
from ..nn import Dropout, Linear, Module, Sequential, _Activation
from ..regression import MSELoss

__all__ = ["NetworkObjective"]

# Inputs up to which the kernel forms the first layer itself rather than reading the
# three precomputed products (3 reads per entry against n_inputs multiply-adds).
_DIRECT_FIRST_LAYER_MAX_INPUTS = 3


class _Unsupported(Exception):
    """The model or the loss is outside what the C grid kernel evaluates."""


def _dense_layers(model):
    """[(Linear, activation or None)] of an MLP; _Unsupported for any other model."""
    layers = model.layers if isinstance(model, Sequential) else [model]
    plan = []
    for i, layer in enumerate(layers):
        if isinstance(layer, Linear):
            plan.append([layer, None])
        elif isinstance(layer, Dropout):
            continue
        elif isinstance(layer, _Activation) and plan and plan[-1][1] is None:
            plan[-1][1] = layer
        else:
            raise _Unsupported(
                f"layer {i} ({layer!r}) is not a Linear layer or an activation following "
                f"one (the fast path evaluates Sequential MLPs)")
    if not plan:
        raise _Unsupported(f"{model!r} has no Linear layer")
    if len(plan) > _kernels.MLP_MAX_LAYERS:
        raise _Unsupported(f"{len(plan)} Linear layers, more than the fast path's "
                           f"{_kernels.MLP_MAX_LAYERS}")
    return plan


def _network_description(model, plan):
    """The arrays of csrc/landscape.h's fl_mlp: widths, offsets of weights and biases
    in flat_params, activation codes and slopes."""
    base = model.flat_params.ctypes.data
    item = model.flat_params.itemsize

    def offset(view):
        return (view.ctypes.data - base) // item

    widths = [plan[0][0].in_features] + [layer.out_features for layer, _ in plan]
    return dict(
        widths=np.array(widths, dtype=np.intp),
        weight_offsets=np.array([offset(layer.weight) for layer, _ in plan], dtype=np.intp),
        bias_offsets=np.array([-1 if layer.bias is None else offset(layer.bias)
                               for layer, _ in plan], dtype=np.intp),
        activations=np.array([_kernels.ACTIVATIONS["identity"] if act is None else act._code
                              for _, act in plan], dtype=np.intc),
        slopes=np.array([0.0 if act is None else act._slope for _, act in plan]))


def _loss_description(loss, y, n_samples, n_outputs, dtype):
    """The fields of csrc/landscape.h's fl_surface_loss (as keyword arguments of
    _kernels.mlp_surface); _Unsupported for the other losses and options."""
    reduction = getattr(loss, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise _Unsupported(f"reduction={reduction!r} (the fast path sums or averages)")
    if type(loss) is CrossEntropyLoss:
        if loss.label_smoothing != 0:
            raise _Unsupported(f"label_smoothing={loss.label_smoothing}")
        if np.asarray(y).dtype.kind not in "iu":
            raise _Unsupported("probability targets (the fast path takes class labels)")
        labels = as_labels(y, n_samples, False).astype(np.int64, copy=False)
        outside = (labels != loss.ignore_index) & ((labels < 0) | (labels >= n_outputs))
        if outside.any():
            row = int(np.argmax(outside))
            raise ValueError(f"y[{row}] = {int(labels[row])} is not a class of the model's "
                             f"{n_outputs} outputs (nor ignore_index={loss.ignore_index})")
        kept = labels[labels != loss.ignore_index]
        weight = None
        if loss.weight is not None:
            weight = np.ascontiguousarray(loss.weight, dtype=np.float64)
            if weight.shape != (n_outputs,):
                raise _Unsupported(f"weight of shape {weight.shape} for {n_outputs} classes")
        divisor = 1.0
        if reduction == "mean":
            divisor = float(kept.size if weight is None else weight[kept].sum())
        return dict(loss_kind=_kernels.SURFACE_LOSSES["cross_entropy"], labels=labels,
                    ignore_index=loss.ignore_index, class_weight=weight, targets=None,
                    divisor=divisor)
    if type(loss) is MSELoss:
        targets = np.asarray(y)
        if targets.shape != (n_samples, n_outputs):
            raise _Unsupported(f"targets of shape {targets.shape} for outputs of shape "
                               f"{(n_samples, n_outputs)}")
        if targets.dtype.kind != "f" or not np.can_cast(targets.dtype, dtype, casting="safe"):
            raise _Unsupported(f"targets of dtype {targets.dtype} for a {dtype} model")
        return dict(loss_kind=_kernels.SURFACE_LOSSES["mse"], labels=None, ignore_index=0,
                    class_weight=None, targets=np.ascontiguousarray(targets, dtype=dtype),
                    divisor=float(targets.size) if reduction == "mean" else 1.0)
    raise _Unsupported(f"{type(loss).__name__} (the fast path takes CrossEntropyLoss and "
                       f"MSELoss)")


def _grid_axis(name, values):
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of grid coordinates, got "
                         f"shape {a.shape}")
    if not np.isfinite(a).all():
        at = int(np.argmax(~np.isfinite(a)))
        raise ValueError(f"{name} must be finite, got {float(a[at])} at index {at}")
    return np.ascontiguousarray(a)


class NetworkObjective:
    """J(theta) = loss(model(X; theta), y) for a `fastloss.nn` model, as a function of
    the flat parameter vector (the layout of ``model.flat_params``).

    Parameters
    ----------
    model : fastloss.nn.Module
        Evaluated in evaluation mode (`predict`); its parameters are restored after
        every call, so the objective leaves the model as it found it.
    loss : a fastloss loss object
        Called as ``loss(model.predict(X), y)``.
    X : array_like (N, in_features)
        Converted to the model's dtype when that is exact (else TypeError).
    y : array_like
        The loss's target for X.

    Notes
    -----
    ``objective(theta)``, `grad` and `value_and_grad` evaluate one theta through the
    model. `fastloss.landscape.surface` calls ``_fast_surface`` for a whole grid: one
    C call, parallel over grid points, for an MLP with `CrossEntropyLoss` (class
    labels, no label smoothing) or `MSELoss`, reduction "mean" or "sum"; other models
    and losses are evaluated point by point, with a RuntimeWarning naming the reason.
    The fast grid equals the point-by-point values to rounding: within 1e-12 relative
    in float64, a few 1e-6 relative in float32 (tested), and is bitwise identical for
    every thread count. A NaN parameter gives NaN; infinite network outputs give NaN
    where the serial cross-entropy would give inf.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> from fastloss.landscape import NetworkObjective
    >>> model = fastloss.nn.MLP([2, 8, 3], seed=0)
    >>> X = np.random.default_rng(0).standard_normal((50, 2))
    >>> y = np.arange(50) % 3
    >>> f = NetworkObjective(model, fastloss.CrossEntropyLoss(), X, y)
    >>> theta = model.get_flat()
    >>> d1, d2 = np.eye(2, theta.size)
    >>> grid = f._fast_surface(theta, d1, d2, [-1.0, 0.0, 1.0], [0.0, 0.5])
    >>> grid.shape, bool(np.isclose(grid[1, 0], f(theta), rtol=1e-12))
    ((3, 2), True)
    """

    def __init__(self, model, loss, X, y):
        if not isinstance(model, Module):
            raise TypeError(f"model must be a fastloss.nn Module (e.g. fastloss.nn.MLP), got "
                            f"{type(model).__name__}")
        if not callable(loss):
            raise TypeError(f"loss must be a fastloss loss object, got {type(loss).__name__}")
        self.model, self.loss = model, loss
        self._lock = threading.Lock()
        self.X = model._check_input(X)
        if self.X.shape[0] == 0:
            raise ValueError(f"X must hold at least one sample, got shape {self.X.shape}")
        self.y = np.asarray(y)
        self.n_params = model.flat_params.size
        self.exact_hvp_unavailable = "the model is not an MLP of Linear layers"
        try:
            self._plan = _dense_layers(model)
            self._network = _network_description(model, self._plan)
            self._loss_args = _loss_description(loss, self.y, self.X.shape[0],
                                                self._plan[-1][0].out_features, model.dtype)
            self.fast_path_unavailable = None
        except _Unsupported as why:
            self.fast_path_unavailable = str(why)
        try:
            plan = _dense_layers(model)
            self.exact_hvp_unavailable = _hvp.unsupported_reason(plan, loss)
            if self.exact_hvp_unavailable is None:
                base, item = model.flat_params.ctypes.data, model.flat_params.itemsize
                self._hvp_offsets = [((layer.weight.ctypes.data - base) // item,
                                      -1 if layer.bias is None else
                                      (layer.bias.ctypes.data - base) // item)
                                     for layer, _ in plan]
                self._hvp_plan = plan
                self._hvp_divisor = self._divisor()
        except _Unsupported as why:
            self.exact_hvp_unavailable = str(why)

    def _check_vector(self, name, v):
        a = np.asarray(v)
        if a.dtype.kind not in "fiu" or not np.can_cast(a.dtype, self.model.dtype, "safe"):
            raise TypeError(f"{name} has dtype {a.dtype.name}, which does not convert to the "
                            f"model's {self.model.dtype.name} without loss; pass "
                            f"{name}.astype(np.{self.model.dtype.name})")
        if a.shape != (self.n_params,):
            raise ValueError(f"{name} must have shape ({self.n_params},) (one entry per "
                             f"parameter of the model), got {a.shape}")
        return np.ascontiguousarray(a, dtype=self.model.dtype)

    @contextlib.contextmanager
    def _at(self, theta):
        """The model with parameters theta, in evaluation mode, for the block. One
        thread at a time: the model's weights are shared state, so calls from a thread
        pool are correct (and run one after another)."""
        theta = self._check_vector("theta", theta)
        with self._lock:
            saved, training = self.model.get_flat(), self.model.training
            self.model.set_flat(theta)
            self.model.eval()
            try:
                yield self.model
            finally:
                self.model.set_flat(saved)
                self.model.train(training)

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_lock"]                 # a lock does not travel; each copy has its own
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __call__(self, theta):
        """J(theta), a float."""
        with self._at(theta) as model:
            return float(self.loss(model.predict(self.X), self.y))

    def value_and_grad(self, theta):
        """(J(theta), dJ/dtheta): a float and a 1-D array of the model's dtype."""
        with self._at(theta) as model:
            value, grad_out = self.loss.value_and_grad(model.forward(self.X), self.y)
            model.backward(grad_out)
            return float(value), model.flat_grads.copy()

    def grad(self, theta):
        """dJ/dtheta, a 1-D array of the model's dtype."""
        return self.value_and_grad(theta)[1]

    def hvp(self, theta, v):
        """The exact Hessian-vector product H(theta) v (float64), by the R-operator; a
        NotImplementedError saying why for networks and losses it does not handle
        (`exact_hvp_unavailable`). `hessian_eigs` and `hessian_trace` use it."""
        if self.exact_hvp_unavailable is not None:
            raise NotImplementedError(f"no exact Hessian-vector product for this "
                                      f"objective: {self.exact_hvp_unavailable}")
        theta = self._check_vector("theta", theta)
        v = self._check_vector("v", v)
        return _hvp.network_hvp(self._hvp_plan, self._hvp_offsets, self.loss,
                                self._hvp_divisor, self.X, self.y, theta, v)

    def _divisor(self):
        """What the loss's "mean" divides by ("sum": 1), as the loss itself does."""
        loss = self.loss
        if loss.reduction == "sum":
            return 1.0
        if type(loss) is MSELoss:
            return float(np.asarray(self.y).size)
        labels = np.asarray(self.y).astype(np.int64)
        kept = labels[labels != loss.ignore_index]
        if loss.weight is None:
            return float(kept.size)
        return float(np.asarray(loss.weight, dtype=np.float64)[kept].sum())

    def _fast_surface(self, theta, d1, d2, alphas, betas, n_threads=None):
        """values[i, j] = J(theta + alphas[i] d1 + betas[j] d2), an ndarray of float64
        of shape (len(alphas), len(betas)), in one C call when the model and the loss
        allow it (see the class notes), else point by point with a RuntimeWarning."""
        theta, d1, d2 = (self._check_vector(n, v) for n, v in
                         (("theta", theta), ("d1", d1), ("d2", d2)))
        alphas, betas = _grid_axis("alphas", alphas), _grid_axis("betas", betas)
        nt = resolve_threads(n_threads)
        if self.fast_path_unavailable is not None:
            warnings.warn(f"NetworkObjective: no fast path for this model and loss "
                          f"({self.fast_path_unavailable}); evaluating the "
                          f"{alphas.size * betas.size} grid points one by one",
                          RuntimeWarning, stacklevel=2)
            return np.array([[self(theta + a * d1 + b * d2) for b in betas] for a in alphas],
                            dtype=np.float64)
        net = self._network
        dtype = self.model.dtype
        per_thread = _kernels.mlp_surface_scratch_len(dtype == np.float64, **net)
        scratch = np.empty(per_thread * nt, dtype=dtype)
        values = np.empty((alphas.size, betas.size))
        _kernels.mlp_surface(self.X, self._first_products(theta, d1, d2), self.X.shape[0],
                             theta=theta, d1=d1, d2=d2, alphas=alphas, betas=betas,
                             scratch=scratch, values=values, n_threads=nt, **net,
                             **self._loss_args)
        return values

    def _first_products(self, theta, d1, d2):
        """(3, N, width) array of X W^T + b for the first layer's block of theta, d1
        and d2, or None where the kernel forms the first layer itself."""
        first = self._plan[0][0]
        if first.in_features <= _DIRECT_FIRST_LAYER_MAX_INPUTS:
            return None
        w0 = self._network["weight_offsets"][0]
        b0 = self._network["bias_offsets"][0]
        shape = (first.out_features, first.in_features)
        products = np.empty((3,) + (self.X.shape[0], first.out_features), dtype=theta.dtype)
        for k, v in enumerate((theta, d1, d2)):
            np.matmul(self.X, v[w0:w0 + shape[0] * shape[1]].reshape(shape).T, out=products[k])
            if b0 >= 0:
                products[k] += v[b0:b0 + shape[0]]
        return products

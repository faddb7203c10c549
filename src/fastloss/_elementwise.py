"""The machinery shared by the elementwise losses (regression.py, binary.py): argument
checks, weight broadcasting without copies, and the call of the one C kernel."""

import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import as_float_array, as_target, check_out, check_reduction


def as_view(x):
    """The (n_rows, n_cols) C-order view the kernel walks: the last axis is the row."""
    if x.ndim == 0:
        return x.reshape(1, 1)
    if x.ndim == 1:
        return x.reshape(1, -1)
    return x.reshape(-1, x.shape[-1])


def strided_weight(name, weight, x):
    """A non-negative weight broadcastable to x, as (1-D array of x's dtype, row_stride,
    col_stride) over `as_view(x)`. Scalars, one weight per row (shape (..., 1)) and one
    per column (shape (C,)) are read in place; other broadcasts are expanded once."""
    if weight is None:
        return None, 0, 0
    w = np.asarray(weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array, got dtype {w.dtype.name}")
    try:
        shape = np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"{name} of shape {w.shape} does not broadcast to the input's "
                         f"shape {x.shape}")
    w = np.ascontiguousarray(w, dtype=x.dtype)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        at = np.unravel_index(int(np.flatnonzero(bad)[0]), w.shape)
        raise ValueError(f"{name} must be finite and >= 0, got {name}[{', '.join(map(str, at))}]"
                         f" = {w[at].item()!r}")
    ws = (1,) * (x.ndim - w.ndim) + w.shape
    if all(d == 1 for d in ws):
        return w.reshape(-1), 0, 0
    lead, last = ws[:-1], ws[-1]
    n_cols = x.shape[-1]
    if all(d == 1 for d in lead):
        return w.reshape(n_cols), 0, 1
    if last == 1 and lead == x.shape[:-1]:
        return w.reshape(-1), 1, 0
    if ws != x.shape:
        w = np.ascontiguousarray(np.broadcast_to(w.reshape(ws), x.shape))
    return w.reshape(-1), n_cols, 1


def combine_weights(constructor_weight, sample_weight):
    """Both weights multiply; either may be None."""
    if constructor_weight is None:
        return sample_weight
    if sample_weight is None:
        return constructor_weight
    return np.multiply(constructor_weight, sample_weight)


def unravel(index, shape):
    """A flat index as "[i, j]" for messages."""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(index, shape)) + "]" \
        if shape else "[()]"


class ElementwiseLoss:
    """Base of the elementwise losses: a kind of the C kernel plus its parameters.

    Subclasses set `_kind`, and may override `_params` (the kernel's p0, p1),
    `_domain_error` (the message for an entry outside the domain) and `_weights`."""

    _kind = None

    def __init__(self, reduction="mean", *, n_threads=None):
        self.reduction = check_reduction(reduction)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _params(self):
        return 0.0, 0.0

    def _weights(self, sample_weight):
        """(weight, pos_weight) given to the kernel."""
        return sample_weight, None

    def _domain_error(self, which, index, x, t):
        return ValueError(f"target{unravel(index, t.shape)} = {t.flat[index].item()!r} is outside "
                          f"the domain of {type(self).__name__}")

    def _run(self, input, target, sample_weight, want_grad, out):
        nt = resolve_threads(self.n_threads)
        x = as_float_array("input", input)
        t = as_target(target, x)
        weight, pos_weight = self._weights(sample_weight)
        w, w_rs, w_cs = strided_weight("sample_weight", weight, x)
        pw, pw_rs, pw_cs = strided_weight("pos_weight", pos_weight, x)
        rows, trows = as_view(x), as_view(t)
        loss_out = np.empty_like(rows) if self.reduction == "none" else None
        grad = None
        if want_grad:
            grad = (np.empty_like(rows) if out is None
                    else check_out(out, x.shape, x.dtype, [x, t, w, pw]).reshape(rows.shape))
        p0, p1 = self._params()
        try:
            value, n_clamped = _kernels.elementwise(
                _kernels.ELEMENTWISE_KINDS[self._kind], p0, p1, rows, trows, w, w_rs, w_cs,
                pw, pw_rs, pw_cs, _kernels.REDUCTION_CODES[self.reduction], float(x.size),
                loss_out, grad, nt)
        except _kernels.DomainError as e:
            raise self._domain_error(e.which, e.index, x, t) from None
        self._after_call(n_clamped)
        if loss_out is not None:
            value = loss_out.reshape(x.shape)
            value = value[()] if x.ndim == 0 else value
        else:
            value = x.dtype.type(value)
        if grad is not None:
            grad = out if out is not None else grad.reshape(x.shape)
        return value, grad

    def _after_call(self, n_clamped):
        pass

    def __call__(self, input, target, sample_weight=None):
        """The loss value: a scalar for "mean"/"sum", the per-entry losses for "none"."""
        return self._run(input, target, sample_weight, False, None)[0]

    def value_and_grad(self, input, target, sample_weight=None, out=None):
        """``(value, grad)`` from one fused pass; `grad` is d(value)/d(input), written into
        `out` when given (input's shape and dtype, C-contiguous, writeable, not
        overlapping the other arguments). For reduction="none", entry i of `grad` is
        the derivative of entry i's own loss."""
        return self._run(input, target, sample_weight, True, out)

    def grad(self, input, target, sample_weight=None, out=None):
        """d(value)/d(input) alone (the same pass as `value_and_grad`)."""
        return self._run(input, target, sample_weight, True, out)[1]

    def _options_repr(self):
        return ""

    def __repr__(self):
        options = self._options_repr()
        return (f"{type(self).__name__}({options}{', ' if options else ''}"
                f"reduction={self.reduction!r})")


def _functional(cls, name):
    """The functional twin of a loss class: the value, options as keywords."""
    def loss(input, target, sample_weight=None, *, n_threads=None, **options):
        return cls(n_threads=n_threads, **options)(input, target, sample_weight)
    loss.__name__ = loss.__qualname__ = name
    loss.__doc__ = (f"The value of `{cls.__name__}`, with its options as keywords, e.g. "
                    f"``{name}(input, target, reduction='sum')``.")
    return loss

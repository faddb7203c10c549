"""Argument checks and conversions shared by the public API.

Everything that reaches a kernel passes through here once: C-contiguous arrays of the
kernel's dtype, validated options, and outputs that are safe to write.
"""
import numbers

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def check_real(name, value, low=None, high=None, low_open=False, high_open=False):
    """A finite real option within [low, high] (or open ends), as a float; the messages
    name the option and the value."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    ok = bool(np.isfinite(x))
    if low is not None:
        ok = ok and (x > low if low_open else x >= low)
    if high is not None:
        ok = ok and (x < high if high_open else x <= high)
    if not ok:
        if low is not None and high is not None:
            where = (f" and in {'(' if low_open else '['}{low:g}, "
                     f"{high:g}{')' if high_open else ']'}")
        elif low is not None:
            where = f" and {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            where = f" and {'<' if high_open else '<='} {high:g}"
        else:
            where = ""
        raise ValueError(f"{name} must be finite{where}, got {value!r}")
    return x


def check_flag(name, value):
    """A bool option (Python or NumPy), as a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _dtype_name(dt):
    return np.dtype(dt).name


def as_float_array(name, x):
    """x as a C-contiguous float32/float64 array; converts only without loss.

    float32 and float64 pass through (a copy only when not C-contiguous or not in native
    byte order); float16 becomes float32; integers of at most 32 bits become float64.
    """
    a = np.asarray(x)
    dt = a.dtype
    if dt.kind == "f" and dt.itemsize in (4, 8):
        if not dt.isnative:
            a = a.astype(dt.newbyteorder("="))
    elif dt.kind == "f" and dt.itemsize == 2:
        a = a.astype(np.float32)
    elif dt.kind in "iu" and dt.itemsize <= 4:
        a = a.astype(np.float64)
    else:
        raise TypeError(
            f"{name} must be a float32 or float64 array (or convertible to one without "
            f"loss), got dtype {_dtype_name(dt)}")
    return np.asarray(a, order="C")  # keeps 0-d arrays 0-d, unlike ascontiguousarray


def as_rows(name, x):
    """A 1-D (C,) or 2-D (N, C) float array as a 2-D (N, C) view."""
    a = as_float_array(name, x)
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a.reshape(1, -1)
    raise ValueError(f"{name} must be 1-D (C,) or 2-D (N, C), got shape {a.shape}")


def as_class_rows(input):
    """A classifier's input as (array, its (N, C) rows, whether it was one sample (C,))."""
    x = as_float_array("input", input)
    if x.ndim not in (1, 2):
        raise ValueError(f"input must be 1-D (C,) or 2-D (N, C), got shape {x.shape}")
    one_row = x.ndim == 1
    rows = x.reshape(1, -1) if one_row else x
    if rows.shape[1] == 0:
        raise ValueError(f"input must have at least one class, got shape {x.shape}")
    return x, rows, one_row


def row_outputs(x, rows, reduction, want_grad, out, inputs):
    """The buffers a row kernel writes: per-row losses ("none") and the gradient (into
    `out` when given, checked against `inputs`), as (row_loss or None, grad or None)."""
    row_loss = np.empty(rows.shape[0], dtype=rows.dtype) if reduction == "none" else None
    grad = None
    if want_grad:
        grad = (np.empty_like(rows) if out is None
                else check_out(out, x.shape, x.dtype, inputs).reshape(rows.shape))
    return row_loss, grad


def row_results(value, row_loss, grad, x, one_row, out):
    """(value, grad) as the public API returns them: a scalar of the input's dtype or the
    per-row losses, and the gradient in the input's shape (or `out` itself)."""
    if row_loss is not None:
        value = row_loss[0] if one_row else row_loss
    else:
        value = x.dtype.type(value)
    if grad is not None:
        grad = out if out is not None else grad.reshape(x.shape)
    return value, grad


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_label_smoothing(label_smoothing):
    return check_real("label_smoothing", label_smoothing, low=0.0, high=1.0)


def check_ignore_index(ignore_index):
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(
            ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an integer, got {ignore_index!r}")
    value = int(ignore_index)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"ignore_index must fit in int64, got {value}")
    return value


def check_weight(weight):
    """Class weights as a 1-D float64 array of finite, non-negative values (or None)."""
    if weight is None:
        return None
    w = np.asarray(weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(f"weight must be a 1-D array of floats, got dtype {_dtype_name(w.dtype)}")
    # A private copy: the caller may reuse or overwrite their array (even as `out=`).
    w = np.array(w, dtype=np.float64, order="C", copy=True)
    if w.ndim != 1:
        raise ValueError(f"weight must be 1-D (C,), got shape {w.shape}")
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f"weight must be finite and >= 0, got weight[{j}] = {float(w[j])!r}")
    return w


_ones_cache = {}


def class_weights(weight, n_classes):
    """The weight array the kernel reads: the user's, or (read-only, cached) ones."""
    if weight is None:
        ones = _ones_cache.get(n_classes)
        if ones is None:
            if len(_ones_cache) > 64:
                _ones_cache.clear()
            ones = np.ones(n_classes, dtype=np.float64)
            ones.flags.writeable = False
            _ones_cache[n_classes] = ones
        return ones
    if weight.shape[0] != n_classes:
        raise ValueError(
            f"weight must have one entry per class: expected length {n_classes}, "
            f"got {weight.shape[0]}")
    return weight


def as_labels(target, n_rows, input_is_1d):
    """Hard labels as a C-contiguous int32/int64 array of shape (n_rows,)."""
    t = np.asarray(target)
    dt = t.dtype
    if dt.kind not in "iu":
        raise TypeError(
            f"target must hold integer class labels (int32 or int64) or float "
            f"probabilities, got dtype {_dtype_name(dt)}")
    if dt not in (np.int32, np.int64) or not dt.isnative:
        if not np.can_cast(dt, np.int64, casting="safe"):
            raise TypeError(
                f"target labels of dtype {_dtype_name(dt)} do not fit int64 without loss")
        t = t.astype(np.int64)
    expected = () if input_is_1d else (n_rows,)
    if t.shape != expected:
        raise ValueError(
            f"target labels must have shape {expected} for input of "
            f"{'1-D' if input_is_1d else 'shape (N, C) with N = %d' % n_rows}, got {t.shape}")
    return np.ascontiguousarray(t.reshape(n_rows))


def as_probabilities(target, rows, input_shape):
    """A float target distribution with the input's shape and dtype."""
    t = np.asarray(target)
    if t.shape != tuple(input_shape):
        if t.ndim == 1 and len(input_shape) == 2 and t.shape[0] == input_shape[0]:
            raise TypeError(
                f"target of shape {t.shape} with dtype {_dtype_name(t.dtype)}: class "
                f"labels must be integers (int32/int64); float targets are "
                f"probabilities of the input's shape {tuple(input_shape)}")
        raise ValueError(
            f"target probabilities must have the input's shape {tuple(input_shape)}, "
            f"got {t.shape}")
    if not np.can_cast(t.dtype, rows.dtype, casting="safe"):
        raise TypeError(
            f"target dtype {_dtype_name(t.dtype)} does not convert to the input's dtype "
            f"{_dtype_name(rows.dtype)} without loss; pass target.astype("
            f"np.{_dtype_name(rows.dtype)})")
    return np.ascontiguousarray(t, dtype=rows.dtype).reshape(rows.shape)


def check_out(out, shape, dtype, inputs, name="out"):
    """An output array the caller supplied: right shape and dtype, C-contiguous,
    writeable, and sharing no memory with the arrays the kernel reads."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must have dtype {_dtype_name(dtype)}, got {_dtype_name(out.dtype)}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    for arr in inputs:
        if arr is not None and np.may_share_memory(out, arr):
            raise ValueError(f"{name} overlaps an input array; pass a separate buffer")
    return out


def as_target(target, x, name="target"):
    """The target with the input's shape and dtype, C-contiguous. A target of another
    numeric dtype is converted when every value converts exactly (labels such as -1, 0,
    1 always do), else TypeError."""
    t = np.asarray(target)
    if t.shape != x.shape:
        raise ValueError(f"{name} must have the input's shape {x.shape}, got {t.shape}")
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got dtype {t.dtype.name}")
    if not np.can_cast(t.dtype, x.dtype, casting="safe"):
        converted = t.astype(x.dtype)
        with np.errstate(invalid="ignore"):
            exact = np.array_equal(converted.astype(t.dtype), t, equal_nan=t.dtype.kind == "f")
        if not exact:
            raise TypeError(
                f"{name} of dtype {t.dtype.name} holds values that {x.dtype.name} (the "
                f"input's dtype) cannot represent exactly; pass {name}.astype("
                f"np.{x.dtype.name})")
        t = converted
    return np.ascontiguousarray(t, dtype=x.dtype)

"""Lists of parameter arrays and their gradients: the checks shared by the regularizers
and the optimizers before one C call walks every array (see fl_array_table)."""

import numpy as np


def named_arrays(argname, arrays):
    """A parameter or gradient list as [(name or None, array)]; rejects a bare array."""
    if isinstance(arrays, np.ndarray):
        raise TypeError(f"{argname} must be a list of arrays (or (name, array) pairs, or a "
                        f"dict), got a single ndarray of shape {arrays.shape}")
    if isinstance(arrays, dict):
        return [(str(k), v) for k, v in arrays.items()]
    try:
        items = list(arrays)
    except TypeError:
        raise TypeError(f"{argname} must be a list of arrays, got "
                        f"{type(arrays).__name__}") from None
    return [(str(it[0]), it[1]) if isinstance(it, tuple) and len(it) == 2
            and isinstance(it[0], str) else (None, it) for it in items]


def check_grad(where, g, p, writeable):
    """g as the gradient of parameter p: an ndarray of p's shape and dtype, C-contiguous,
    and writeable when the caller writes into it; `where` names it in the errors."""
    if not isinstance(g, np.ndarray):
        raise TypeError(f"{where} must be a numpy.ndarray, got {type(g).__name__}")
    if g.dtype != p.dtype:
        raise TypeError(f"{where} must have its parameter's dtype {p.dtype.name}, "
                        f"got {g.dtype.name}")
    if g.shape != p.shape:
        raise ValueError(f"{where} must have its parameter's shape {p.shape}, got {g.shape}")
    if not g.flags.c_contiguous:
        raise ValueError(f"{where} must be C-contiguous")
    if writeable and not g.flags.writeable:
        raise ValueError(f"{where} is read-only")
    return g


def check_grads(names, params, grads):
    """Each gradient for its parameter: an ndarray of the same shape and dtype,
    C-contiguous, writeable; names match where both lists are named."""
    named = named_arrays("grads", grads)
    if len(named) != len(params):
        raise ValueError(f"grads must match params one to one: {len(params)} params, "
                         f"{len(named)} grads")
    out = []
    for i, ((gname, g), pname, p) in enumerate(zip(named, names, params)):
        where = f"grads[{i}]" + (f" ({pname!r})" if pname else "")
        if gname is not None and pname is not None and gname != pname:
            raise ValueError(f"{where}: gradient named {gname!r} for parameter {pname!r}")
        out.append(check_grad(where, g, p, writeable=True))
    return out


def _extent(a):
    start = a.__array_interface__["data"][0]
    return start, start + a.nbytes


def check_no_overlap(params, grads):
    """No gradient shares memory with a parameter or another gradient (parameters may
    share memory with each other: they are only read). One sort, not n^2 pair tests."""
    arrays = [(k, a, False) for k, a in enumerate(params)]
    arrays += [(k, g, True) for k, g in enumerate(grads)]
    arrays = [item for item in arrays if item[1].nbytes > 0]
    if not arrays:
        return
    extents = np.array([_extent(a) for _, a, _ in arrays], dtype=np.uint64)
    order = np.argsort(extents[:, 0], kind="stable")
    starts, ends = extents[order, 0], extents[order, 1]
    written = np.array([w for _, _, w in arrays])[order]
    # an extent overlaps one that starts earlier iff it starts before the largest end
    # seen so far: among all arrays (for a gradient) or among gradients (for a parameter)
    end_all = np.maximum.accumulate(ends)
    end_written = np.maximum.accumulate(np.where(written, ends, np.uint64(0)))
    clash = np.flatnonzero(np.where(written[1:], starts[1:] < end_all[:-1],
                                    starts[1:] < end_written[:-1]))
    if clash.size:
        k, _, is_grad = arrays[int(order[clash[0] + 1])]
        what = f"grads[{k}]" if is_grad else f"params[{k}]"
        raise ValueError(f"{what} overlaps a gradient array (or is one): every gradient "
                         f"must be a separate buffer, sharing no memory with the "
                         f"parameters or the other gradients")


def array_table(columns, idx):
    """The (offsets, addresses) of an fl_array_table over arrays `idx` of each column
    (columns: lists of equally shaped arrays, already checked): offsets[i] is where
    array i starts in the concatenated range, addresses column-major by column."""
    offsets = np.zeros(len(idx) + 1, dtype=np.intp)
    np.cumsum([columns[0][i].size for i in idx], out=offsets[1:])
    addresses = np.array([_extent(col[i])[0] for col in columns for i in idx], dtype=np.intp)
    return offsets, addresses

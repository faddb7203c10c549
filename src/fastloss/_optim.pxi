# Bindings of csrc/optim.h (included by _kernels.pyx).
from cpython.buffer cimport (PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBUF_WRITABLE,
                             PyBuffer_Release, PyObject_GetBuffer)
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdint cimport intptr_t

import numpy as _np


cdef extern from "optim.h" nogil:
    ctypedef struct fl_sgd_options:
        double lr, momentum, dampening, weight_decay
        int nesterov, maximize, first_step

    ctypedef struct fl_adagrad_options:
        double clr, eps, weight_decay
        int maximize

    ctypedef struct fl_rmsprop_options:
        double lr, alpha, eps, weight_decay, momentum
        int centered, maximize

    ctypedef struct fl_adam_options:
        double lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt
        int amsgrad, maximize, decoupled

    int fl_sgd_step_f32(const fl_array_table *t, const fl_sgd_options *opt, int n_threads)
    int fl_sgd_step_f64(const fl_array_table *t, const fl_sgd_options *opt, int n_threads)
    int fl_adagrad_step_f32(const fl_array_table *t, const fl_adagrad_options *opt, int n_threads)
    int fl_adagrad_step_f64(const fl_array_table *t, const fl_adagrad_options *opt, int n_threads)
    int fl_rmsprop_step_f32(const fl_array_table *t, const fl_rmsprop_options *opt, int n_threads)
    int fl_rmsprop_step_f64(const fl_array_table *t, const fl_rmsprop_options *opt, int n_threads)
    int fl_adam_step_f32(const fl_array_table *t, const fl_adam_options *opt, int n_threads)
    int fl_adam_step_f64(const fl_array_table *t, const fl_adam_options *opt, int n_threads)
    int fl_grad_norm_f32(const fl_array_table *t, double norm_type, double *result, int n_threads)
    int fl_grad_norm_f64(const fl_array_table *t, double norm_type, double *result, int n_threads)
    int fl_grads_finite_f32(const fl_array_table *t, int *all_finite, int n_threads)
    int fl_grads_finite_f64(const fl_array_table *t, int *all_finite, int n_threads)
    int fl_grad_scale_f32(const fl_array_table *t, double factor, int n_threads)
    int fl_grad_scale_f64(const fl_array_table *t, double factor, int n_threads)
    int fl_grad_clamp_f32(const fl_array_table *t, double clip_value, int n_threads)
    int fl_grad_clamp_f64(const fl_array_table *t, double clip_value, int n_threads)


cdef fl_array_table _optim_table(const Py_ssize_t[::1] offsets, const intptr_t[::1] addresses,
                                 int n_columns) except *:
    """A view of the caller's (offsets, addresses) arrays, which outlive the kernel call."""
    cdef fl_array_table table
    table.n_arrays = offsets.shape[0] - 1
    table.n_columns = n_columns
    table.offsets = &offsets[0]
    table.addresses = &addresses[0] if addresses.shape[0] > 0 else NULL
    if addresses.shape[0] != n_columns * table.n_arrays:
        raise ValueError(f"addresses must hold {n_columns} x {table.n_arrays} entries, "
                         f"got {addresses.shape[0]}")
    return table


cdef _optim_check(int status):
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), 0, 0)


def sgd_step(bint is_double, const Py_ssize_t[::1] offsets, const intptr_t[::1] addresses,
             int n_columns, double lr, double momentum, double dampening,
             double weight_decay, bint nesterov, bint maximize, bint first_step,
             int n_threads):
    """One SGD step over a table (see csrc/optim.h); the caller checked every array."""
    cdef fl_array_table t = _optim_table(offsets, addresses, n_columns)
    cdef fl_sgd_options o
    cdef int status
    o.lr, o.momentum, o.dampening, o.weight_decay = lr, momentum, dampening, weight_decay
    o.nesterov, o.maximize, o.first_step = nesterov, maximize, first_step
    with nogil:
        status = (fl_sgd_step_f64(&t, &o, n_threads) if is_double
                  else fl_sgd_step_f32(&t, &o, n_threads))
    _optim_check(status)


def adagrad_step(bint is_double, const Py_ssize_t[::1] offsets,
                 const intptr_t[::1] addresses, int n_columns, double clr, double eps,
                 double weight_decay, bint maximize, int n_threads):
    """One Adagrad step over a table (see csrc/optim.h)."""
    cdef fl_array_table t = _optim_table(offsets, addresses, n_columns)
    cdef fl_adagrad_options o
    cdef int status
    o.clr, o.eps, o.weight_decay, o.maximize = clr, eps, weight_decay, maximize
    with nogil:
        status = (fl_adagrad_step_f64(&t, &o, n_threads) if is_double
                  else fl_adagrad_step_f32(&t, &o, n_threads))
    _optim_check(status)


def rmsprop_step(bint is_double, const Py_ssize_t[::1] offsets,
                 const intptr_t[::1] addresses, int n_columns, double lr, double alpha,
                 double eps, double weight_decay, double momentum, bint centered,
                 bint maximize, int n_threads):
    """One RMSprop step over a table (see csrc/optim.h)."""
    cdef fl_array_table t = _optim_table(offsets, addresses, n_columns)
    cdef fl_rmsprop_options o
    cdef int status
    o.lr, o.alpha, o.eps, o.weight_decay, o.momentum = lr, alpha, eps, weight_decay, momentum
    o.centered, o.maximize = centered, maximize
    with nogil:
        status = (fl_rmsprop_step_f64(&t, &o, n_threads) if is_double
                  else fl_rmsprop_step_f32(&t, &o, n_threads))
    _optim_check(status)


def adam_step(bint is_double, const Py_ssize_t[::1] offsets, const intptr_t[::1] addresses,
              int n_columns, double lr, double beta1, double beta2, double eps,
              double weight_decay, double step_size, double bias_correction2_sqrt,
              bint amsgrad, bint maximize, bint decoupled, int n_threads):
    """One Adam / AdamW step over a table (see csrc/optim.h)."""
    cdef fl_array_table t = _optim_table(offsets, addresses, n_columns)
    cdef fl_adam_options o
    cdef int status
    o.lr, o.beta1, o.beta2, o.eps, o.weight_decay = lr, beta1, beta2, eps, weight_decay
    o.step_size, o.bias_correction2_sqrt = step_size, bias_correction2_sqrt
    o.amsgrad, o.maximize, o.decoupled = amsgrad, maximize, decoupled
    with nogil:
        status = (fl_adam_step_f64(&t, &o, n_threads) if is_double
                  else fl_adam_step_f32(&t, &o, n_threads))
    _optim_check(status)


def grad_norm(bint is_double, const Py_ssize_t[::1] offsets, const intptr_t[::1] addresses,
              double norm_type, int n_threads):
    """sum |g|^p (max |g| for p = inf) over a one-column table, in double."""
    cdef fl_array_table t = _optim_table(offsets, addresses, 1)
    cdef double result = 0.0
    cdef int status
    with nogil:
        status = (fl_grad_norm_f64(&t, norm_type, &result, n_threads) if is_double
                  else fl_grad_norm_f32(&t, norm_type, &result, n_threads))
    _optim_check(status)
    return result


def grads_finite(bint is_double, const Py_ssize_t[::1] offsets,
                 const intptr_t[::1] addresses, int n_threads):
    """True when no entry of the one-column table is inf or NaN."""
    cdef fl_array_table t = _optim_table(offsets, addresses, 1)
    cdef int finite = 0
    cdef int status
    with nogil:
        status = (fl_grads_finite_f64(&t, &finite, n_threads) if is_double
                  else fl_grads_finite_f32(&t, &finite, n_threads))
    _optim_check(status)
    return bool(finite)


def grad_rewrite(bint clamp, bint is_double, const Py_ssize_t[::1] offsets,
                 const intptr_t[::1] addresses, double value, int n_threads):
    """g *= value, or (clamp) g = clamp(g, -value, value), over a one-column table."""
    cdef fl_array_table t = _optim_table(offsets, addresses, 1)
    cdef int status
    with nogil:
        if clamp:
            status = (fl_grad_clamp_f64(&t, value, n_threads) if is_double
                      else fl_grad_clamp_f32(&t, value, n_threads))
        else:
            status = (fl_grad_scale_f64(&t, value, n_threads) if is_double
                      else fl_grad_scale_f32(&t, value, n_threads))
    _optim_check(status)


cdef inline bint _float_format(const char *fmt, bint is_double) noexcept:
    """The struct format of a native float32 ('f') or float64 ('d') buffer."""
    if fmt == NULL:
        return False
    if fmt[0] == c'=' or fmt[0] == c'@':
        fmt += 1
    return fmt[0] == (c'd' if is_double else c'f') and fmt[1] == 0


def fill_grad_column(list grads, const Py_ssize_t[::1] positions,
                     const Py_ssize_t[::1] shape_starts, const Py_ssize_t[::1] dims,
                     bint is_double, intptr_t[::1] addresses, Py_ssize_t column_start,
                     on_error):
    """Check each gradient grads[positions[k]] against its parameter's shape
    (dims[shape_starts[k]:shape_starts[k + 1]]) and dtype, require an ndarray in
    C order, and write its address to addresses[column_start + k]. One typed loop: no
    Python-level work per array beyond the buffer request. On a bad gradient, calls
    on_error(position), which raises the detailed error. Returns True when an address
    differs from the one already stored (the caller then re-checks overlaps)."""
    cdef Py_ssize_t n = positions.shape[0], k, d, pos
    cdef Py_ssize_t n_grads = PyList_GET_SIZE(grads)
    cdef Py_buffer view
    cdef bint ok, changed = False
    cdef intptr_t address
    cdef object ndarray = _np.ndarray
    cdef object g
    for k in range(n):
        pos = positions[k]
        if pos >= n_grads:
            on_error(pos)
        g = <object>PyList_GET_ITEM(grads, pos)
        if not isinstance(g, ndarray):
            on_error(pos)
        try:
            PyObject_GetBuffer(g, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
        except BufferError:
            on_error(pos)
            raise
        ok = (_float_format(view.format, is_double)
              and view.ndim == shape_starts[k + 1] - shape_starts[k])
        if ok:
            for d in range(view.ndim):
                if view.shape[d] != dims[shape_starts[k] + d]:
                    ok = False
        address = <intptr_t>view.buf
        PyBuffer_Release(&view)
        if not ok:
            on_error(pos)
            raise ValueError(f"grads[{pos}] does not match its parameter")
        if addresses[column_start + k] != address:
            addresses[column_start + k] = address
            changed = True
    return changed


def scan_arrays(list arrays, on_error):
    """(is_double uint8, sizes intp, addresses intp) of a list of writeable C-contiguous
    float32/float64 ndarrays; on_error(i) raises for a bad arrays[i]."""
    cdef Py_ssize_t n = PyList_GET_SIZE(arrays), i
    kinds_arr = _np.empty(n, dtype=_np.uint8)
    sizes_arr = _np.empty(n, dtype=_np.intp)
    addresses_arr = _np.empty(n, dtype=_np.intp)
    cdef unsigned char[::1] kinds = kinds_arr
    cdef Py_ssize_t[::1] sizes = sizes_arr
    cdef intptr_t[::1] addresses = addresses_arr
    cdef Py_buffer view
    cdef object ndarray = _np.ndarray
    cdef object a
    for i in range(n):
        a = <object>PyList_GET_ITEM(arrays, i)
        if not isinstance(a, ndarray):
            on_error(i)
        try:
            PyObject_GetBuffer(a, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE)
        except BufferError:
            on_error(i)
            raise
        kinds[i] = _float_format(view.format, True)
        sizes[i] = view.len // view.itemsize if view.itemsize > 0 else 0
        addresses[i] = <intptr_t>view.buf
        if not (kinds[i] or _float_format(view.format, False)):
            PyBuffer_Release(&view)
            on_error(i)
            raise TypeError(f"arrays[{i}] must be float32 or float64")
        PyBuffer_Release(&view)
    return kinds_arr, sizes_arr, addresses_arr

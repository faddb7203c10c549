# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Marshalling between NumPy arrays and the C kernels of csrc/: no maths here.

Every function takes C-contiguous arrays of the right dtype (the public API converts
and validates), releases the GIL around exactly one kernel call, and turns a non-zero
status into an exception.
"""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t

ctypedef fused label_t:
    int32_t
    int64_t


class DomainError(ValueError):
    """A kernel found an entry outside its loss's domain (status FL_ERR_VALUE): `index`
    is its flat (row-major) index and `which` says which argument, as the kernel's
    header documents. The public API turns it into a message naming the entry."""

    def __init__(self, index, which):
        super().__init__(f"entry {index} of argument {which} is outside the domain")
        self.index = index
        self.which = which


cdef object _status_error(int status, fl_error err, Py_ssize_t n_cols, int64_t ignore_index):
    if status == FL_ERR_LABEL:
        return ValueError(
            f"target: label {err.value} at row {err.row} is outside [0, {n_cols}) "
            f"and is not ignore_index ({ignore_index})")
    return RuntimeError(f"fastloss kernel rejected its arguments (status {status})")


def build_facts():
    """OpenMP, compiler and SIMD facts of this build."""
    return {
        "openmp": bool(fl_openmp_enabled()),
        "openmp_max_threads": fl_openmp_max_threads(),
        "compiler": fl_compiler().decode(),
        "simd_paths": fl_simd_paths().decode(),
        "simd_active": fl_simd_active().decode(),
    }


def plan_threads(int n_threads, double work_elements):
    """Threads a kernel starts for this much work (tests and benchmarks use it)."""
    return fl_plan_threads(n_threads, work_elements)


def exp(const floating[::1] x, floating[::1] out, bint nonpositive=False):
    """The vectorizable exp of the kernels, elementwise (for accuracy tests).
    nonpositive=True: the cheaper form the kernels use, valid for x <= 0, -inf, NaN."""
    cdef Py_ssize_t n = x.shape[0]
    if n == 0:
        return
    with nogil:
        if floating is float:
            if nonpositive:
                fl_exp_nonpos_f32(&x[0], n, &out[0])
            else:
                fl_exp_f32(&x[0], n, &out[0])
        else:
            if nonpositive:
                fl_exp_nonpos_f64(&x[0], n, &out[0])
            else:
                fl_exp_f64(&x[0], n, &out[0])


def log(const floating[::1] x, floating[::1] out, bint log1p=False):
    """The vectorizable log of the kernels, elementwise (for accuracy tests).
    log1p=True: log(1 + x), valid for x in [-1, 64]."""
    cdef Py_ssize_t n = x.shape[0]
    if n == 0:
        return
    with nogil:
        if floating is float:
            if log1p:
                fl_log1p_unit_f32(&x[0], n, &out[0])
            else:
                fl_log_f32(&x[0], n, &out[0])
        else:
            if log1p:
                fl_log1p_unit_f64(&x[0], n, &out[0])
            else:
                fl_log_f64(&x[0], n, &out[0])


# what: 0 softmax, 1 log_softmax, 2 logsumexp (out is then 1-D, one entry per row)
cdef int _softmax_call(int what, const floating *x, Py_ssize_t n_rows, Py_ssize_t n_cols,
                       floating *out, int n_threads) noexcept nogil:
    if floating is float:
        if what == 0:
            return fl_softmax_fwd_f32(x, n_rows, n_cols, out, n_threads)
        if what == 1:
            return fl_log_softmax_fwd_f32(x, n_rows, n_cols, out, n_threads)
        return fl_logsumexp_fwd_f32(x, n_rows, n_cols, out, n_threads)
    else:
        if what == 0:
            return fl_softmax_fwd_f64(x, n_rows, n_cols, out, n_threads)
        if what == 1:
            return fl_log_softmax_fwd_f64(x, n_rows, n_cols, out, n_threads)
        return fl_logsumexp_fwd_f64(x, n_rows, n_cols, out, n_threads)


def softmax_rows(int what, const floating[:, ::1] x, floating[::1] out, int n_threads):
    """softmax (0), log_softmax (1) or logsumexp (2) of the rows of x into flat out."""
    cdef Py_ssize_t n_rows = x.shape[0], n_cols = x.shape[1]
    cdef int status
    if n_rows == 0 or n_cols == 0:
        return
    with nogil:
        status = _softmax_call(what, &x[0, 0], n_rows, n_cols, &out[0], n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), n_cols, 0)


cdef double _class_loss(bint nll, const floating[:, ::1] x, fl_class_target *target,
                        const double[::1] weight, double label_smoothing, int reduction,
                        floating[::1] row_loss, floating[:, ::1] grad, int n_threads) except? -1.0:
    cdef Py_ssize_t n_rows = x.shape[0], n_cols = x.shape[1]
    cdef fl_class_options opt
    cdef fl_error err = fl_error(0, 0)
    cdef double value = 0.0
    cdef floating *row_loss_ptr = NULL
    cdef floating *grad_ptr = NULL
    cdef const floating *x_ptr = NULL
    cdef int status
    opt.weight = &weight[0]
    opt.label_smoothing = label_smoothing
    opt.reduction = reduction
    if n_rows > 0:
        x_ptr = &x[0, 0]
        if row_loss is not None:
            row_loss_ptr = &row_loss[0]
        if grad is not None:
            grad_ptr = &grad[0, 0]
    with nogil:
        if floating is float:
            if nll:
                status = fl_nll_fwdbwd_f32(x_ptr, n_rows, n_cols, target, &opt, &value,
                                           row_loss_ptr, grad_ptr, &err, n_threads)
            else:
                status = fl_cross_entropy_fwdbwd_f32(x_ptr, n_rows, n_cols, target, &opt,
                                                     &value, row_loss_ptr, grad_ptr, &err,
                                                     n_threads)
        else:
            if nll:
                status = fl_nll_fwdbwd_f64(x_ptr, n_rows, n_cols, target, &opt, &value,
                                           row_loss_ptr, grad_ptr, &err, n_threads)
            else:
                status = fl_cross_entropy_fwdbwd_f64(x_ptr, n_rows, n_cols, target, &opt,
                                                     &value, row_loss_ptr, grad_ptr, &err,
                                                     n_threads)
    if status != FL_OK:
        raise _status_error(status, err, n_cols, target.ignore_index)
    return value


def class_loss_labels(bint nll, const floating[:, ::1] x, const label_t[::1] labels,
                      int64_t ignore_index, const double[::1] weight, double label_smoothing,
                      int reduction, floating[::1] row_loss, floating[:, ::1] grad,
                      int n_threads):
    """Cross-entropy (nll=False) or NLL (nll=True) with hard labels; returns the
    reduced value (sum or mean) and fills row_loss / grad when given."""
    cdef fl_class_target target
    target.labels = &labels[0] if labels.shape[0] > 0 else NULL
    target.labels_int64 = label_t is int64_t
    target.ignore_index = ignore_index
    target.probs = NULL
    if x.shape[0] == 0:
        target.labels = <const void *>&target  # any non-NULL pointer: no row is read
    return _class_loss(nll, x, &target, weight, label_smoothing, reduction, row_loss, grad,
                       n_threads)


def class_loss_probs(bint nll, const floating[:, ::1] x, const floating[:, ::1] probs,
                     const double[::1] weight, double label_smoothing, int reduction,
                     floating[::1] row_loss, floating[:, ::1] grad, int n_threads):
    """Cross-entropy or NLL with a target distribution per row (same shape as x)."""
    cdef fl_class_target target
    target.labels = NULL
    target.labels_int64 = 0
    target.ignore_index = 0
    target.probs = &probs[0, 0] if probs.shape[0] > 0 else <const void *>&target
    return _class_loss(nll, x, &target, weight, label_smoothing, reduction, row_loss, grad,
                       n_threads)


REDUCTION_NONE = FL_REDUCTION_NONE
REDUCTION_SUM = FL_REDUCTION_SUM
REDUCTION_MEAN = FL_REDUCTION_MEAN
# the `reduction` option of the public API -> the code the kernels take
REDUCTION_CODES = {"none": REDUCTION_NONE, "sum": REDUCTION_SUM, "mean": REDUCTION_MEAN}


# ---- the other families: bindings next to their declarations, one file each ----------
include "_elementwise.pxi"
include "_margin.pxi"
include "_divergence.pxi"
include "_cluster.pxi"
include "_regularize.pxi"
include "_optim.pxi"
include "_nn.pxi"
include "_landscape.pxi"

# Bindings of csrc/margin.h (included by _kernels.pyx).

cdef extern from "margin.h" nogil:
    ctypedef struct fl_margin_options:
        const double *weight
        int p
        double margin
        int normalize
        int reduction

    int fl_multi_margin_fwdbwd_f32(const float *x, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                   const void *labels, int labels_int64,
                                   const fl_margin_options *opt, double *value,
                                   float *row_loss, float *grad, fl_error *err,
                                   int n_threads)
    int fl_multi_margin_fwdbwd_f64(const double *x, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                   const void *labels, int labels_int64,
                                   const fl_margin_options *opt, double *value,
                                   double *row_loss, double *grad, fl_error *err,
                                   int n_threads)


def multi_margin(const floating[:, ::1] x, const label_t[::1] labels, const double[::1] weight,
                 int p, double margin, bint normalize, int reduction,
                 floating[::1] row_loss, floating[:, ::1] grad, int n_threads):
    """Multiclass margin loss of the rows of x; returns the reduced value (sum or mean)
    and fills row_loss / grad when given. weight may be None (all ones)."""
    cdef Py_ssize_t n_rows = x.shape[0], n_cols = x.shape[1]
    cdef fl_margin_options opt
    cdef fl_error err = fl_error(0, 0)
    cdef double value = 0.0
    cdef const floating *x_ptr = NULL
    cdef const void *labels_ptr = NULL
    cdef floating *row_loss_ptr = NULL
    cdef floating *grad_ptr = NULL
    cdef int status
    opt.weight = &weight[0] if weight is not None else NULL
    opt.p = p
    opt.margin = margin
    opt.normalize = normalize
    opt.reduction = reduction
    if n_rows > 0:
        x_ptr = &x[0, 0]
        labels_ptr = &labels[0]
        if row_loss is not None:
            row_loss_ptr = &row_loss[0]
        if grad is not None:
            grad_ptr = &grad[0, 0]
    with nogil:
        if floating is float:
            status = fl_multi_margin_fwdbwd_f32(x_ptr, n_rows, n_cols, labels_ptr,
                                                label_t is int64_t, &opt, &value,
                                                row_loss_ptr, grad_ptr, &err, n_threads)
        else:
            status = fl_multi_margin_fwdbwd_f64(x_ptr, n_rows, n_cols, labels_ptr,
                                                label_t is int64_t, &opt, &value,
                                                row_loss_ptr, grad_ptr, &err, n_threads)
    if status == FL_ERR_LABEL:
        raise ValueError(f"target: label {err.value} at row {err.row} is outside "
                         f"[0, {n_cols})")
    if status != FL_OK:
        raise RuntimeError(f"fastloss kernel rejected its arguments (status {status})")
    return value

# Bindings of csrc/elementwise.h (included by _kernels.pyx).

cdef extern from "fastloss.h" nogil:
    ctypedef struct fl_strided_weight:
        const void *w
        Py_ssize_t row_stride
        Py_ssize_t col_stride

    ctypedef struct fl_elementwise_options:
        int kind
        double p0
        double p1
        fl_strided_weight weight
        fl_strided_weight pos_weight
        int reduction
        double divisor

    ctypedef struct fl_elementwise_info:
        int64_t n_clamped

    int fl_elementwise_f32(const float *input, const float *target, Py_ssize_t n_rows,
                           Py_ssize_t n_cols, const fl_elementwise_options *opt,
                           double *value, float *loss_out, float *grad,
                           fl_elementwise_info *info, fl_error *err, int n_threads)
    int fl_elementwise_f64(const double *input, const double *target, Py_ssize_t n_rows,
                           Py_ssize_t n_cols, const fl_elementwise_options *opt,
                           double *value, double *loss_out, double *grad,
                           fl_elementwise_info *info, fl_error *err, int n_threads)


cdef fl_strided_weight _strided(const floating[::1] w, Py_ssize_t row_stride,
                                Py_ssize_t col_stride):
    cdef fl_strided_weight sw
    sw.w = &w[0] if w is not None and w.shape[0] > 0 else NULL
    sw.row_stride = row_stride
    sw.col_stride = col_stride
    return sw


def elementwise(int kind, double p0, double p1, const floating[:, ::1] x,
                const floating[:, ::1] y, const floating[::1] weight, Py_ssize_t w_row_stride,
                Py_ssize_t w_col_stride, const floating[::1] pos_weight,
                Py_ssize_t pw_row_stride, Py_ssize_t pw_col_stride, int reduction,
                double divisor, floating[:, ::1] loss_out, floating[:, ::1] grad,
                int n_threads):
    """One pass of an elementwise loss over the (n_rows, n_cols) view of x and y.
    Returns (value, n_clamped); fills loss_out ("none") and grad when given."""
    cdef fl_elementwise_options opt
    cdef fl_elementwise_info info
    cdef fl_error err = fl_error(0, 0)
    cdef double value = 0.0
    cdef Py_ssize_t n_rows = x.shape[0], n_cols = x.shape[1]
    cdef floating *loss_ptr = NULL
    cdef floating *grad_ptr = NULL
    cdef int status
    info.n_clamped = 0
    if n_rows == 0 or n_cols == 0:
        return (float("nan") if reduction == FL_REDUCTION_MEAN else 0.0), 0
    opt.kind = kind
    opt.p0 = p0
    opt.p1 = p1
    opt.weight = _strided(weight, w_row_stride, w_col_stride)
    opt.pos_weight = _strided(pos_weight, pw_row_stride, pw_col_stride)
    opt.reduction = reduction
    opt.divisor = divisor
    if loss_out is not None:
        loss_ptr = &loss_out[0, 0]
    if grad is not None:
        grad_ptr = &grad[0, 0]
    with nogil:
        if floating is float:
            status = fl_elementwise_f32(&x[0, 0], &y[0, 0], n_rows, n_cols, &opt, &value,
                                        loss_ptr, grad_ptr, &info, &err, n_threads)
        else:
            status = fl_elementwise_f64(&x[0, 0], &y[0, 0], n_rows, n_cols, &opt, &value,
                                        loss_ptr, grad_ptr, &info, &err, n_threads)
    if status == FL_ERR_VALUE:
        raise DomainError(err.row, err.value)
    if status != FL_OK:
        raise _status_error(status, err, n_cols, 0)
    return value, info.n_clamped


ELEMENTWISE_KINDS = {
    "mse": 0, "l1": 1, "huber": 2, "smooth_l1": 3, "log_cosh": 4, "quantile": 5,
    "bce": 6, "bce_with_logits": 7, "hinge": 8, "squared_hinge": 9, "sigmoid_focal": 10,
}

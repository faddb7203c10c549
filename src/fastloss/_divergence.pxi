# Bindings of csrc/divergence.h (included by _kernels.pyx).

cdef extern from "divergence.h" nogil:
    int fl_kl_div_fwdbwd_f32(const float *input, const float *target, Py_ssize_t n,
                             int log_target, int reduction, double divisor, double *value,
                             float *elem_loss, float *grad, fl_error *err, int n_threads)
    int fl_kl_div_fwdbwd_f64(const double *input, const double *target, Py_ssize_t n,
                             int log_target, int reduction, double divisor, double *value,
                             double *elem_loss, double *grad, fl_error *err, int n_threads)
    int fl_kl_divergence_f32(const float *p, const float *q, Py_ssize_t n_rows,
                             Py_ssize_t n_cols, int reduction, double *value, float *row_kl,
                             fl_error *err, int n_threads)
    int fl_kl_divergence_f64(const double *p, const double *q, Py_ssize_t n_rows,
                             Py_ssize_t n_cols, int reduction, double *value, double *row_kl,
                             fl_error *err, int n_threads)


cdef _check_status(int status, fl_error err):
    if status == FL_ERR_VALUE:
        raise DomainError(err.row, err.value)
    if status != FL_OK:
        raise RuntimeError(f"fastloss kernel rejected its arguments (status {status})")


def kl_div(const floating[::1] input, const floating[::1] target, bint log_target,
           int reduction, double divisor, floating[::1] elem_loss, floating[::1] grad,
           int n_threads):
    """Pointwise KL of flat arrays; returns the reduced value, fills elem_loss / grad
    when given. Raises DomainError for a negative target (log_target False)."""
    cdef Py_ssize_t n = input.shape[0]
    cdef fl_error err = fl_error(0, 0)
    cdef double value = 0.0
    cdef const floating *x_ptr = NULL
    cdef const floating *t_ptr = NULL
    cdef floating *loss_ptr = NULL
    cdef floating *grad_ptr = NULL
    cdef int status
    if n > 0:
        x_ptr = &input[0]
        t_ptr = &target[0]
        if elem_loss is not None:
            loss_ptr = &elem_loss[0]
        if grad is not None:
            grad_ptr = &grad[0]
    with nogil:
        if floating is float:
            status = fl_kl_div_fwdbwd_f32(x_ptr, t_ptr, n, log_target, reduction, divisor,
                                          &value, loss_ptr, grad_ptr, &err, n_threads)
        else:
            status = fl_kl_div_fwdbwd_f64(x_ptr, t_ptr, n, log_target, reduction, divisor,
                                          &value, loss_ptr, grad_ptr, &err, n_threads)
    _check_status(status, err)
    return value


def kl_divergence(const floating[:, ::1] p, const floating[:, ::1] q, int reduction,
                  floating[::1] row_kl, int n_threads):
    """KL(p || q) per row; returns the reduced value, fills row_kl when given. Raises
    DomainError for an entry outside [0, 1]."""
    cdef Py_ssize_t n_rows = p.shape[0], n_cols = p.shape[1]
    cdef fl_error err = fl_error(0, 0)
    cdef double value = 0.0
    cdef const floating *p_ptr = NULL
    cdef const floating *q_ptr = NULL
    cdef floating *row_ptr = NULL
    cdef int status
    if n_rows > 0 and n_cols > 0:
        p_ptr = &p[0, 0]
        q_ptr = &q[0, 0]
    if n_rows > 0 and row_kl is not None:
        row_ptr = &row_kl[0]
    with nogil:
        if floating is float:
            status = fl_kl_divergence_f32(p_ptr, q_ptr, n_rows, n_cols, reduction, &value,
                                          row_ptr, &err, n_threads)
        else:
            status = fl_kl_divergence_f64(p_ptr, q_ptr, n_rows, n_cols, reduction, &value,
                                          row_ptr, &err, n_threads)
    _check_status(status, err)
    return value

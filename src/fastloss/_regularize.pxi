# Bindings of csrc/regularize.h (included by _kernels.pyx).


cdef extern from "regularize.h" nogil:
    ctypedef struct fl_penalty_sums:
        double abs_sum
        double sq_sum
        double grad_sq_sum

    int fl_penalty_fwdbwd_f32(const fl_array_table *arrays, double l1, double l2,
                              fl_penalty_sums *sums, int n_threads)
    int fl_penalty_fwdbwd_f64(const fl_array_table *arrays, double l1, double l2,
                              fl_penalty_sums *sums, int n_threads)


def penalty(bint is_double, const Py_ssize_t[::1] offsets, const intptr_t[::1] addresses,
            int n_columns, double l1, double l2, int n_threads):
    """Elastic penalty over an array table (see csrc/regularize.h): column 0 holds the
    addresses of the parameters, column 1 (n_columns = 2) those of the gradients that
    receive += l1 sign(w) + 2 l2 w. The caller has checked every array. Returns
    (sum |w|, sum w^2, squared norm of the penalty's gradient)."""
    cdef fl_array_table table
    cdef fl_penalty_sums sums
    cdef int status
    table.n_arrays = offsets.shape[0] - 1
    table.n_columns = n_columns
    table.offsets = &offsets[0]
    table.addresses = &addresses[0] if addresses.shape[0] > 0 else NULL
    if addresses.shape[0] != n_columns * table.n_arrays:
        raise ValueError(f"addresses must hold {n_columns} x {table.n_arrays} entries, "
                         f"got {addresses.shape[0]}")
    with nogil:
        if is_double:
            status = fl_penalty_fwdbwd_f64(&table, l1, l2, &sums, n_threads)
        else:
            status = fl_penalty_fwdbwd_f32(&table, l1, l2, &sums, n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), 0, 0)
    return sums.abs_sum, sums.sq_sum, sums.grad_sq_sum

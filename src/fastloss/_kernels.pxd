# Declarations of csrc/fastloss.h for _kernels.pyx.
from libc.stdint cimport int64_t, intptr_t


cdef extern from "fastloss.h" nogil:
    enum:
        FL_OK
        FL_ERR_LABEL
        FL_ERR_ARGUMENT
        FL_ERR_VALUE
        FL_REDUCTION_NONE
        FL_REDUCTION_SUM
        FL_REDUCTION_MEAN

    ctypedef struct fl_error:
        Py_ssize_t row
        int64_t value

    ctypedef struct fl_array_table:
        Py_ssize_t n_arrays
        int n_columns
        const Py_ssize_t *offsets
        const intptr_t *addresses

    ctypedef struct fl_class_target:
        const void *labels
        int labels_int64
        int64_t ignore_index
        const void *probs

    ctypedef struct fl_class_options:
        const double *weight
        double label_smoothing
        int reduction

    int fl_plan_threads(int n_threads, double work_elements)
    int fl_openmp_enabled()
    int fl_openmp_max_threads()
    const char *fl_compiler()
    const char *fl_simd_paths()
    const char *fl_simd_active()

    void fl_exp_f32(const float *x, Py_ssize_t n, float *out)
    void fl_exp_f64(const double *x, Py_ssize_t n, double *out)
    void fl_exp_nonpos_f32(const float *x, Py_ssize_t n, float *out)
    void fl_exp_nonpos_f64(const double *x, Py_ssize_t n, double *out)
    void fl_log_f32(const float *x, Py_ssize_t n, float *out)
    void fl_log_f64(const double *x, Py_ssize_t n, double *out)
    void fl_log1p_unit_f32(const float *x, Py_ssize_t n, float *out)
    void fl_log1p_unit_f64(const double *x, Py_ssize_t n, double *out)

    int fl_softmax_fwd_f32(const float *x, Py_ssize_t n_rows, Py_ssize_t n_cols, float *out, int n_threads)
    int fl_softmax_fwd_f64(const double *x, Py_ssize_t n_rows, Py_ssize_t n_cols, double *out, int n_threads)
    int fl_log_softmax_fwd_f32(const float *x, Py_ssize_t n_rows, Py_ssize_t n_cols, float *out, int n_threads)
    int fl_log_softmax_fwd_f64(const double *x, Py_ssize_t n_rows, Py_ssize_t n_cols, double *out, int n_threads)
    int fl_logsumexp_fwd_f32(const float *x, Py_ssize_t n_rows, Py_ssize_t n_cols, float *out, int n_threads)
    int fl_logsumexp_fwd_f64(const double *x, Py_ssize_t n_rows, Py_ssize_t n_cols, double *out, int n_threads)

    int fl_cross_entropy_fwdbwd_f32(const float *logits, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                    const fl_class_target *target, const fl_class_options *opt,
                                    double *value, float *row_loss, float *grad, fl_error *err,
                                    int n_threads)
    int fl_cross_entropy_fwdbwd_f64(const double *logits, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                    const fl_class_target *target, const fl_class_options *opt,
                                    double *value, double *row_loss, double *grad, fl_error *err,
                                    int n_threads)
    int fl_nll_fwdbwd_f32(const float *logp, Py_ssize_t n_rows, Py_ssize_t n_cols,
                          const fl_class_target *target, const fl_class_options *opt,
                          double *value, float *row_loss, float *grad, fl_error *err,
                          int n_threads)
    int fl_nll_fwdbwd_f64(const double *logp, Py_ssize_t n_rows, Py_ssize_t n_cols,
                          const fl_class_target *target, const fl_class_options *opt,
                          double *value, double *row_loss, double *grad, fl_error *err,
                          int n_threads)

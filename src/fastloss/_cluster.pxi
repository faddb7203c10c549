# Bindings of csrc/cluster.h (included by _kernels.pyx).

cdef extern from "fastloss.h" nogil:
    Py_ssize_t fl_cluster_scratch_len(Py_ssize_t n, Py_ssize_t k, Py_ssize_t d)

    int fl_wcss_fwdbwd_f32(const float *x, Py_ssize_t n, Py_ssize_t d, const float *centroids,
                           Py_ssize_t k, const double *sample_weight, int reduction,
                           double *value, int64_t *labels, float *distances,
                           float *grad_centroids, float *grad_x, double *scratch,
                           int n_threads)
    int fl_wcss_fwdbwd_f64(const double *x, Py_ssize_t n, Py_ssize_t d,
                           const double *centroids, Py_ssize_t k, const double *sample_weight,
                           int reduction, double *value, int64_t *labels, double *distances,
                           double *grad_centroids, double *grad_x, double *scratch,
                           int n_threads)
    int fl_kmeans_step_f32(const float *x, Py_ssize_t n, Py_ssize_t d, const float *centroids,
                           Py_ssize_t k, const double *sample_weight, double *inertia,
                           int64_t *labels, float *distances, float *new_centroids,
                           double *cluster_weight, int64_t *counts, double *scratch,
                           int n_threads)
    int fl_kmeans_step_f64(const double *x, Py_ssize_t n, Py_ssize_t d,
                           const double *centroids, Py_ssize_t k, const double *sample_weight,
                           double *inertia, int64_t *labels, double *distances,
                           double *new_centroids, double *cluster_weight, int64_t *counts,
                           double *scratch, int n_threads)


def cluster_scratch_len(Py_ssize_t n, Py_ssize_t k, Py_ssize_t d):
    """Doubles of scratch the cluster kernels need for n points, k centroids, d features."""
    return fl_cluster_scratch_len(n, k, d)


def wcss(const floating[:, ::1] x, const floating[:, ::1] centroids,
         const double[::1] sample_weight, int reduction, int64_t[::1] labels,
         floating[::1] distances, floating[:, ::1] grad_centroids, floating[:, ::1] grad_x,
         double[::1] scratch, int n_threads):
    """WCSS of x (n, d) against centroids (k, d); fills the optional outputs (None to
    skip) and returns the reduced value. sample_weight None means all ones."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1], k = centroids.shape[0]
    cdef const floating *x_ptr = &x[0, 0] if n > 0 else NULL
    cdef const double *w_ptr = &sample_weight[0] if sample_weight is not None and n > 0 else NULL
    cdef int64_t *labels_ptr = &labels[0] if labels is not None and n > 0 else NULL
    cdef floating *dist_ptr = &distances[0] if distances is not None and n > 0 else NULL
    cdef floating *gc_ptr = &grad_centroids[0, 0] if grad_centroids is not None else NULL
    cdef floating *gx_ptr = &grad_x[0, 0] if grad_x is not None and n > 0 else NULL
    cdef double value = 0.0
    cdef int status
    with nogil:
        if floating is float:
            status = fl_wcss_fwdbwd_f32(x_ptr, n, d, &centroids[0, 0], k, w_ptr, reduction,
                                        &value, labels_ptr, dist_ptr, gc_ptr, gx_ptr,
                                        &scratch[0], n_threads)
        else:
            status = fl_wcss_fwdbwd_f64(x_ptr, n, d, &centroids[0, 0], k, w_ptr, reduction,
                                        &value, labels_ptr, dist_ptr, gc_ptr, gx_ptr,
                                        &scratch[0], n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), k, 0)
    return value


def kmeans_step(const floating[:, ::1] x, const floating[:, ::1] centroids,
                const double[::1] sample_weight, int64_t[::1] labels, floating[::1] distances,
                floating[:, ::1] new_centroids, double[::1] cluster_weight,
                int64_t[::1] counts, double[::1] scratch, int n_threads):
    """One Lloyd iteration into new_centroids / cluster_weight / counts (and labels,
    distances when not None); returns the inertia of the old centroids."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1], k = centroids.shape[0]
    cdef const floating *x_ptr = &x[0, 0] if n > 0 else NULL
    cdef const double *w_ptr = &sample_weight[0] if sample_weight is not None and n > 0 else NULL
    cdef int64_t *labels_ptr = &labels[0] if labels is not None and n > 0 else NULL
    cdef floating *dist_ptr = &distances[0] if distances is not None and n > 0 else NULL
    cdef double inertia = 0.0
    cdef int status
    with nogil:
        if floating is float:
            status = fl_kmeans_step_f32(x_ptr, n, d, &centroids[0, 0], k, w_ptr, &inertia,
                                        labels_ptr, dist_ptr, &new_centroids[0, 0],
                                        &cluster_weight[0], &counts[0], &scratch[0],
                                        n_threads)
        else:
            status = fl_kmeans_step_f64(x_ptr, n, d, &centroids[0, 0], k, w_ptr, &inertia,
                                        labels_ptr, dist_ptr, &new_centroids[0, 0],
                                        &cluster_weight[0], &counts[0], &scratch[0],
                                        n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), k, 0)
    return inertia

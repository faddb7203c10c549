# Bindings of csrc/landscape.h (included by _kernels.pyx).


cdef extern from "landscape.h" nogil:
    enum:
        FL_LANDSCAPE_MAX_LAYERS
        FL_SURFACE_CROSS_ENTROPY
        FL_SURFACE_MSE

    ctypedef struct fl_mlp:
        int n_layers
        const Py_ssize_t *widths
        const Py_ssize_t *weight_offsets
        const Py_ssize_t *bias_offsets
        const int *activations
        const double *slopes

    ctypedef struct fl_surface_loss:
        int kind
        const int64_t *labels
        int64_t ignore_index
        const double *class_weight
        const void *targets
        double divisor

    Py_ssize_t fl_mlp_surface_scratch_f32(const fl_mlp *net)
    Py_ssize_t fl_mlp_surface_scratch_f64(const fl_mlp *net)
    int fl_mlp_surface_f32(const float *x, const float *first_products, Py_ssize_t n_samples,
                           const fl_mlp *net, const fl_surface_loss *loss, const float *theta,
                           const float *d1, const float *d2, const double *alphas,
                           Py_ssize_t n_alphas, const double *betas, Py_ssize_t n_betas,
                           float *scratch, Py_ssize_t scratch_len, double *values,
                           int n_threads)
    int fl_mlp_surface_f64(const double *x, const double *first_products,
                           Py_ssize_t n_samples, const fl_mlp *net,
                           const fl_surface_loss *loss, const double *theta,
                           const double *d1, const double *d2, const double *alphas,
                           Py_ssize_t n_alphas, const double *betas, Py_ssize_t n_betas,
                           double *scratch, Py_ssize_t scratch_len, double *values,
                           int n_threads)

MLP_MAX_LAYERS = FL_LANDSCAPE_MAX_LAYERS
SURFACE_LOSSES = {"cross_entropy": FL_SURFACE_CROSS_ENTROPY, "mse": FL_SURFACE_MSE}


cdef fl_mlp _mlp_view(const Py_ssize_t[::1] widths, const Py_ssize_t[::1] weight_offsets,
                      const Py_ssize_t[::1] bias_offsets, const int[::1] activations,
                      const double[::1] slopes):
    cdef fl_mlp net
    net.n_layers = <int>weight_offsets.shape[0]
    net.widths = &widths[0]
    net.weight_offsets = &weight_offsets[0]
    net.bias_offsets = &bias_offsets[0]
    net.activations = &activations[0]
    net.slopes = &slopes[0]
    return net


def mlp_surface_scratch_len(bint double_precision, const Py_ssize_t[::1] widths,
                            const Py_ssize_t[::1] weight_offsets,
                            const Py_ssize_t[::1] bias_offsets, const int[::1] activations,
                            const double[::1] slopes):
    """Elements of scratch one thread of mlp_surface needs (see csrc/landscape.h)."""
    cdef fl_mlp net = _mlp_view(widths, weight_offsets, bias_offsets, activations, slopes)
    cdef Py_ssize_t n = (fl_mlp_surface_scratch_f64(&net) if double_precision
                         else fl_mlp_surface_scratch_f32(&net))
    if n < 0:
        raise ValueError("inconsistent network description")
    return n


def mlp_surface(const floating[:, ::1] x, const floating[:, :, ::1] first_products,
                Py_ssize_t n_samples, const Py_ssize_t[::1] widths,
                const Py_ssize_t[::1] weight_offsets, const Py_ssize_t[::1] bias_offsets,
                const int[::1] activations, const double[::1] slopes, int loss_kind,
                const int64_t[::1] labels, int64_t ignore_index,
                const double[::1] class_weight, const floating[:, ::1] targets,
                double divisor, const floating[::1] theta, const floating[::1] d1,
                const floating[::1] d2, const double[::1] alphas, const double[::1] betas,
                floating[::1] scratch, double[:, ::1] values, int n_threads):
    """values[i, j] = loss of the network at theta + alphas[i] d1 + betas[j] d2 (see
    csrc/landscape.h). The caller has checked every size, label and option; x or
    first_products may be None (not both), labels / class_weight / targets as the loss
    needs them."""
    cdef fl_mlp net = _mlp_view(widths, weight_offsets, bias_offsets, activations, slopes)
    cdef fl_surface_loss loss
    cdef const floating *x_ptr = NULL
    cdef const floating *products_ptr = NULL
    cdef int status
    if values.shape[0] == 0 or values.shape[1] == 0:
        return
    loss.kind = loss_kind
    loss.labels = &labels[0] if labels is not None and labels.shape[0] > 0 else NULL
    loss.ignore_index = ignore_index
    loss.class_weight = &class_weight[0] if class_weight is not None else NULL
    loss.targets = NULL
    if targets is not None and targets.shape[0] > 0:
        loss.targets = &targets[0, 0]
    loss.divisor = divisor
    if x is not None and x.shape[0] > 0:
        x_ptr = &x[0, 0]
    if first_products is not None and first_products.shape[1] > 0:
        products_ptr = &first_products[0, 0, 0]
    with nogil:
        if floating is float:
            status = fl_mlp_surface_f32(x_ptr, products_ptr, n_samples, &net, &loss,
                                        &theta[0], &d1[0], &d2[0], &alphas[0],
                                        alphas.shape[0], &betas[0], betas.shape[0],
                                        &scratch[0], scratch.shape[0], &values[0, 0],
                                        n_threads)
        else:
            status = fl_mlp_surface_f64(x_ptr, products_ptr, n_samples, &net, &loss,
                                        &theta[0], &d1[0], &d2[0], &alphas[0],
                                        alphas.shape[0], &betas[0], betas.shape[0],
                                        &scratch[0], scratch.shape[0], &values[0, 0],
                                        n_threads)
    if status != FL_OK:
        raise ValueError("mlp_surface: inconsistent arguments (see csrc/landscape.h)")

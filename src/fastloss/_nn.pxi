# Bindings of csrc/nn.h (included by _kernels.pyx).


cdef extern from "nn.h" nogil:
    enum:
        FL_ACT_IDENTITY
        FL_ACT_SIGMOID
        FL_ACT_TANH
        FL_ACT_RELU
        FL_ACT_LEAKY_RELU
        FL_ACT_GELU
        FL_ACT_GELU_TANH
    Py_ssize_t fl_bias_act_workspace(Py_ssize_t n_rows, Py_ssize_t n_cols)
    int fl_bias_act_fwd_f32(const float *z, const float *bias, Py_ssize_t n_rows,
                            Py_ssize_t n_cols, int activation, double slope, float *out,
                            int n_threads)
    int fl_bias_act_fwd_f64(const double *z, const double *bias, Py_ssize_t n_rows,
                            Py_ssize_t n_cols, int activation, double slope, double *out,
                            int n_threads)
    int fl_bias_act_bwd_f32(const float *grad_out, const float *z, const float *bias,
                            const float *out, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int activation, double slope, float *grad_z, float *grad_bias,
                            double *workspace, int n_threads)
    int fl_bias_act_bwd_f64(const double *grad_out, const double *z, const double *bias,
                            const double *out, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int activation, double slope, double *grad_z,
                            double *grad_bias, double *workspace, int n_threads)


def bias_act_workspace_len(Py_ssize_t n_rows, Py_ssize_t n_cols):
    """Doubles of workspace bias_act_bwd needs for a bias gradient."""
    return fl_bias_act_workspace(n_rows, n_cols)


def bias_act_fwd(const floating[:, ::1] z, const floating[::1] bias, int activation,
                 double slope, floating[:, ::1] out, int n_threads):
    """out = act(z + bias) (bias None: act(z)); see csrc/nn.h. The caller has checked
    the shapes (bias: z's columns; out: z's shape)."""
    cdef Py_ssize_t n_rows = z.shape[0], n_cols = z.shape[1]
    cdef const floating *bias_ptr = NULL
    cdef int status
    if n_rows == 0 or n_cols == 0:
        return
    if bias is not None:
        bias_ptr = &bias[0]
    with nogil:
        if floating is float:
            status = fl_bias_act_fwd_f32(&z[0, 0], bias_ptr, n_rows, n_cols, activation,
                                         slope, &out[0, 0], n_threads)
        else:
            status = fl_bias_act_fwd_f64(&z[0, 0], bias_ptr, n_rows, n_cols, activation,
                                         slope, &out[0, 0], n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), 0, 0)


def bias_act_bwd(const floating[:, ::1] grad_out, const floating[:, ::1] z,
                 const floating[::1] bias, const floating[:, ::1] out, int activation,
                 double slope, floating[:, ::1] grad_z, floating[::1] grad_bias,
                 double[::1] workspace, int n_threads):
    """grad_z = grad_out * act'(z + bias) (or act' from out) and grad_bias = its column
    sums; any of z, bias, out, grad_z, grad_bias may be None where the activation does
    not need it (see csrc/nn.h). grad_z may be grad_out itself."""
    cdef Py_ssize_t n_rows = grad_out.shape[0], n_cols = grad_out.shape[1]
    cdef const floating *z_ptr = NULL
    cdef const floating *bias_ptr = NULL
    cdef const floating *out_ptr = NULL
    cdef floating *grad_z_ptr = NULL
    cdef floating *grad_bias_ptr = NULL
    cdef double *ws_ptr = NULL
    cdef int status
    if n_cols == 0:
        return
    if n_rows > 0:
        if z is not None:
            z_ptr = &z[0, 0]
        if out is not None:
            out_ptr = &out[0, 0]
        if grad_z is not None:
            grad_z_ptr = &grad_z[0, 0]
    if bias is not None:
        bias_ptr = &bias[0]
    if grad_bias is not None:
        grad_bias_ptr = &grad_bias[0]
        if workspace.shape[0] < fl_bias_act_workspace(n_rows, n_cols):
            raise ValueError("workspace is too short")
        if workspace.shape[0] > 0:
            ws_ptr = &workspace[0]
    with nogil:
        if floating is float:
            status = fl_bias_act_bwd_f32(&grad_out[0, 0] if n_rows > 0 else NULL, z_ptr,
                                         bias_ptr, out_ptr, n_rows, n_cols, activation,
                                         slope, grad_z_ptr, grad_bias_ptr, ws_ptr, n_threads)
        else:
            status = fl_bias_act_bwd_f64(&grad_out[0, 0] if n_rows > 0 else NULL, z_ptr,
                                         bias_ptr, out_ptr, n_rows, n_cols, activation,
                                         slope, grad_z_ptr, grad_bias_ptr, ws_ptr, n_threads)
    if status != FL_OK:
        raise _status_error(status, fl_error(0, 0), 0, 0)


ACTIVATIONS = {"identity": FL_ACT_IDENTITY, "sigmoid": FL_ACT_SIGMOID, "tanh": FL_ACT_TANH,
               "relu": FL_ACT_RELU, "leaky_relu": FL_ACT_LEAKY_RELU, "gelu": FL_ACT_GELU,
               "gelu_tanh": FL_ACT_GELU_TANH}

/*
 * margin_impl.h - the multiclass margin kernel, written once for both types.
 * Included by margin.c with REAL (float or double) and SFX (f32 or f64).
 *
 * Row x (n entries) with label y, class weight w_y, scale c = w_y / D (D = n or 1):
 *     z_j = (margin - x_y) + x_j,                 j != y
 *     loss = c * sum_{j != y, z_j > 0} z_j^p
 *     dloss/dx_j = c * p * z_j^(p-1)  (z_j > 0),   dloss/dx_y = -sum_{j != y} dloss/dx_j
 * z is formed in double for both types. A NaN z counts as active, so that a NaN in
 * the row reaches its loss and gradient (PyTorch's `z > 0` would drop it silently).
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/* The hinge term of z and its slope; `active` is false for j = y. A NaN z is active. */
FL_INLINE double NAME(hinge)(double z, int active, int p, double *slope)
{
    active = active && !(z <= 0.0);
    *slope = !active ? 0.0 : p == 1 ? (z != z ? z : 1.0) : 2.0 * z;
    return !active ? 0.0 : p == 1 ? z : z * z;
}

/* One row; p and the presence of g are compile-time constants at every call site, so
 * each combination gets its own vectorized loop. The sums are kept in FL_LANES fixed
 * lanes (entry j goes to lane j % FL_LANES) added in lane order, so the value does not
 * depend on the vector width of the code path or on whether the gradient is wanted.
 * Returns the row's unscaled sum. */
FL_INLINE double NAME(margin_row)(const REAL *restrict x, ptrdiff_t n, ptrdiff_t y,
                                  double shift, int p, double grad_scale, REAL *restrict g)
{
    double sum[FL_LANES] = {0.0}, slope_sum[FL_LANES] = {0.0};
    ptrdiff_t j0 = 0;
    for (; j0 + FL_LANES <= n; j0 += FL_LANES) {
        FL_SIMD
        for (int l = 0; l < FL_LANES; l++) {
            double slope;
            sum[l] += NAME(hinge)(shift + (double)x[j0 + l], j0 + l != y, p, &slope);
            if (g) {
                slope_sum[l] += slope;
                g[j0 + l] = (REAL)(grad_scale * slope);
            }
        }
    }
    for (int l = 0; j0 + l < n; l++) {
        double slope;
        sum[l] += NAME(hinge)(shift + (double)x[j0 + l], j0 + l != y, p, &slope);
        if (g) {
            slope_sum[l] += slope;
            g[j0 + l] = (REAL)(grad_scale * slope);
        }
    }
    double total = 0.0, slope_total = 0.0;
    for (int l = 0; l < FL_LANES; l++) {
        total += sum[l];
        slope_total += slope_sum[l];
    }
    if (g)
        g[y] = (REAL)(0.0 - grad_scale * slope_total);
    return total;
}

FL_HOT static double NAME(margin_block)(const REAL *x_all, ptrdiff_t r0, ptrdiff_t r1,
                                        ptrdiff_t n, const fl_class_target *labels,
                                        const fl_margin_options *opt, double grad_coef,
                                        REAL *row_loss, REAL *grad)
{
    const double inv_d = opt->normalize ? 1.0 / (double)n : 1.0;
    double acc = 0.0;
    for (ptrdiff_t i = r0; i < r1; i++) {
        const REAL *x = x_all + i * n;
        REAL *g = grad ? grad + i * n : NULL;
        const ptrdiff_t y = (ptrdiff_t)fl_label_at(labels, i);
        const double scale = (opt->weight ? opt->weight[y] : 1.0) * inv_d;
        const double shift = opt->margin - (double)x[y];
        const double gs = grad_coef * scale;
        double sum;
        if (opt->p == 1)
            sum = g ? NAME(margin_row)(x, n, y, shift, 1, gs, g)
                    : NAME(margin_row)(x, n, y, shift, 1, gs, NULL);
        else
            sum = g ? NAME(margin_row)(x, n, y, shift, 2, gs, g)
                    : NAME(margin_row)(x, n, y, shift, 2, gs, NULL);
        const double loss = scale * sum;
        if (row_loss)
            row_loss[i] = (REAL)loss;
        acc += loss;
    }
    return acc;
}

int NAME(fl_multi_margin_fwdbwd)(const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                 const void *labels, int labels_int64,
                                 const fl_margin_options *opt, double *value, REAL *row_loss,
                                 REAL *grad, fl_error *err, int n_threads)
{
    if (n_rows < 0 || n_cols < 1 || (opt->p != 1 && opt->p != 2) || (n_rows > 0 && !labels))
        return FL_ERR_ARGUMENT;
    const int status = fl_margin_check_labels(labels, labels_int64, n_rows, n_cols, err);
    if (status != FL_OK)
        return status;
    const fl_class_target target = {labels, labels_int64, 0, NULL};
    const int mean = opt->reduction == FL_REDUCTION_MEAN;
    /* A mean over no rows is NaN (0/0); there is then no gradient to scale. */
    const double grad_coef = mean ? 1.0 / (double)n_rows : 1.0;
    if (opt->reduction != FL_REDUCTION_NONE)
        row_loss = NULL;

    const ptrdiff_t block = fl_block_rows(n_rows);
    const ptrdiff_t n_blocks = (n_rows + block - 1) / block;
    double partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, fl_row_work(n_rows, n_cols));
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block;
        const ptrdiff_t r1 = r0 + block < n_rows ? r0 + block : n_rows;
        partial[bi] = NAME(margin_block)(x, r0, r1, n_cols, &target, opt, grad_coef, row_loss,
                                         grad);
    }
    if (value) {
        double total = 0.0;
        for (ptrdiff_t bi = 0; bi < n_blocks; bi++)
            total += partial[bi];
        *value = mean ? (n_rows > 0 ? total / (double)n_rows : NAN) : total;
    }
    return FL_OK;
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_

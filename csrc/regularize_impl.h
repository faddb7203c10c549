/*
 * regularize_impl.h - the penalty kernel, written once for both types. Included by
 * regularize.c with REAL (float or double) and SFX (f32 or f64). Sums are in double.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/*
 * One contiguous run of n elements: w (parameters) and, when write_grad, g (their
 * gradients, += l1 sign(w) + two_l2 w). Adds sum |w|, sum w^2 and sum d^2 (d the
 * gradient contribution) into *acc. The gradient is formed in double and rounded once.
 * Called with a constant write_grad, so each use compiles to its own loop.
 */
FL_INLINE void NAME(penalty_run)(const REAL *restrict w, REAL *restrict g, ptrdiff_t n,
                                 double l1, double two_l2, int write_grad,
                                 fl_penalty_sums *acc)
{
    const int has_l1 = l1 != 0.0, has_l2 = two_l2 != 0.0;
    double s_abs = 0.0, s_sq = 0.0, s_grad = 0.0;
    FL_PRAGMA(omp simd reduction(+ : s_abs, s_sq, s_grad))
    for (ptrdiff_t j = 0; j < n; j++) {
        const double x = (double)w[j];
        /* sign(x) with sign(+-0) = +-0 and sign(NaN) = NaN, as torch.sign */
        const double sign = x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x);
        const double d = (has_l1 ? l1 * sign : 0.0) + (has_l2 ? two_l2 * x : 0.0);
        s_abs += fabs(x);
        s_sq += x * x;
        s_grad += d * d;
        if (write_grad)
            g[j] = (REAL)((double)g[j] + d);
    }
    acc->abs_sum += s_abs;
    acc->sq_sum += s_sq;
    acc->grad_sq_sum += s_grad;
}

/* Elements [b0, b1) of the concatenated range, across as many arrays as they span. */
FL_HOT static fl_penalty_sums NAME(penalty_block)(const fl_array_table *t, ptrdiff_t b0,
                                                  ptrdiff_t b1, double l1, double two_l2)
{
    fl_penalty_sums acc = {0.0, 0.0, 0.0};
    const int write_grad = t->n_columns > 1;
    for (ptrdiff_t i = fl_table_array_at(t, b0), pos = b0; pos < b1; i++) {
        const ptrdiff_t start = t->offsets[i], end = t->offsets[i + 1];
        const ptrdiff_t stop = end < b1 ? end : b1;
        if (stop <= pos)
            continue;  /* an empty array */
        const REAL *w = (const REAL *)t->addresses[i] + (pos - start);
        if (write_grad) {
            REAL *g = (REAL *)t->addresses[t->n_arrays + i] + (pos - start);
            NAME(penalty_run)(w, g, stop - pos, l1, two_l2, 1, &acc);
        } else {
            NAME(penalty_run)(w, NULL, stop - pos, l1, two_l2, 0, &acc);
        }
        pos = stop;
    }
    return acc;
}

int NAME(fl_penalty_fwdbwd)(const fl_array_table *arrays, double l1, double l2,
                            fl_penalty_sums *sums, int n_threads)
{
    if (!fl_table_ok(arrays, 2) || !sums)
        return FL_ERR_ARGUMENT;
    const ptrdiff_t total = arrays->offsets[arrays->n_arrays];
    const ptrdiff_t block = fl_table_block_len(total);
    const ptrdiff_t n_blocks = (total + block - 1) / block;
    fl_penalty_sums partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, (double)total * arrays->n_columns);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t b0 = bi * block;
        const ptrdiff_t b1 = b0 + block < total ? b0 + block : total;
        partial[bi] = NAME(penalty_block)(arrays, b0, b1, l1, 2.0 * l2);
    }
    fl_penalty_sums s = {0.0, 0.0, 0.0};
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        s.abs_sum += partial[bi].abs_sum;
        s.sq_sum += partial[bi].sq_sum;
        s.grad_sq_sum += partial[bi].grad_sq_sum;
    }
    *sums = s;
    return FL_OK;
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_

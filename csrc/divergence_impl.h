/*
 * divergence_impl.h - the KL kernels, written once for both types. Included by
 * divergence.c with REAL (float or double), SFX (f32 or f64), LOG and EXP (the
 * vectorizable log and exp for REAL). Sums are accumulated in double.
 *
 * kl_div works on the flat arrays in at most FL_MAX_BLOCKS equal blocks of entries;
 * kl_divergence on rows, in blocks of rows. Block sums are added in block order.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/* Where the first entry outside [lo, hi] is (called only once a kernel counted one). */
static ptrdiff_t NAME(first_outside)(const REAL *a, ptrdiff_t n, double lo, double hi)
{
    ptrdiff_t i = 0;
    while (i < n && !(a[i] < lo || a[i] > hi))
        i++;
    return i;
}

/*
 * One block of kl_div: t (log t - x) with log t in REAL (LOG), the difference and the
 * product in double. t = 0 gives a term of exactly 0 whatever x is (a -inf or NaN
 * log-probability under a zero target does not matter), and a gradient of +0.
 * *n_negative counts the negative targets (their log is NaN; the caller raises).
 */
FL_HOT static double NAME(kl_div_block)(const REAL *restrict x, const REAL *restrict t,
                                        ptrdiff_t n, int log_target, double coef,
                                        REAL *restrict elem_loss, REAL *restrict grad,
                                        ptrdiff_t *n_negative)
{
    double acc = 0.0;
    ptrdiff_t negative = 0;
    if (log_target) {
        FL_PRAGMA(omp simd reduction(+ : acc))
        for (ptrdiff_t j = 0; j < n; j++) {
            const double e = (double)EXP(t[j]);
            const double term = e == 0.0 ? 0.0 : e * ((double)t[j] - (double)x[j]);
            acc += term;
            if (elem_loss)
                elem_loss[j] = (REAL)term;
            if (grad)
                grad[j] = (REAL)(0.0 - coef * e);
        }
    } else {
        FL_PRAGMA(omp simd reduction(+ : acc, negative))
        for (ptrdiff_t j = 0; j < n; j++) {
            const REAL tj = t[j];
            const double term = tj == 0 ? 0.0 : (double)tj * ((double)LOG(tj) - (double)x[j]);
            negative += tj < 0;
            acc += term;
            if (elem_loss)
                elem_loss[j] = (REAL)term;
            if (grad)
                grad[j] = (REAL)(0.0 - coef * (double)tj);
        }
    }
    *n_negative = negative;
    return acc;
}

int NAME(fl_kl_div_fwdbwd)(const REAL *input, const REAL *target, ptrdiff_t n, int log_target,
                           int reduction, double divisor, double *value, REAL *elem_loss,
                           REAL *grad, fl_error *err, int n_threads)
{
    if (n < 0 || (n > 0 && (!input || !target)))
        return FL_ERR_ARGUMENT;
    const int mean = reduction == FL_REDUCTION_MEAN;
    const double coef = mean ? 1.0 / divisor : 1.0;
    if (reduction != FL_REDUCTION_NONE)
        elem_loss = NULL;

    const ptrdiff_t block = fl_block_rows(n);
    const ptrdiff_t n_blocks = (n + block - 1) / block;
    double partial[FL_MAX_BLOCKS];
    ptrdiff_t negative[FL_MAX_BLOCKS];
    /* a log or an exp per entry: about twice the work of a softmax entry */
    const int nt = fl_plan_threads(n_threads, 2.0 * (double)n);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t j0 = bi * block;
        const ptrdiff_t len = j0 + block < n ? block : n - j0;
        partial[bi] = NAME(kl_div_block)(input + j0, target + j0, len, log_target, coef,
                                         elem_loss ? elem_loss + j0 : NULL,
                                         grad ? grad + j0 : NULL, &negative[bi]);
    }
    double total = 0.0;
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        if (negative[bi]) {
            const ptrdiff_t j0 = bi * block;
            const ptrdiff_t len = j0 + block < n ? block : n - j0;
            err->row = j0 + NAME(first_outside)(target + j0, len, 0.0, INFINITY);
            err->value = 1;
            return FL_ERR_VALUE;
        }
        total += partial[bi];
    }
    if (value)
        *value = mean ? total / divisor : total;
    return FL_OK;
}

/* KL of one row: p log(p / q) in double. The ratio is formed first: log p - log q
 * would cancel two large logs for tiny probabilities. When the ratio overflows (q
 * subnormal, p not) p is scaled down by 2^60 first and 60 ln 2 added back. */
FL_HOT static double NAME(kl_row)(const REAL *restrict p, const REAL *restrict q, ptrdiff_t n,
                                  ptrdiff_t *n_outside_p, ptrdiff_t *n_outside_q)
{
    double acc = 0.0;
    ptrdiff_t bad_p = 0, bad_q = 0;
    FL_PRAGMA(omp simd reduction(+ : acc, bad_p, bad_q))
    for (ptrdiff_t j = 0; j < n; j++) {
        const double pj = (double)p[j], qj = (double)q[j];
        bad_p += pj < 0.0 || pj > 1.0;
        bad_q += qj < 0.0 || qj > 1.0;
        const double ratio = pj / qj;
        const int overflow = ratio == INFINITY && qj > 0.0;
        const double r = overflow ? (pj * 0x1p-60) / qj : ratio;
        const double log_ratio = fl_log(r) + (overflow ? 60.0 * 0.69314718055994530942 : 0.0);
        acc += pj == 0.0 ? 0.0 : pj * log_ratio;
    }
    *n_outside_p += bad_p;
    *n_outside_q += bad_q;
    return acc;
}

int NAME(fl_kl_divergence)(const REAL *p, const REAL *q, ptrdiff_t n_rows, ptrdiff_t n_cols,
                           int reduction, double *value, REAL *row_kl, fl_error *err,
                           int n_threads)
{
    if (n_rows < 0 || n_cols < 0 || (n_rows > 0 && n_cols > 0 && (!p || !q)))
        return FL_ERR_ARGUMENT;
    if (reduction != FL_REDUCTION_NONE)
        row_kl = NULL;
    const ptrdiff_t block = fl_block_rows(n_rows);
    const ptrdiff_t n_blocks = (n_rows + block - 1) / block;
    double partial[FL_MAX_BLOCKS];
    ptrdiff_t outside_p[FL_MAX_BLOCKS], outside_q[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, 2.0 * fl_row_work(n_rows, n_cols));
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block;
        const ptrdiff_t r1 = r0 + block < n_rows ? r0 + block : n_rows;
        double acc = 0.0;
        outside_p[bi] = outside_q[bi] = 0;
        for (ptrdiff_t i = r0; i < r1; i++) {
            const double kl = NAME(kl_row)(p + i * n_cols, q + i * n_cols, n_cols,
                                           &outside_p[bi], &outside_q[bi]);
            if (row_kl)
                row_kl[i] = (REAL)kl;
            acc += kl;
        }
        partial[bi] = acc;
    }
    double total = 0.0;
    ptrdiff_t any_p = 0, any_q = 0;
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        total += partial[bi];
        any_p += outside_p[bi];
        any_q += outside_q[bi];
    }
    if (any_p || any_q) {
        const REAL *bad = any_p ? p : q;
        err->row = NAME(first_outside)(bad, n_rows * n_cols, 0.0, 1.0);
        err->value = any_p ? 0 : 1;
        return FL_ERR_VALUE;
    }
    if (value)
        *value = reduction == FL_REDUCTION_MEAN ? (n_rows > 0 ? total / (double)n_rows : NAN)
                                                : total;
    return FL_OK;
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_

/*
 * elementwise_impl.h - the elementwise losses for one floating type.
 *
 * Included by elementwise.c with REAL (float or double), SFX (f32 or f64), and the
 * vectorizable EXP_NONPOS, LOG and LOG1P of fl_common.h for that type.
 *
 * One generic loop (`segment`) runs over a stretch of contiguous entries that share a
 * row; it is always inlined with the loss kind and the presence of a weight array, a
 * gradient and per-entry losses as constants, so each combination becomes its own
 * straight-line loop that the compiler vectorizes.
 */
#define NAME_(a, b) a##_##b
#define NAME__(a, b) NAME_(a, b)
#define NAME(a) NAME__(a, SFX)

typedef struct NAME(ew_params) {
    REAL p0, p1;        /* delta, beta, q, alpha; gamma */
    REAL inv_p0;        /* 1 / beta for smooth L1 */
    REAL gscale;        /* d value / d (weighted loss of one entry): 1 / divisor or 1 */
} NAME(ew_params);

/* What one stretch adds to the pass. */
typedef struct NAME(ew_acc) {
    double sum;         /* of the weighted losses */
    int flags;          /* FL_EW_* of elementwise.c */
    int64_t n_clamped;
} NAME(ew_acc);

/* Clamp d into [-c, c]; NaN stays NaN (both comparisons are false). */
FL_INLINE REAL NAME(clamp_sym)(REAL d, REAL c)
{
    return d < -c ? -c : (d > c ? c : d);
}

/* sign(d) with sign(0) = 0 (the subgradient PyTorch uses at kinks); NaN stays NaN. */
FL_INLINE REAL NAME(sign0)(REAL d)
{
    const REAL s = d > 0 ? (REAL)1 : (d < 0 ? (REAL)-1 : (REAL)0);
    return d != d ? d : s;
}

/* 2 atanh(s) = 2s (1 + z q(z)) with z = s^2, for s in [0, 1/3] (ATANH_Q: see
 * elementwise.c). Straight-line code, no division. */
FL_INLINE REAL NAME(two_atanh)(REAL s)
{
    const REAL z = s * s;
    return 2 * s + 2 * s * (z * ATANH_Q(z));
}

/* log cosh(d) and tanh(d) without overflow for any finite d: log cosh(a) =
 * log1p(2 sinh(a/2)^2) for a = |d| < 1 (no cancellation near 0, where it is ~a^2/2),
 * a - log 2 + log1p(exp(-2a)) above. In double for both types (libm, scalar). */
static double NAME(log_cosh)(double d, double *g)
{
    const double a = fabs(d);
    *g = tanh(d);
    if (a < 1.0) {
        const double h = expm1(0.5 * a);               /* exp(a/2) - 1 */
        const double sh = 0.5 * (h + h / (h + 1.0));   /* sinh(a/2) */
        return log1p(2.0 * sh * sh);
    }
    return (a - 0.69314718055994530942) + log1p(exp(-2.0 * a));
}

/* Sigmoid focal loss (torchvision's definition): with p = sigmoid(x), ce the binary
 * cross-entropy with logits, p_t = p y + (1 - p)(1 - y), alpha_t = alpha y +
 * (1 - alpha)(1 - y) (1 when alpha < 0):  l = alpha_t ce (1 - p_t)^gamma. In double,
 * scalar (pow); the derivative of (1 - p_t)^gamma is skipped where its factor
 * p (1 - p) (2y - 1) is 0, so 0^(gamma - 1) never meets a 0. */
static double NAME(sigmoid_focal)(double x, double y, double alpha, double gamma, double *g)
{
    const double a = fabs(x);
    const double e = exp(-a);
    const double sp = log1p(e);                        /* softplus(-|x|) */
    const double p = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    const double q = x >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);   /* 1 - p */
    const double ce = (y != 0.0 ? y * ((x < 0 ? -x : 0.0) + sp) : 0.0)
                      + (y != 1.0 ? (1.0 - y) * ((x > 0 ? x : 0.0) + sp) : 0.0);
    const double om = p * (1.0 - y) + q * y;           /* 1 - p_t */
    const double at = alpha < 0 ? 1.0 : alpha * y + (1.0 - alpha) * (1.0 - y);
    const double mod = gamma == 0.0 ? 1.0 : pow(om, gamma);
    const double dom = p * q * (1.0 - 2.0 * y);        /* d(1 - p_t)/dx */
    double dmod = 0.0;
    if (gamma != 0.0 && dom != 0.0)
        dmod = gamma * pow(om, gamma - 1.0) * dom;
    *g = at * ((p - y) * mod + ce * dmod);
    return at * ce * mod;
}

/*
 * One entry: returns the loss, writes d loss / d x into *g, sets *in_x / *in_y below 0
 * where x / y lies outside the loss's domain (for [0, 1]: v (1 - v), which the loss
 * often needs anyway; a min-reduction then finds any, cheaper than flags in vector
 * code), ORs FL_EW_ZERO / FL_EW_MINUS_ONE into *flags,
 * adds 1 to *clamped where BCE clamps a log that counts. `pw` is the positive weight
 * (BCE with logits), exactly 1 unless has_pw. Conventions are documented in the Python API.
 */
FL_INLINE REAL NAME(ew_entry)(const int kind, const int has_pw, REAL x, REAL y, REAL pw,
                              const NAME(ew_params) *P, REAL *g, REAL *in_x, REAL *in_y,
                              int *flags, int *clamped)
{
    switch (kind) {
    case FL_MSE: {
        const REAL d = x - y;
        *g = 2 * d;
        return d * d;
    }
    case FL_L1: {
        const REAL d = x - y;
        *g = NAME(sign0)(d);
        return d < 0 ? -d : d;
    }
    case FL_HUBER: {
        const REAL d = x - y, a = d < 0 ? -d : d, delta = P->p0;
        *g = NAME(clamp_sym)(d, delta);
        return a <= delta ? (REAL)0.5 * d * d : delta * (a - (REAL)0.5 * delta);
    }
    case FL_SMOOTH_L1: {
        const REAL d = x - y, a = d < 0 ? -d : d, beta = P->p0;
        *g = NAME(clamp_sym)(d * P->inv_p0, 1);
        return a < beta ? (REAL)0.5 * d * d * P->inv_p0 : a - (REAL)0.5 * beta;
    }
    case FL_LOG_COSH: {
        double gd;
        const double l = NAME(log_cosh)((double)x - (double)y, &gd);
        *g = (REAL)gd;
        return (REAL)l;
    }
    case FL_QUANTILE: {
        const REAL r = y - x, q = P->p0;
        const REAL s = r > 0 ? -q : (r < 0 ? 1 - q : (REAL)0);
        *g = r != r ? r : s;
        return r >= 0 ? q * r : (q - 1) * r;
    }
    case FL_BCE: {
        const REAL v = x * (1 - x);
        *in_x = v;
        *in_y = y * (1 - y);
        REAL lp = LOG(x), lq = LOG1P(-x);
        *clamped += ((y != 0) & (lp < -100)) | ((y != 1) & (lq < -100));
        lp = lp < -100 ? (REAL)-100 : lp;
        lq = lq < -100 ? (REAL)-100 : lq;
        *g = (x - y) / (v > (REAL)1e-12 ? v : (REAL)1e-12);
        return -(y * lp + (1 - y) * lq);
    }
    case FL_BCE_LOGITS: {
        *in_y = y * (1 - y);
        /* with e = exp(-|x|): softplus(-|x|) = log1p(e) = 2 atanh(e / (2 + e)),
         * sigmoid(|x|) = 1 / (1 + e), 1 - sigmoid(|x|) = e / (1 + e); one division
         * t = 1 / ((2 + e)(1 + e)) serves all three (each adds an ulp or two). */
        const int neg = x < 0;                            /* one mask for every select */
        const REAL a = neg ? -x : x;
        const REAL e = EXP_NONPOS(-a);
        const REAL t = 1 / ((2 + e) * (1 + e));
        const REAL sp = NAME(two_atanh)(e * (1 + e) * t);
        const REAL big = (2 + e) * t, small = e * big;
        const REAL p = neg ? small : big;                 /* sigmoid(x) */
        const REAL wy = pw * y;
        /* l = wy softplus(-x) + (1 - y) softplus(x), softplus(+-x) = max(+-x, 0) + sp:
         * only one of the max terms is non-zero; a zero coefficient times x = +-inf
         * counts as 0 */
        const REAL coef = neg ? -wy : 1 - y;
        const REAL linear = coef != 0 ? coef * x : (REAL)0;
        if (has_pw) {
            const REAL q = neg ? big : small;             /* 1 - sigmoid(x) */
            *g = (1 - y) * p - wy * q;
            return (wy + (1 - y)) * sp + linear;
        }
        *g = p - y;
        return sp + linear;
    }
    case FL_HINGE:
    case FL_SQUARED_HINGE: {
        *in_y = (y != 1) & (y != 0) & (y != -1) ? (REAL)-1 : (REAL)0;
        *flags |= (y == 0) * FL_EW_ZERO | (y == -1) * FL_EW_MINUS_ONE;
        const REAL s = y == 0 ? (REAL)-1 : y;
        const REAL m = 1 - s * x;
        const REAL h = m < 0 ? (REAL)0 : m;               /* NaN stays NaN */
        if (kind == FL_HINGE) {
            *g = m > 0 ? -s : (m != m ? m : (REAL)0);
            return h;
        }
        *g = -2 * s * h;
        return h * h;
    }
    default: { /* FL_SIGMOID_FOCAL */
        *in_y = y * (1 - y);
        double gd;
        const double l = NAME(sigmoid_focal)(x, y, P->p0, P->p1, &gd);
        *g = (REAL)gd;
        return (REAL)l;
    }
    }
}

/*
 * n contiguous entries of one row. Weights: w_arr[j] when has_w, else the scalar w;
 * positive weights (pw_mode): none (exactly 1), the scalar pw, or pw_arr[j]. Writes grad[j] when has_grad and loss_out[j] when has_loss_out
 * (reduction "none"), else adds the weighted losses to acc->sum.
 */
FL_INLINE void NAME(segment)(const int kind, const int has_w, const int pw_mode,
                             const int has_grad, const int has_loss_out,
                             const REAL *restrict x, const REAL *restrict y, ptrdiff_t n,
                             const REAL *restrict w_arr, REAL w, const REAL *restrict pw_arr,
                             REAL pw, const NAME(ew_params) *P, REAL *restrict grad,
                             REAL *restrict loss_out, NAME(ew_acc) *acc)
{
    double sum = 0.0;
    int flags = 0;
    int64_t clamped = 0;
    REAL in_x = 0, in_y = 0;
    const REAL gs = P->gscale * w;
    FL_PRAGMA(omp simd reduction(+:sum, clamped) reduction(|:flags) reduction(min:in_x, in_y))
    for (ptrdiff_t j = 0; j < n; j++) {
        REAL g, ix = 0, iy = 0;
        int f = 0, c = 0;
        const REAL pwj = pw_mode == FL_PW_ARRAY ? pw_arr[j] : (pw_mode == FL_PW_SCALAR ? pw : 1);
        const REAL l = NAME(ew_entry)(kind, pw_mode != FL_PW_NONE, x[j], y[j], pwj, P, &g,
                                      &ix, &iy, &f, &c);
        const REAL wj = has_w ? w_arr[j] : w;
        if (has_grad)
            grad[j] = has_w ? g * (wj * P->gscale) : g * gs;
        if (has_loss_out)
            loss_out[j] = l * wj;
        else
            sum += has_w ? (double)(l * wj) : (double)l;
        flags |= f;
        clamped += c;
        if (kind == FL_BCE)                 /* the only kind with a domain for x */
            in_x = ix < in_x ? ix : in_x;
        if (kind >= FL_BCE)                 /* the kinds with a domain for y */
            in_y = iy < in_y ? iy : in_y;
    }
    acc->sum += has_w || has_loss_out ? sum : sum * (double)w;
    acc->flags |= flags | (in_x < 0) * FL_EW_BAD_INPUT | (in_y < 0) * FL_EW_BAD_TARGET;
    acc->n_clamped += clamped;
}

/* The stretches of one kind: picks the loop variant for the arrays that are present. */
#define FL_EW_CALL(KIND, HAS_W, PW_MODE, HAS_GRAD, HAS_LOSS_OUT)                         \
    NAME(segment)(KIND, HAS_W, PW_MODE, HAS_GRAD, HAS_LOSS_OUT, x, y, n, w_arr, w, pw_arr, \
                  pw, P, grad, loss_out, acc)
#define FL_EW_OUTPUTS(KIND, HAS_W, PW_MODE)                                               \
    do {                                                                                 \
        if (grad && loss_out)                                                            \
            FL_EW_CALL(KIND, HAS_W, PW_MODE, 1, 1);                                       \
        else if (grad)                                                                   \
            FL_EW_CALL(KIND, HAS_W, PW_MODE, 1, 0);                                       \
        else if (loss_out)                                                               \
            FL_EW_CALL(KIND, HAS_W, PW_MODE, 0, 1);                                       \
        else                                                                             \
            FL_EW_CALL(KIND, HAS_W, PW_MODE, 0, 0);                                       \
    } while (0)
#define FL_EW_VARIANTS(KIND, PW_MODE)                                                    \
    do {                                                                                 \
        if (w_arr)                                                                       \
            FL_EW_OUTPUTS(KIND, 1, PW_MODE);                                              \
        else                                                                             \
            FL_EW_OUTPUTS(KIND, 0, PW_MODE);                                              \
    } while (0)

#define FL_EW_SEGMENT_ARGS                                                               \
    const REAL *restrict x, const REAL *restrict y, ptrdiff_t n,                         \
        const REAL *restrict w_arr, REAL w, const REAL *restrict pw_arr, REAL pw,        \
        const NAME(ew_params) *P, REAL *restrict grad, REAL *restrict loss_out,          \
        NAME(ew_acc) *acc

typedef void (*NAME(ew_segment_fn))(FL_EW_SEGMENT_ARGS);

/* One function per kind. The vectorizable ones are compiled for each SIMD path; the
 * two that call libm per entry are not worth it. */
#define FL_EW_KIND(fname, KIND, ATTR)                                                    \
    ATTR static void NAME(fname)(FL_EW_SEGMENT_ARGS)                                     \
    {                                                                                    \
        if (KIND == FL_BCE_LOGITS && pw_arr)                                             \
            FL_EW_VARIANTS(KIND, FL_PW_ARRAY);                                           \
        else if (KIND == FL_BCE_LOGITS && pw != 1)                                       \
            FL_EW_VARIANTS(KIND, FL_PW_SCALAR);                                          \
        else                                                                             \
            FL_EW_VARIANTS(KIND, FL_PW_NONE);                                            \
    }

FL_EW_KIND(ew_mse, FL_MSE, FL_HOT)
FL_EW_KIND(ew_l1, FL_L1, FL_HOT)
FL_EW_KIND(ew_huber, FL_HUBER, FL_HOT)
FL_EW_KIND(ew_smooth_l1, FL_SMOOTH_L1, FL_HOT)
FL_EW_KIND(ew_log_cosh, FL_LOG_COSH, )
FL_EW_KIND(ew_quantile, FL_QUANTILE, FL_HOT)
FL_EW_KIND(ew_bce, FL_BCE, FL_HOT)
FL_EW_KIND(ew_bce_logits, FL_BCE_LOGITS, FL_HOT)
FL_EW_KIND(ew_hinge, FL_HINGE, FL_HOT)
FL_EW_KIND(ew_squared_hinge, FL_SQUARED_HINGE, FL_HOT)
FL_EW_KIND(ew_sigmoid_focal, FL_SIGMOID_FOCAL, )

static const NAME(ew_segment_fn) NAME(ew_kinds)[FL_N_ELEMENTWISE_KINDS] = {
    NAME(ew_mse), NAME(ew_l1), NAME(ew_huber), NAME(ew_smooth_l1), NAME(ew_log_cosh),
    NAME(ew_quantile), NAME(ew_bce), NAME(ew_bce_logits), NAME(ew_hinge),
    NAME(ew_squared_hinge), NAME(ew_sigmoid_focal),
};

/* Entry (r, c) of a strided weight, and whether a stretch of a row needs its array. */
FL_INLINE const REAL *NAME(weight_at)(const fl_strided_weight *sw, ptrdiff_t r, ptrdiff_t c)
{
    return (const REAL *)sw->w + r * sw->row_stride + c * sw->col_stride;
}

/* Entries [a, b) of the flat n_rows x n_cols view, one row stretch at a time. */
static void NAME(ew_range)(NAME(ew_segment_fn) fn, const REAL *x, const REAL *y,
                           ptrdiff_t n_cols, ptrdiff_t a, ptrdiff_t b,
                           const fl_elementwise_options *opt, const NAME(ew_params) *P,
                           REAL *grad, REAL *loss_out, NAME(ew_acc) *acc)
{
    ptrdiff_t r = a / n_cols, c = a % n_cols;
    while (a < b) {
        const ptrdiff_t n = b - a < n_cols - c ? b - a : n_cols - c;
        const REAL *w_arr = NULL, *pw_arr = NULL;
        REAL w = 1, pw = 1;
        if (opt->weight.w) {
            const REAL *p = NAME(weight_at)(&opt->weight, r, c);
            if (opt->weight.col_stride)
                w_arr = p;
            else
                w = *p;
        }
        if (opt->pos_weight.w) {
            const REAL *p = NAME(weight_at)(&opt->pos_weight, r, c);
            if (opt->pos_weight.col_stride)
                pw_arr = p;
            else
                pw = *p;
        }
        fn(x + a, y + a, n, w_arr, w, pw_arr, pw, P, grad ? grad + a : NULL,
           loss_out ? loss_out + a : NULL, acc);
        a += n;
        r++;
        c = 0;
    }
}

/* The first entry that raises `flag`, found again serially (an error path only). */
static ptrdiff_t NAME(ew_first_flag)(int kind, const REAL *x, const REAL *y, ptrdiff_t n,
                                     int flag, const NAME(ew_params) *P)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        REAL g, ix = 0, iy = 0;
        int f = 0, c = 0;
        (void)NAME(ew_entry)(kind, 0, x[i], y[i], 1, P, &g, &ix, &iy, &f, &c);
        f |= (ix < 0) * FL_EW_BAD_INPUT | (iy < 0) * FL_EW_BAD_TARGET;
        if (f & flag)
            return i;
    }
    return -1;
}

int NAME(fl_elementwise)(const REAL *input, const REAL *target, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, const fl_elementwise_options *opt, double *value,
                         REAL *loss_out, REAL *grad, fl_elementwise_info *info,
                         fl_error *err, int n_threads)
{
    if (opt->kind < 0 || opt->kind >= FL_N_ELEMENTWISE_KINDS || n_rows < 0 || n_cols < 0
        || (opt->reduction == FL_REDUCTION_NONE) != (loss_out != NULL))
        return FL_ERR_ARGUMENT;
    const ptrdiff_t n = n_rows * n_cols;
    const int mean = opt->reduction == FL_REDUCTION_MEAN;
    NAME(ew_params) P;
    P.p0 = (REAL)opt->p0;
    P.p1 = (REAL)opt->p1;
    P.inv_p0 = opt->p0 != 0.0 ? (REAL)(1.0 / opt->p0) : (REAL)0;
    P.gscale = mean ? (REAL)(1.0 / opt->divisor) : (REAL)1;
    const NAME(ew_segment_fn) fn = NAME(ew_kinds)[opt->kind];

    const ptrdiff_t block = fl_flat_block(n);
    const ptrdiff_t n_blocks = n > 0 ? (n + block - 1) / block : 0;
    NAME(ew_acc) acc[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, (double)n);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t k = 0; k < n_blocks; k++) {
        const ptrdiff_t a = k * block, b = a + block < n ? a + block : n;
        acc[k].sum = 0.0;
        acc[k].flags = 0;
        acc[k].n_clamped = 0;
        NAME(ew_range)(fn, input, target, n_cols, a, b, opt, &P, grad, loss_out, &acc[k]);
    }

    double sum = 0.0;
    int flags = 0;
    int64_t clamped = 0;
    for (ptrdiff_t k = 0; k < n_blocks; k++) {
        sum += acc[k].sum;
        flags |= acc[k].flags;
        clamped += acc[k].n_clamped;
    }
    info->n_clamped = clamped;
    if (flags & (FL_EW_BAD_INPUT | FL_EW_BAD_TARGET)) {
        const int which = flags & FL_EW_BAD_INPUT ? FL_EW_BAD_INPUT : FL_EW_BAD_TARGET;
        err->row = NAME(ew_first_flag)(opt->kind, input, target, n, which, &P);
        err->value = which == FL_EW_BAD_INPUT ? 0 : 1;
        return FL_ERR_VALUE;
    }
    if ((flags & FL_EW_ZERO) && (flags & FL_EW_MINUS_ONE)) {
        /* the second encoding's first entry */
        const ptrdiff_t i0 = NAME(ew_first_flag)(opt->kind, input, target, n, FL_EW_ZERO, &P);
        const ptrdiff_t i1 =
            NAME(ew_first_flag)(opt->kind, input, target, n, FL_EW_MINUS_ONE, &P);
        err->row = i0 > i1 ? i0 : i1;
        err->value = 2;
        return FL_ERR_VALUE;
    }
    *value = mean ? sum / opt->divisor : sum;
    return FL_OK;
}

#undef FL_EW_CALL
#undef FL_EW_OUTPUTS
#undef FL_EW_VARIANTS
#undef FL_EW_SEGMENT_ARGS
#undef FL_EW_KIND
#undef NAME
#undef NAME__
#undef NAME_

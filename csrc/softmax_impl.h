/*
 * softmax_impl.h - row kernels of the softmax family, written once for both types.
 * Included by softmax.c with REAL (float or double), SFX (f32 or f64) and EXP (the
 * vectorizable exp of fl_common.h for REAL, on x <= 0). Sums accumulate in double (the
 * exponentials in short runs of REAL first, see exp_sum).
 *
 * Shapes: x, grad, out are n_rows x n_cols, C-contiguous; one row = one sample.
 *
 * Cross-entropy of row x with target weights b_j (b >= 0):
 *     loss = sum_j b_j * (lse(x) - x_j),   lse(x) = m + log sum_j exp(x_j - m)
 *     dloss/dx_j = A * softmax(x)_j - b_j,  A = sum_j b_j
 * with, for a hard label y (eps = label smoothing, w = class weights, C classes)
 *     b_j = (1 - eps) w_y [j = y] + (eps / C) w_j
 * and for a target distribution t
 *     b_j = w_j ((1 - eps) t_j + eps / C).
 * The loss is evaluated as sum_j b_j (m - x_j) + A log(sum): every term is >= 0, so
 * nothing cancels even for logits of 1e30.
 *
 * One row is read from memory once: row_pass walks it in L1-sized chunks, taking the
 * chunk max, then exp(x_j - m) for the running max m (rescaling the running sum when m
 * grows: the online softmax), storing exp(x_j - m_chunk) in the gradient buffer. The
 * gradient pass then rescales each chunk by exp(m_chunk - m) / sum while the row is
 * still in cache.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/* How the target weights c_j of row_pass are formed. */
enum { NAME(C_NONE), NAME(C_WEIGHT), NAME(C_SOFT) };

typedef struct NAME(row_target) {
    ptrdiff_t y;          /* hard label, or -1 for a target distribution */
    double b_y;           /* (1 - eps) w_y: the label's own share */
    double eps_c;         /* eps / C */
    const double *w;      /* class weights */
    const REAL *t;        /* target distribution row, or NULL */
    double a, b;          /* soft: c_j = w_j (a t_j + b) */
} NAME(row_target);

FL_INLINE double NAME(target_weight)(const NAME(row_target) *rt, ptrdiff_t j)
{
    if (rt->t)
        return rt->w[j] * (rt->a * (double)rt->t[j] + rt->b);
    return rt->eps_c * rt->w[j] + (j == rt->y ? rt->b_y : 0.0);
}

/* What exp_sum writes for each entry: nothing or exp(x_j - m). */
enum { NAME(STORE_NOTHING), NAME(STORE_EXP) };

/*
 * The sums behind exp_sum. Entries are summed in FL_SUM_LANES lanes; each lane adds
 * FL_SUM_RUN terms in REAL, then the run moves into a double accumulator. In float
 * that is a relative error of at most (FL_SUM_RUN - 1) * 2^-24 = 1.8e-7 (the exp
 * itself is within 2 ulp), and it converts to double once every FL_SUM_RUN vectors
 * instead of every vector: on AVX-512 that takes a third off the pass. The order of
 * the sum is the same for every SIMD width.
 */
#ifndef FL_SUM_LANES
#define FL_SUM_LANES 16
#define FL_SUM_RUN 4
#define FL_SUM_BLOCK (FL_SUM_LANES * FL_SUM_RUN)
#endif
/* Entries ahead of the one being summed that are fetched into the cache, so that the
 * next chunk's max pass finds them there instead of waiting for memory, which the
 * arithmetic of exp_sum otherwise overlaps: in a row of several chunks, a chunk's
 * length (the next chunk whole); otherwise FL_PREFETCH_AHEAD, about one row of 1000
 * ahead. A whole row ahead was measured slower for rows of one chunk (14% at 2048x2000),
 * a whole chunk 6-10% faster for rows of many (1024x32000, 256x128000). Rows of one
 * chunk also fetch the output's lines for writing (2-3% at 4096x1000 on Zen 4, none on
 * the Intel VM); in rows of many that was 8% slower, a chunk ahead of the stores. */
#ifndef FL_PREFETCH_AHEAD
#define FL_PREFETCH_AHEAD 1024
#endif

/* How exp_sum sums: all of exp(x_j - m); split into the entries below m and a count of
 * those equal to it; or split, over entries that already hold exp(x_j - m). */
enum { NAME(SUM_PLAIN), NAME(SUM_SPLIT), NAME(SUM_SPLIT_EXPS) };

/* One block of FL_SUM_BLOCK entries into the lane accumulators; its first `skip`
 * entries are stored but left out of the sums (they were summed already). With
 * fetch_out the output's lines `ahead` are fetched for writing too. */
FL_INLINE void NAME(exp_sum_block)(const REAL *restrict xb, ptrdiff_t ahead, int fetch_out,
                                   REAL m, REAL *restrict eb, int store, int sum,
                                   double *restrict acc, REAL *restrict tops, int skip)
{
    REAL part[FL_SUM_LANES] = {0};
    for (int u = 0; u < FL_SUM_RUN; u++) {
        const REAL *restrict xs = xb + u * FL_SUM_LANES;
        if (sum != NAME(SUM_SPLIT_EXPS))
            __builtin_prefetch(xs + ahead);
        REAL *restrict es = eb + u * FL_SUM_LANES;
        if (store && fetch_out)
            __builtin_prefetch(es + ahead, 1);
        FL_SIMD
        for (int l = 0; l < FL_SUM_LANES; l++) {
            const REAL v = xs[l];
            const REAL e = sum == NAME(SUM_SPLIT_EXPS) ? v : EXP(v - m);
            if (store == NAME(STORE_EXP))
                es[l] = e;
            /* selects of values, not branches, so that the loop vectorizes; a NaN
             * entry is never a top and lands in the sum below. Over stored exps the
             * tops are the entries whose exp is 1, which adds the entries within an
             * ulp of m to them: the same sum, as their exp rounds to 1 too. */
            const int counted = u * FL_SUM_LANES + l >= skip;
            if (sum == NAME(SUM_PLAIN)) {
                part[l] = part[l] + (counted ? e : (REAL)0);
            } else {
                const int top = sum == NAME(SUM_SPLIT) ? v >= m : e >= (REAL)1;
                const REAL e_below = top || !counted ? (REAL)0 : e;
                const REAL one_top = top && counted ? (REAL)1 : (REAL)0;
                part[l] = part[l] + e_below;
                tops[l] = tops[l] + one_top;
            }
        }
    }
    FL_SIMD
    for (int l = 0; l < FL_SUM_LANES; l++)
        acc[l] += (double)part[l];
}

/* acc[l] += acc[l + w] and tops[l] += tops[l + w] for l < w: one round of exp_sum's
 * pairwise sum of its lanes. */
FL_INLINE void NAME(add_upper_half)(double *restrict acc, REAL *restrict tops, int w)
{
    FL_SIMD
    for (int l = 0; l < w; l++) {
        acc[l] += acc[l + w];
        tops[l] += tops[l + w];
    }
}

/*
 * The sum of exp(x_j - m) over a chunk (m >= every x_j), into *below (SUM_PLAIN, *top =
 * 0); a NaN entry makes it NaN. With SUM_SPLIT the entries equal to m (each exactly 1,
 * as exp(0) == 1) are counted in *top instead and *below sums the others only: then
 * the sum minus 1 is exact enough for log1p when one entry dominates, which the plain
 * sum, rounding 1 + e_j in REAL, is not. SUM_SPLIT_EXPS does the same over a chunk xc
 * that holds exp(x_j - m) already (m is not used).
 * With `store`, ec receives exp(x_j - m). Every entry goes through the same
 * vector code: the last, partial block overlaps the one before it, or (in a chunk
 * shorter than a block) is padded with -inf, whose exp is 0 (0 for stored exps).
 * The entries `ahead` of each one summed are fetched into the cache (see
 * FL_PREFETCH_AHEAD).
 */
FL_INLINE void NAME(exp_sum)(const REAL *restrict xc, ptrdiff_t len, ptrdiff_t ahead,
                             int fetch_out, REAL m, REAL *restrict ec, int store, int sum,
                             double *below_out, double *top_out)
{
    double acc[FL_SUM_LANES] = {0};
    REAL tops[FL_SUM_LANES] = {0};
    ptrdiff_t j0 = 0;
    for (; j0 + FL_SUM_BLOCK <= len; j0 += FL_SUM_BLOCK)
        NAME(exp_sum_block)(xc + j0, ahead, fetch_out, m, store ? ec + j0 : NULL, store, sum,
                            acc, tops, 0);
    if (j0 < len && len >= FL_SUM_BLOCK) {
        /* the last FL_SUM_BLOCK entries, overlapping the blocks before: the overlap
         * is stored again (the same values) and left out of the sums */
        const ptrdiff_t last = len - FL_SUM_BLOCK;
        NAME(exp_sum_block)(xc + last, ahead, fetch_out, m, store ? ec + last : NULL, store,
                            sum, acc, tops, (int)(j0 - last));
    } else if (j0 < len) {
        REAL xt[FL_SUM_BLOCK], et[FL_SUM_BLOCK];
        const ptrdiff_t rest = len - j0;
        const REAL pad = sum == NAME(SUM_SPLIT_EXPS) ? (REAL)0 : -(REAL)INFINITY;
        for (ptrdiff_t l = 0; l < FL_SUM_BLOCK; l++)
            xt[l] = l < rest ? xc[j0 + l] : pad;
        NAME(exp_sum_block)(xt, 0, 0, m, et, store, sum, acc, tops, 0);
        if (store)
            memcpy(ec + j0, et, (size_t)rest * sizeof(REAL));
    }
    /* lanes added pairwise, in a fixed order: a short dependency chain. The rounds are
     * written out: a loop over the width compiles to scalar code through memory. */
    _Static_assert(FL_SUM_LANES == 16, "four pairwise rounds");
    NAME(add_upper_half)(acc, tops, 8);
    NAME(add_upper_half)(acc, tops, 4);
    NAME(add_upper_half)(acc, tops, 2);
    NAME(add_upper_half)(acc, tops, 1);
    *below_out = acc[0];
    *top_out = (double)tops[0];
}

/* Below this plain sum row_pass splits the sum (see exp_sum), as log_sum takes log1p of
 * the sum minus 1 there. Above it log(sum) of the plain sum is within 2e-7 of log(sum),
 * which is at least log(1.5) = 0.41: a relative 5e-7 of the loss at most. */
#define FL_SPLIT_SUM_BELOW 1.5

/* The split sum of a finite row from the exps its pass stored, e_j = exp(x_j -
 * chunk_max[k]): a chunk whose running max is below the row max holds no entry equal
 * to it. */
FL_INLINE void NAME(split_stored_sum)(const REAL *restrict e, ptrdiff_t n,
                                      const REAL *restrict chunk_max, fl_row_stats *s)
{
    const ptrdiff_t chunk = fl_chunk_len(n);
    double below = 0.0, n_top = 0.0;
    ptrdiff_t k = 0;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += chunk, k++) {
        const ptrdiff_t len = n - j0 < chunk ? n - j0 : chunk;
        double b, t;
        NAME(exp_sum)(e + j0, len, 0, 0, 0, NULL, NAME(STORE_NOTHING), NAME(SUM_SPLIT_EXPS),
                      &b, &t);
        if ((double)chunk_max[k] == s->m) {
            below += b;
            n_top += t;
        } else {
            below += (b + t) * exp((double)chunk_max[k] - s->m);
        }
    }
    s->below = below;
    s->n_top = n_top;
}

/* lane[l] = max(lane[l], lane[l + w]) for l < w: one round of chunk_max_of. */
FL_INLINE void NAME(max_upper_half)(REAL *restrict lane, int w)
{
    FL_SIMD
    for (int l = 0; l < w; l++)
        lane[l] = lane[l + w] > lane[l] ? lane[l + w] : lane[l];
}

/* The max of a chunk, over FL_SUM_LANES lanes of whole vectors; the last vector
 * overlaps the one before it (a max does not mind counting an entry twice), so no
 * scalar tail. The lanes come in FL_MAX_SETS independent sets: with one, every vector
 * would wait for the max before it (3-4% of a 1000-long row on AVX-512). After the
 * first vector the loads start on a cache-line boundary, as a max may take its entries
 * in any order: NumPy's arrays start 16 bytes past one, and loads that straddle lines
 * cost 8% of a 1000-long row's pass. A NaN entry may or may not show in the result:
 * row_pass's sum catches it either way. */
#define FL_MAX_SETS 4
FL_INLINE REAL NAME(chunk_max_of)(const REAL *restrict xc, ptrdiff_t len)
{
    if (len < FL_SUM_LANES) {
        REAL mc = xc[0];
        for (ptrdiff_t j = 1; j < len; j++)
            mc = xc[j] > mc ? xc[j] : mc;
        return mc;
    }
    REAL lane[FL_MAX_SETS][FL_SUM_LANES];
    for (int k = 0; k < FL_MAX_SETS; k++)
        memcpy(lane[k], xc, sizeof lane[k]);
    ptrdiff_t j0 = fl_misalignment(xc, sizeof(REAL));
    for (; j0 + FL_MAX_SETS * FL_SUM_LANES <= len; j0 += FL_MAX_SETS * FL_SUM_LANES) {
        for (int k = 0; k < FL_MAX_SETS; k++) {
            const REAL *restrict xk = xc + j0 + k * FL_SUM_LANES;
            FL_SIMD
            for (int l = 0; l < FL_SUM_LANES; l++)
                lane[k][l] = xk[l] > lane[k][l] ? xk[l] : lane[k][l];
        }
    }
    for (; j0 + FL_SUM_LANES <= len; j0 += FL_SUM_LANES) {
        FL_SIMD
        for (int l = 0; l < FL_SUM_LANES; l++)
            lane[0][l] = xc[j0 + l] > lane[0][l] ? xc[j0 + l] : lane[0][l];
    }
    if (j0 < len) {
        const REAL *restrict xl = xc + len - FL_SUM_LANES;
        FL_SIMD
        for (int l = 0; l < FL_SUM_LANES; l++)
            lane[0][l] = xl[l] > lane[0][l] ? xl[l] : lane[0][l];
    }
    for (int k = 1; k < FL_MAX_SETS; k++) {
        FL_SIMD
        for (int l = 0; l < FL_SUM_LANES; l++)
            lane[0][l] = lane[k][l] > lane[0][l] ? lane[k][l] : lane[0][l];
    }
    NAME(max_upper_half)(lane[0], 8);
    NAME(max_upper_half)(lane[0], 4);
    NAME(max_upper_half)(lane[0], 2);
    NAME(max_upper_half)(lane[0], 1);
    return lane[0][0];
}

/* log(sum_j exp(x_j - m)) from the split sum; log1p only where it matters (it costs
 * several times a log). */
FL_INLINE double NAME(log_sum)(const fl_row_stats *s)
{
    const double s_minus_1 = s->below + (s->n_top - 1.0);
    return s_minus_1 < 0.5 ? log1p(s_minus_1) : log(s->below + s->n_top);
}

/*
 * One pass over a row: max, the sum of exp (see fl_row_stats), and d = sum_j c_j (m -
 * x_j) for c_j chosen by `mode`: C_NONE (no d), C_WEIGHT (c = w), C_SOFT (c = w (a t +
 * b)). When e_out is not NULL it receives exp(x_j - chunk_max[k]) for the running max
 * chunk_max[k] of chunk k: writing the output here, where exp keeps the core busy,
 * hides the cost of fetching its cache lines; a later streaming pass could not. Returns finite = 0 for a row that needs the scalar
 * limit code: +inf or NaN entries, or a chunk that is all -inf.
 * The split of the sum costs about a quarter of the pass (five of the twenty-odd vector
 * operations per vector of entries). A pass that stores the exps sums them plainly and
 * splits the stored exps afterwards, from L1 and without exp, only in a row whose sum
 * is below FL_SPLIT_SUM_BELOW; the others split as they go.
 */
FL_INLINE fl_row_stats NAME(row_pass)(const REAL *restrict x, ptrdiff_t n, int mode,
                                      const double *restrict w, const REAL *restrict t,
                                      double a, double b, REAL *restrict e_out,
                                      REAL *restrict chunk_max)
{
    fl_row_stats s = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1};
    const ptrdiff_t chunk = fl_chunk_len(n);
    const ptrdiff_t ahead = n > chunk ? chunk : FL_PREFETCH_AHEAD;
    const int fetch_out = n <= chunk;
    ptrdiff_t k = 0;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += chunk, k++) {
        const ptrdiff_t len = n - j0 < chunk ? n - j0 : chunk;
        const REAL *restrict xc = x + j0;

        const REAL mc = NAME(chunk_max_of)(xc, len);
        if (!(fabs((double)mc) < INFINITY)) {  /* +inf, NaN, or a chunk of -inf */
            s.finite = 0;
            return s;
        }
        if (k == 0 || mc > s.m) {
            if (k > 0) {
                const double shift = (double)mc - s.m;
                s.below = (s.below + s.n_top) * exp(-shift);
                s.n_top = 0.0;
                s.d += shift * s.c_sum;
            }
            s.m = mc;
        }
        const REAL m = (REAL)s.m;
        chunk_max[k] = m;

        double below, top;
        if (e_out)
            NAME(exp_sum)(xc, len, ahead, fetch_out, m, e_out + j0, NAME(STORE_EXP),
                          NAME(SUM_PLAIN), &below, &top);
        else
            NAME(exp_sum)(xc, len, ahead, fetch_out, m, NULL, NAME(STORE_NOTHING),
                          NAME(SUM_SPLIT), &below, &top);
        s.below += below;
        s.n_top += top;

        if (mode == NAME(C_NONE))
            continue;
        const double *restrict wc = w + j0;
        const double md = s.m;
        double d = 0.0, cs = 0.0;
        if (mode == NAME(C_WEIGHT)) {
            FL_PRAGMA(omp simd reduction(+ : d, cs))
            for (ptrdiff_t j = 0; j < len; j++) {
                d += wc[j] * (md - (double)xc[j]);
                cs += wc[j];
            }
        } else {
            const REAL *restrict tc = t + j0;
            FL_PRAGMA(omp simd reduction(+ : d, cs))
            for (ptrdiff_t j = 0; j < len; j++) {
                const double c = wc[j] * (a * (double)tc[j] + b);
                d += c * (md - (double)xc[j]);
                cs += c;
            }
        }
        s.d += d;
        s.c_sum += cs;
    }
    /* A NaN entry that the max skipped shows up here; -inf entries are handled by the
     * fast path (exp gives 0) unless they meet a zero target weight (0 * inf). */
    if (isnan(s.below + s.n_top + s.d))
        s.finite = 0;
    s.split = !e_out;
    return s;
}

/* s->log_s of a row after its pass, splitting first the exps the pass stored in e when
 * its sum is small enough to need it (see row_pass). softmax, which needs no log, skips
 * this. */
FL_INLINE void NAME(row_log_sum)(fl_row_stats *s, const REAL *restrict e, ptrdiff_t n,
                                 const REAL *restrict chunk_max)
{
    if (!s->finite)
        return;
    if (!s->split && s->below < FL_SPLIT_SUM_BELOW)
        NAME(split_stored_sum)(e, n, chunk_max, s);
    s->log_s = NAME(log_sum)(s);
}

/* The exact limits for a row with inf or NaN entries (scalar code, libm). */
static fl_row_limits NAME(row_limits)(const REAL *x, ptrdiff_t n)
{
    fl_row_limits L = {FL_ROW_FINITE, -INFINITY, 0.0};
    ptrdiff_t n_pinf = 0;
    for (ptrdiff_t j = 0; j < n; j++) {
        const double v = x[j];
        if (isnan(v)) {
            L.kind = FL_ROW_NAN;
            return L;
        }
        n_pinf += v == INFINITY;
        if (v > L.m)
            L.m = v;
    }
    if (n_pinf > 0) {
        L.kind = FL_ROW_PINF;
        L.log_s = log((double)n_pinf);
    } else if (L.m == -INFINITY) {
        L.kind = FL_ROW_NAN;
    } else {
        double s = 0.0;
        for (ptrdiff_t j = 0; j < n; j++)
            s += exp((double)x[j] - L.m);
        L.log_s = log(s);
    }
    return L;
}

/* Cross-entropy of a row with inf or NaN entries: the limit, term by term. A term
 * with b_j = 0 contributes 0 even where log p_j = -inf. */
static double NAME(ce_row_limits)(const REAL *x, ptrdiff_t n, const NAME(row_target) *rt,
                                  double coef, REAL *g)
{
    const fl_row_limits L = NAME(row_limits)(x, n);
    double A = 0.0, loss = 0.0;
    for (ptrdiff_t j = 0; j < n; j++)
        A += NAME(target_weight)(rt, j);
    for (ptrdiff_t j = 0; j < n; j++) {
        const double bj = NAME(target_weight)(rt, j);
        const double lp = fl_row_logp(&L, x[j]);
        if (bj != 0.0)
            loss -= bj * lp;
        if (g)
            g[j] = (REAL)(coef * (A * exp(lp) - bj));
    }
    return L.kind == FL_ROW_NAN ? NAN : loss;
}

FL_INLINE int NAME(target_mode)(const NAME(row_target) *rt)
{
    return rt->t ? NAME(C_SOFT) : (rt->eps_c > 0 ? NAME(C_WEIGHT) : NAME(C_NONE));
}

/* Loss of one row from its pass statistics, and coef * its gradient into g when g is
 * not NULL (g then holds exp(x_j - chunk_max[k]) from the pass). */
FL_INLINE double NAME(ce_finish)(const REAL *restrict x, ptrdiff_t n, const NAME(row_target) *rt,
                                 double w_sum, double coef, const fl_row_stats *sp,
                                 REAL *restrict g, const REAL *restrict chunk_max)
{
    if (!sp->finite)
        return NAME(ce_row_limits)(x, n, rt, coef, g);
    const fl_row_stats s = *sp;
    const int mode = NAME(target_mode)(rt);
    const double log_s = s.log_s;
    const double S = s.below + s.n_top;
    const double inv_S = 1.0 / S;
    double loss, A;
    if (rt->t) {
        A = s.c_sum;
        loss = s.d + A * log_s;
    } else {
        A = rt->b_y + rt->eps_c * w_sum;
        loss = rt->b_y * ((s.m - (double)x[rt->y]) + log_s);
        if (rt->eps_c > 0)
            loss += rt->eps_c * (s.d + w_sum * log_s);
    }
    if (!g)
        return loss;

    /* exp(x_y - m_chunk), stored by row_pass, before the gradient pass overwrites it */
    const ptrdiff_t chunk = fl_chunk_len(n);
    const double e_y = rt->t ? 0.0 : (double)g[rt->y];
    const double m_y = rt->t ? 0.0 : (double)chunk_max[n <= chunk ? 0 : rt->y / chunk];
    ptrdiff_t k = 0;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += chunk, k++) {
        const ptrdiff_t len = n - j0 < chunk ? n - j0 : chunk;
        REAL *restrict gc = g + j0;
        const double cm = chunk_max[k];
        const double alpha = coef * A * (cm == s.m ? 1.0 : exp(cm - s.m)) * inv_S;
        if (mode == NAME(C_NONE)) {
            const REAL al = (REAL)alpha;
            /* NumPy aligns arrays to 16 bytes, and stores that straddle two cache
             * lines cost a few percent of the whole kernel: the vector loop starts on
             * a 64-byte boundary (elementwise, so the bits do not depend on where) */
            ptrdiff_t head = fl_misalignment(gc, sizeof(REAL));
            head = head < len ? head : len;
            for (ptrdiff_t j = 0; j < head; j++)
                gc[j] *= al;
            FL_SIMD
            for (ptrdiff_t j = head; j < len; j++)
                gc[j] *= al;
        } else if (mode == NAME(C_WEIGHT)) {
            const double *restrict wc = rt->w + j0;
            const double beta = coef * rt->eps_c;
            FL_SIMD
            for (ptrdiff_t j = 0; j < len; j++)
                gc[j] = (REAL)(alpha * (double)gc[j] - beta * wc[j]);
        } else {
            const double *restrict wc = rt->w + j0;
            const REAL *restrict tc = rt->t + j0;
            const double a = rt->a, b = rt->b;
            FL_SIMD
            for (ptrdiff_t j = 0; j < len; j++)
                gc[j] = (REAL)(alpha * (double)gc[j] - coef * wc[j] * (a * (double)tc[j] + b));
        }
    }
    if (!rt->t) {
        /* The label's entry, A p_y - b_y, in double. When x_y is the max, p_y = 1/S and
         * A/S - b_y = ((A - b_y) - b_y (S - 1)) / S avoids cancelling 1/S against 1. */
        const ptrdiff_t y = rt->y;
        const double by = rt->b_y + rt->eps_c * rt->w[y];
        double gy;
        if ((double)x[y] == s.m)
            gy = (rt->eps_c * (w_sum - rt->w[y]) - by * (s.below + (s.n_top - 1.0))) * inv_S;
        else
            gy = A * e_y * (m_y == s.m ? 1.0 : exp(m_y - s.m)) * inv_S - by;
        g[y] = (REAL)(coef * gy);
    }
    return loss;
}

FL_INLINE double NAME(ce_row)(const REAL *restrict x, ptrdiff_t n, const NAME(row_target) *rt,
                              double w_sum, double coef, REAL *restrict g,
                              REAL *restrict chunk_max)
{
    fl_row_stats s = NAME(row_pass)(x, n, NAME(target_mode)(rt), rt->w, rt->t, rt->a, rt->b,
                                    g, chunk_max);
    NAME(row_log_sum)(&s, g, n, chunk_max);
    return NAME(ce_finish)(x, n, rt, w_sum, coef, &s, g, chunk_max);
}

/* Sets up the target of row i; returns 0 when the row is ignored. */
FL_INLINE int NAME(row_target_at)(NAME(row_target) *rt, const fl_class_target *tg,
                                  const fl_class_options *opt, ptrdiff_t i, ptrdiff_t n_cols)
{
    const double eps = opt->label_smoothing;
    rt->w = opt->weight;
    if (tg->labels) {
        const int64_t y = fl_label_at(tg, i);
        if (y == tg->ignore_index)
            return 0;
        rt->y = (ptrdiff_t)y;
        rt->b_y = (1.0 - eps) * opt->weight[y];
        rt->eps_c = eps / (double)n_cols;
        rt->t = NULL;
        rt->a = rt->b = 0.0;
    } else {
        rt->y = -1;
        rt->b_y = 0.0;
        rt->eps_c = 0.0;
        rt->t = (const REAL *)tg->probs + i * n_cols;
        rt->a = 1.0 - eps;
        rt->b = eps / (double)n_cols;
    }
    return 1;
}

/*
 * Short rows (n <= FL_SMALL_ROW), FL_TILE_ROWS rows at a time (rows <= FL_TILE_ROWS):
 * the tile is transposed, xt[j][r], so that every per-row step (the max, the split
 * sum, the log, the outputs) runs in vector code across the rows instead of in scalar
 * code along a row of a few entries. tile_pass fills xt, the row maxima m, et = exp(xt
 * - m) and the split sums, with the arithmetic of row_pass; rows past `rows` repeat
 * the tile's first row.
 */
typedef struct NAME(tile) {
    REAL xt[FL_SMALL_ROW][FL_TILE_ROWS], et[FL_SMALL_ROW][FL_TILE_ROWS];
    REAL m[FL_TILE_ROWS], one_top[FL_TILE_ROWS];
    double below[FL_TILE_ROWS];
} NAME(tile);

#if FL_TILE_SHUFFLE
/*
 * The transposes of a tile, in blocks of 16 x 16 entries: 16 rows are loaded as 16
 * vectors and transposed by four rounds of two-vector shuffles (round w swaps the
 * off-diagonal w x w blocks of every 2w x 2w block), instead of moving the entries
 * one at a time.
 */
typedef REAL NAME(lanes) __attribute__((vector_size(FL_TILE_ROWS * sizeof(REAL))));

#define FL_SWAP_ROWS(v, r, w) do { \
        const NAME(lanes) a_ = v[r], b_ = v[(r) + (w)]; \
        FL_SWAP_HALVES_##w(a_, b_, v[r], v[(r) + (w)]); \
    } while (0)
#define FL_SWAP_HALVES_8(a, b, lo, hi) \
    (lo = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), \
     hi = __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#define FL_SWAP_HALVES_4(a, b, lo, hi) \
    (lo = __builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27), \
     hi = __builtin_shufflevector(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
#define FL_SWAP_HALVES_2(a, b, lo, hi) \
    (lo = __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29), \
     hi = __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
#define FL_SWAP_HALVES_1(a, b, lo, hi) \
    (lo = __builtin_shufflevector(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30), \
     hi = __builtin_shufflevector(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))

FL_INLINE void NAME(transpose16)(NAME(lanes) v[16])
{
    for (int r = 0; r < 16; r++)
        if (!(r & 8))
            FL_SWAP_ROWS(v, r, 8);
    for (int r = 0; r < 16; r++)
        if (!(r & 4))
            FL_SWAP_ROWS(v, r, 4);
    for (int r = 0; r < 16; r++)
        if (!(r & 2))
            FL_SWAP_ROWS(v, r, 2);
    for (int r = 0; r < 16; r++)
        if (!(r & 1))
            FL_SWAP_ROWS(v, r, 1);
}
#endif

/*
 * dst[j][r] = src[r * n + j] for the `rows` rows of n entries at src; rows past `rows`
 * repeat the first. Reads nothing past the last row.
 */
FL_INLINE void NAME(tile_in)(REAL (*restrict dst)[FL_TILE_ROWS], const REAL *restrict src,
                             ptrdiff_t rows, ptrdiff_t n)
{
    enum { T = FL_TILE_ROWS };
#if FL_TILE_SHUFFLE
    for (ptrdiff_t c0 = 0; c0 < n; c0 += T) {
        NAME(lanes) v[T];
        for (ptrdiff_t r = 0; r < T; r++) {
            const ptrdiff_t at = (r < rows ? r : 0) * n + c0;
            if (at + T <= rows * n) {
                memcpy(&v[r], src + at, sizeof v[r]);
            } else {
                REAL part[T] = {0};
                for (ptrdiff_t j = 0; j < T && c0 + j < n; j++)
                    part[j] = src[at + j];
                memcpy(&v[r], part, sizeof v[r]);
            }
        }
        NAME(transpose16)(v);
        for (int j = 0; j < T; j++)
            memcpy(dst[c0 + j], &v[j], sizeof v[j]);
    }
#else
    for (ptrdiff_t j = 0; j < n; j++) {
        for (ptrdiff_t r = 0; r < T; r++)
            dst[j][r] = src[(r < rows ? r : 0) * n + j];
    }
#endif
}

/* dst[r * n + j] = src[j][r] for r < rows: the inverse of tile_in. Writes nothing past
 * the last row. */
FL_INLINE void NAME(tile_out)(REAL *restrict dst, REAL (*restrict src)[FL_TILE_ROWS],
                              ptrdiff_t rows, ptrdiff_t n)
{
    enum { T = FL_TILE_ROWS };
#if FL_TILE_SHUFFLE
    REAL by_row[T][FL_SMALL_ROW];
    for (ptrdiff_t c0 = 0; c0 < n; c0 += T) {
        NAME(lanes) v[T];
        for (int j = 0; j < T; j++) {
            if (c0 + j < n)
                memcpy(&v[j], src[c0 + j], sizeof v[j]);
            else
                memset(&v[j], 0, sizeof v[j]);
        }
        NAME(transpose16)(v);
        for (int r = 0; r < T; r++)
            memcpy(&by_row[r][c0], &v[r], sizeof v[r]);
    }
    /* whole vectors, in row order: the part past the end of row r is rewritten by row
     * r + 1; the rows whose vector would pass the last row are copied entry by entry */
    const ptrdiff_t width = n <= T ? T : 2 * T;
    ptrdiff_t r = 0;
    for (; r < rows && r * n + width <= rows * n; r++) {
        if (width == T)
            memcpy(dst + r * n, by_row[r], T * sizeof(REAL));
        else
            memcpy(dst + r * n, by_row[r], 2 * T * sizeof(REAL));
    }
    for (; r < rows; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            dst[r * n + j] = by_row[r][j];
#else
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            dst[r * n + j] = src[j][r];
#endif
}

FL_INLINE void NAME(tile_pass)(NAME(tile) *restrict tl, const REAL *restrict x, ptrdiff_t i0,
                               ptrdiff_t rows, ptrdiff_t n)
{
    enum { T = FL_TILE_ROWS };
    NAME(tile_in)(tl->xt, x + i0 * n, rows, n);
    FL_SIMD
    for (int r = 0; r < T; r++)
        tl->m[r] = tl->xt[0][r];
    for (ptrdiff_t j = 1; j < n; j++) {
        FL_SIMD
        for (int r = 0; r < T; r++)
            tl->m[r] = tl->xt[j][r] > tl->m[r] ? tl->xt[j][r] : tl->m[r];
    }
    FL_SIMD
    for (int r = 0; r < T; r++) {
        tl->below[r] = 0.0;
        tl->one_top[r] = 0;
    }
    /* FL_SUM_RUN terms per row in REAL, then into double, as in exp_sum */
    for (ptrdiff_t j0 = 0; j0 < n; j0 += FL_SUM_RUN) {
        const ptrdiff_t j1 = j0 + FL_SUM_RUN < n ? j0 + FL_SUM_RUN : n;
        REAL part[T] = {0};
        for (ptrdiff_t j = j0; j < j1; j++) {
            FL_SIMD
            for (int r = 0; r < T; r++) {
                const REAL v = tl->xt[j][r];
                const REAL e = EXP(v - tl->m[r]);
                tl->et[j][r] = e;
                /* a NaN entry fails v >= m and makes below NaN */
                part[r] = part[r] + (v >= tl->m[r] ? (REAL)0 : e);
                tl->one_top[r] = tl->one_top[r] + (v >= tl->m[r] ? (REAL)1 : (REAL)0);
            }
        }
        FL_SIMD
        for (int r = 0; r < T; r++)
            tl->below[r] += (double)part[r];
    }
}

/* A tile row is finite when its max is and its sum is not NaN (see row_pass). */
FL_INLINE int NAME(tile_row_finite)(const NAME(tile) *tl, int r, double d)
{
    return fabs((double)tl->m[r]) < INFINITY && !isnan(tl->below[r] + d);
}

/*
 * Cross-entropy with hard labels on a tile of short rows: same arithmetic as row_pass
 * + ce_finish; a row with an inf or a NaN is redone by the scalar limit code. Returns
 * the sum of the tile's losses, added in row order.
 */
FL_INLINE double NAME(ce_label_tile)(const REAL *restrict x, ptrdiff_t i0, ptrdiff_t rows,
                                     ptrdiff_t n, const fl_class_target *tg,
                                     const fl_class_options *opt, double w_sum, double coef,
                                     REAL *restrict row_loss, REAL *restrict grad)
{
    enum { T = FL_TILE_ROWS };
    NAME(tile) tl;
    double d[T], x_y[T], w_y[T], loss[T], alpha[T];
    REAL gy[T];
    int live[T];
    ptrdiff_t y[T];
    const double eps = opt->label_smoothing, eps_c = eps / (double)n;
    const double *restrict w = opt->weight;

    NAME(tile_pass)(&tl, x, i0, rows, n);
    for (ptrdiff_t r = 0; r < T; r++) {
        const ptrdiff_t i = i0 + (r < rows ? r : 0);
        const int64_t label = fl_label_at(tg, i);
        live[r] = r < rows && label != tg->ignore_index;
        y[r] = live[r] ? (ptrdiff_t)label : 0;
        x_y[r] = (double)tl.xt[y[r]][r];
        w_y[r] = w[y[r]];
    }
    FL_SIMD
    for (int r = 0; r < T; r++)
        d[r] = 0.0;
    for (ptrdiff_t j = 0; j < n && eps > 0; j++) {
        const double wj = w[j];
        FL_SIMD
        for (int r = 0; r < T; r++)
            d[r] += wj * ((double)tl.m[r] - (double)tl.xt[j][r]);
    }
    const double b_scale = 1.0 - eps;
    REAL e_y[T];
    for (int r = 0; r < T; r++)
        e_y[r] = tl.et[y[r]][r];
    FL_SIMD
    for (int r = 0; r < T; r++) {
        const double n_top = (double)tl.one_top[r];
        const double s_minus_1 = tl.below[r] + (n_top - 1.0);
        const double S = tl.below[r] + n_top;
        const double ls = fl_log1p_unit(s_minus_1);  /* s - 1 < FL_SMALL_ROW */
        const double inv_S = 1.0 / S;
        const double b_y = b_scale * w_y[r];
        const double A = b_y + eps_c * w_sum;
        const double by = b_y + eps_c * w_y[r];
        loss[r] = b_y * (((double)tl.m[r] - x_y[r]) + ls) + eps_c * (d[r] + w_sum * ls);
        alpha[r] = coef * A * inv_S;
        /* the label's entry, A p_y - b_y; when x_y is the max, p_y = 1/S and
         * A/S - b_y = ((A - b_y) - b_y (S - 1)) / S does not cancel */
        gy[r] = (REAL)((double)tl.m[r] == x_y[r]
                           ? coef * (eps_c * (w_sum - w_y[r]) - by * s_minus_1) * inv_S
                           : alpha[r] * (double)e_y[r] - coef * by);
    }
    /* the gradient, still transposed; the label's entry is set below. Without
     * smoothing it is a scaling in REAL, as in ce_finish. */
    if (grad && eps == 0.0) {
        REAL al[T];
        FL_SIMD
        for (int r = 0; r < T; r++)
            al[r] = (REAL)alpha[r];
        for (ptrdiff_t j = 0; j < n; j++) {
            FL_SIMD
            for (int r = 0; r < T; r++)
                tl.et[j][r] *= al[r];
        }
    } else if (grad) {
        const double be = coef * eps_c;
        for (ptrdiff_t j = 0; j < n; j++) {
            const double bw = be * w[j];
            FL_SIMD
            for (int r = 0; r < T; r++)
                tl.et[j][r] = (REAL)(alpha[r] * (double)tl.et[j][r] - bw);
        }
    }
    if (grad)
        NAME(tile_out)(grad + i0 * n, tl.et, rows, n);
    /* the usual tile, every row counted and finite, without a branch per row */
    int all_plain = 1;
    FL_SIMD
    for (int r = 0; r < T; r++)
        all_plain &= (!live[r]) | NAME(tile_row_finite)(&tl, r, d[r]);
    for (ptrdiff_t r = 0; r < rows; r++)
        all_plain &= live[r];
    double acc = 0.0;
    if (all_plain) {
        for (ptrdiff_t r = 0; r < rows; r++) {
            if (grad)
                grad[(i0 + r) * n + y[r]] = gy[r];
            if (row_loss)
                row_loss[i0 + r] = (REAL)loss[r];
            acc += loss[r];
        }
        return acc;
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t i = i0 + r;
        REAL *restrict g = grad ? grad + i * n : NULL;
        double lr = 0.0;
        const int finite = NAME(tile_row_finite)(&tl, (int)r, d[r]);
        if (!live[r]) {
            if (g)
                memset(g, 0, (size_t)n * sizeof(REAL));
        } else if (!finite) {
            NAME(row_target) rt;
            NAME(row_target_at)(&rt, tg, opt, i, n);
            lr = NAME(ce_row_limits)(x + i * n, n, &rt, coef, g);
        } else {
            lr = loss[r];
            if (g)
                g[y[r]] = gy[r];
        }
        if (row_loss)
            row_loss[i] = (REAL)lr;
        acc += lr;
    }
    return acc;
}

/* Cross-entropy with target distributions on a tile of short rows, as ce_label_tile:
 * c_j = w_j ((1 - eps) t_j + eps / C), loss = sum_j c_j (m - x_j) + A log(sum), and
 * the gradient coef (A p_j - c_j) with A = sum_j c_j. */
FL_INLINE double NAME(ce_soft_tile)(const REAL *restrict x, ptrdiff_t i0, ptrdiff_t rows,
                                    ptrdiff_t n, const fl_class_target *tg,
                                    const fl_class_options *opt, double coef,
                                    REAL *restrict row_loss, REAL *restrict grad)
{
    enum { T = FL_TILE_ROWS };
    NAME(tile) tl;
    double d[T], A[T], loss[T], alpha[T];
    const double a = 1.0 - opt->label_smoothing, b = opt->label_smoothing / (double)n;
    const double *restrict w = opt->weight;
    REAL tt[FL_SMALL_ROW][T];  /* the targets, transposed as xt */
    NAME(tile_pass)(&tl, x, i0, rows, n);
    NAME(tile_in)(tt, (const REAL *)tg->probs + i0 * n, rows, n);
    for (int r = 0; r < T; r++) {
        d[r] = 0.0;
        A[r] = 0.0;
    }
    for (ptrdiff_t j = 0; j < n; j++) {
        const double wj = w[j];
        FL_SIMD
        for (int r = 0; r < T; r++) {
            const double c = wj * (a * (double)tt[j][r] + b);
            d[r] += c * ((double)tl.m[r] - (double)tl.xt[j][r]);
            A[r] += c;
        }
    }
    FL_SIMD
    for (int r = 0; r < T; r++) {
        const double n_top = (double)tl.one_top[r];
        const double ls = fl_log1p_unit(tl.below[r] + (n_top - 1.0));  /* s - 1 < FL_SMALL_ROW */
        loss[r] = d[r] + A[r] * ls;
        alpha[r] = coef * A[r] / (tl.below[r] + n_top);
    }
    for (ptrdiff_t j = 0; j < n && grad; j++) {
        const double cw = coef * w[j];
        FL_SIMD
        for (int r = 0; r < T; r++)
            tl.et[j][r] = (REAL)(alpha[r] * (double)tl.et[j][r]
                                 - cw * (a * (double)tt[j][r] + b));
    }
    if (grad)
        NAME(tile_out)(grad + i0 * n, tl.et, rows, n);
    double acc = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t i = i0 + r;
        REAL *restrict g = grad ? grad + i * n : NULL;
        double lr = loss[r];
        if (!NAME(tile_row_finite)(&tl, (int)r, d[r])) {
            NAME(row_target) rt;
            NAME(row_target_at)(&rt, tg, opt, i, n);
            lr = NAME(ce_row_limits)(x + i * n, n, &rt, coef, g);
        }
        if (row_loss)
            row_loss[i] = (REAL)lr;
        acc += lr;
    }
    return acc;
}

FL_HOT static double NAME(ce_block)(const REAL *logits, ptrdiff_t r0, ptrdiff_t r1,
                                    ptrdiff_t n_cols, const fl_class_target *tg,
                                    const fl_class_options *opt, double w_sum, double coef,
                                    REAL *row_loss, REAL *grad)
{
    REAL chunk_max[FL_MAX_CHUNKS];
    double acc = 0.0;
    if (n_cols <= FL_SMALL_ROW) {
        for (ptrdiff_t i0 = r0; i0 < r1; i0 += FL_TILE_ROWS) {
            const ptrdiff_t rows = r1 - i0 < FL_TILE_ROWS ? r1 - i0 : FL_TILE_ROWS;
            acc += tg->labels ? NAME(ce_label_tile)(logits, i0, rows, n_cols, tg, opt, w_sum,
                                                    coef, row_loss, grad)
                              : NAME(ce_soft_tile)(logits, i0, rows, n_cols, tg, opt, coef,
                                                   row_loss, grad);
        }
        return acc;
    }
    for (ptrdiff_t i = r0; i < r1; i++) {
        REAL *g = grad ? grad + i * n_cols : NULL;
        NAME(row_target) rt;
        double loss = 0.0;
        if (NAME(row_target_at)(&rt, tg, opt, i, n_cols))
            loss = NAME(ce_row)(logits + i * n_cols, n_cols, &rt, w_sum, coef, g, chunk_max);
        else if (g)
            memset(g, 0, (size_t)n_cols * sizeof(REAL));
        if (row_loss)
            row_loss[i] = (REAL)loss;
        acc += loss;
    }
    return acc;
}

/* NLL of a row of log-probabilities: loss = -sum_j b_j lp_j (terms with b_j = 0 are
 * skipped, so a -inf or NaN there does not matter); gradient -coef * b_j. */
FL_HOT static double NAME(nll_block)(const REAL *logp, ptrdiff_t r0, ptrdiff_t r1,
                                     ptrdiff_t n_cols, const fl_class_target *tg,
                                     const fl_class_options *opt, double w_sum, double coef,
                                     REAL *row_loss, REAL *grad)
{
    (void)w_sum;
    const double *restrict w = opt->weight;
    double acc = 0.0;
    for (ptrdiff_t i = r0; i < r1; i++) {
        const REAL *restrict x = logp + i * n_cols;
        REAL *restrict g = grad ? grad + i * n_cols : NULL;
        NAME(row_target) rt;
        double loss = 0.0;
        if (!NAME(row_target_at)(&rt, tg, opt, i, n_cols)) {
            if (g)
                memset(g, 0, (size_t)n_cols * sizeof(REAL));
        } else if (rt.t) {
            const REAL *restrict t = rt.t;
            const double a = rt.a, b = rt.b;
            FL_PRAGMA(omp simd reduction(+ : loss))
            for (ptrdiff_t j = 0; j < n_cols; j++) {
                const double c = w[j] * (a * (double)t[j] + b);
                loss -= c != 0.0 ? c * (double)x[j] : 0.0;
            }
            if (g) {
                FL_SIMD
                for (ptrdiff_t j = 0; j < n_cols; j++)
                    g[j] = (REAL)(0.0 - coef * w[j] * (a * (double)t[j] + b));
            }
        } else {
            const double eps_c = rt.eps_c;
            if (eps_c > 0) {
                FL_PRAGMA(omp simd reduction(+ : loss))
                for (ptrdiff_t j = 0; j < n_cols; j++)
                    loss -= w[j] != 0.0 ? eps_c * w[j] * (double)x[j] : 0.0;
            }
            if (rt.b_y != 0.0)
                loss -= rt.b_y * (double)x[rt.y];
            if (g) {
                FL_SIMD
                for (ptrdiff_t j = 0; j < n_cols; j++)
                    g[j] = (REAL)(0.0 - coef * eps_c * w[j]);  /* 0.0 - x: no -0 */
                g[rt.y] = (REAL)(0.0 - coef * (eps_c * w[rt.y] + rt.b_y));
            }
        }
        if (row_loss)
            row_loss[i] = (REAL)loss;
        acc += loss;
    }
    return acc;
}

/* Shared driver of cross_entropy and nll: validate labels, find the mean's divisor,
 * run fixed row blocks in parallel, add the block sums in order. */
static int NAME(class_loss)(int nll, const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            const fl_class_target *tg, const fl_class_options *opt,
                            double *value, REAL *row_loss, REAL *grad, fl_error *err,
                            int n_threads)
{
    if (n_rows < 0 || n_cols < 1 || !opt->weight || (!tg->labels && !tg->probs))
        return FL_ERR_ARGUMENT;
    double denom;
    const int status = fl_class_denominator(tg, n_rows, n_cols, opt->weight, &denom, err);
    if (status != FL_OK)
        return status;
    const double w_sum = fl_sum(opt->weight, n_cols);
    /* A mean over nothing (no rows, every row ignored, or zero weights) is NaN, as in
     * PyTorch; the rows that are not ignored then get a NaN gradient too. */
    const int empty_mean = opt->reduction == FL_REDUCTION_MEAN && denom == 0.0;
    const double coef = opt->reduction != FL_REDUCTION_MEAN ? 1.0 : empty_mean ? NAN : 1.0 / denom;
    if (opt->reduction != FL_REDUCTION_NONE)
        row_loss = NULL;

    const ptrdiff_t block = fl_block_rows_of(n_rows, n_cols);
    const ptrdiff_t n_blocks = (n_rows + block - 1) / block;
    double partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, fl_row_work(n_rows, n_cols));
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block;
        const ptrdiff_t r1 = r0 + block < n_rows ? r0 + block : n_rows;
        partial[bi] = nll ? NAME(nll_block)(x, r0, r1, n_cols, tg, opt, w_sum, coef, row_loss, grad)
                          : NAME(ce_block)(x, r0, r1, n_cols, tg, opt, w_sum, coef, row_loss, grad);
    }
    if (value) {
        double total = 0.0;
        for (ptrdiff_t bi = 0; bi < n_blocks; bi++)
            total += partial[bi];
        *value = opt->reduction != FL_REDUCTION_MEAN ? total : empty_mean ? NAN : total / denom;
    }
    return FL_OK;
}

int NAME(fl_cross_entropy_fwdbwd)(const REAL *logits, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                  const fl_class_target *target, const fl_class_options *opt,
                                  double *value, REAL *row_loss, REAL *grad, fl_error *err,
                                  int n_threads)
{
    return NAME(class_loss)(0, logits, n_rows, n_cols, target, opt, value, row_loss, grad,
                            err, n_threads);
}

int NAME(fl_nll_fwdbwd)(const REAL *logp, ptrdiff_t n_rows, ptrdiff_t n_cols,
                        const fl_class_target *target, const fl_class_options *opt,
                        double *value, REAL *row_loss, REAL *grad, fl_error *err,
                        int n_threads)
{
    return NAME(class_loss)(1, logp, n_rows, n_cols, target, opt, value, row_loss, grad, err,
                            n_threads);
}

/* ---- softmax, log_softmax, logsumexp --------------------------------------------- */

enum { NAME(OUT_SOFTMAX), NAME(OUT_LOG_SOFTMAX), NAME(OUT_LSE) };

/* log_softmax of a finite row x after its pass: (x_j - chunk_max[k]) - (m -
 * chunk_max[k]) - log(sum); all three terms are <= 0, nothing cancels, the result is
 * within about 2 ulp (3 for a row whose max moved between chunks). The pass stored the
 * exps in out, which this overwrites: it costs no more than storing x_j - chunk_max[k]
 * there, and it lets row_log_sum split a small sum from them without a second exp. */
FL_INLINE void NAME(log_softmax_finish)(const REAL *restrict x, ptrdiff_t n,
                                        const fl_row_stats *s, REAL *restrict out,
                                        const REAL *restrict chunk_max)
{
    const REAL ls = (REAL)s->log_s;
    const ptrdiff_t chunk = fl_chunk_len(n);
    ptrdiff_t k = 0;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += chunk, k++) {
        const ptrdiff_t len = n - j0 < chunk ? n - j0 : chunk;
        const REAL cm = chunk_max[k];
        const REAL shift = (REAL)(s->m - (double)cm);
        const REAL *restrict xc = x + j0;
        REAL *restrict oc = out + j0;
        /* the vector loop's stores start on a cache line, as in ce_finish */
        ptrdiff_t head = fl_misalignment(oc, sizeof(REAL));
        head = head < len ? head : len;
        for (ptrdiff_t j = 0; j < head; j++)
            oc[j] = ((xc[j] - cm) - shift) - ls;
        FL_SIMD
        for (ptrdiff_t j = head; j < len; j++)
            oc[j] = ((xc[j] - cm) - shift) - ls;
    }
}

/* softmax, log_softmax or logsumexp of one row from its pass statistics; for softmax
 * and log_softmax, out holds exp(x_j - chunk_max[k]) from the pass. */
FL_INLINE void NAME(softmax_finish)(const REAL *restrict x, ptrdiff_t n, const fl_row_stats *sp,
                                    REAL *restrict out, const REAL *restrict chunk_max,
                                    int what)
{
    if (!sp->finite) {
        const fl_row_limits L = NAME(row_limits)(x, n);
        if (what == NAME(OUT_LSE))
            out[0] = (REAL)fl_row_lse(&L);
        for (ptrdiff_t j = 0; what != NAME(OUT_LSE) && j < n; j++) {
            const double lp = fl_row_logp(&L, x[j]);
            out[j] = (REAL)(what == NAME(OUT_SOFTMAX) ? exp(lp) : lp);
        }
        return;
    }
    const fl_row_stats s = *sp;
    const double log_s = s.log_s;
    if (what == NAME(OUT_LSE)) {
        out[0] = (REAL)(s.m + log_s);
    } else if (what == NAME(OUT_LOG_SOFTMAX)) {
        NAME(log_softmax_finish)(x, n, &s, out, chunk_max);
    } else {
        const double S = s.below + s.n_top;
        const ptrdiff_t chunk = fl_chunk_len(n);
        ptrdiff_t k = 0;
        for (ptrdiff_t j0 = 0; j0 < n; j0 += chunk, k++) {
            const ptrdiff_t len = n - j0 < chunk ? n - j0 : chunk;
            const double cm = chunk_max[k];
            const double scale = (cm == s.m ? 1.0 : exp(cm - s.m)) / S;
            REAL *restrict oc = out + j0;
            FL_SIMD
            for (ptrdiff_t j = 0; j < len; j++)
                oc[j] = (REAL)((double)oc[j] * scale);
        }
    }
}

/* softmax, log_softmax or logsumexp of a tile of short rows (see tile_pass), with the
 * arithmetic of softmax_finish; a row with an inf or a NaN goes through its limit code. */
FL_INLINE void NAME(softmax_tile)(const REAL *restrict x, ptrdiff_t i0, ptrdiff_t rows,
                                  ptrdiff_t n, REAL *restrict out_all, int what)
{
    enum { T = FL_TILE_ROWS };
    NAME(tile) tl;
    double log_s[T], scale[T];
    NAME(tile_pass)(&tl, x, i0, rows, n);
    FL_SIMD
    for (int r = 0; r < T; r++) {
        const double n_top = (double)tl.one_top[r];
        log_s[r] = fl_log1p_unit(tl.below[r] + (n_top - 1.0));  /* s - 1 < FL_SMALL_ROW */
        scale[r] = 1.0 / (tl.below[r] + n_top);
    }
    if (what == NAME(OUT_SOFTMAX)) {
        for (ptrdiff_t j = 0; j < n; j++) {
            FL_SIMD
            for (int r = 0; r < T; r++)
                tl.et[j][r] = (REAL)((double)tl.et[j][r] * scale[r]);
        }
    } else if (what == NAME(OUT_LOG_SOFTMAX)) {
        for (ptrdiff_t j = 0; j < n; j++) {
            FL_SIMD
            for (int r = 0; r < T; r++)
                tl.et[j][r] = (tl.xt[j][r] - tl.m[r]) - (REAL)log_s[r];
        }
    }
    if (what != NAME(OUT_LSE))
        NAME(tile_out)(out_all + i0 * n, tl.et, rows, n);
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t i = i0 + r;
        if (!NAME(tile_row_finite)(&tl, (int)r, 0.0)) {
            const fl_row_stats limits = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0};
            NAME(softmax_finish)(x + i * n, n, &limits,
                                 out_all + (what == NAME(OUT_LSE) ? i : i * n), NULL, what);
        } else if (what == NAME(OUT_LSE)) {
            out_all[i] = (REAL)((double)tl.m[r] + log_s[r]);
        }
    }
}

FL_HOT static void NAME(softmax_block)(const REAL *x_all, ptrdiff_t r0, ptrdiff_t r1,
                                       ptrdiff_t n, REAL *out_all, int what)
{
    REAL chunk_max[FL_MAX_CHUNKS];
    const ptrdiff_t out_stride = what == NAME(OUT_LSE) ? 1 : n;
    if (n <= FL_SMALL_ROW) {
        for (ptrdiff_t i0 = r0; i0 < r1; i0 += FL_TILE_ROWS) {
            const ptrdiff_t rows = r1 - i0 < FL_TILE_ROWS ? r1 - i0 : FL_TILE_ROWS;
            NAME(softmax_tile)(x_all, i0, rows, n, out_all, what);
        }
        return;
    }
    for (ptrdiff_t i = r0; i < r1; i++) {
        const REAL *restrict x = x_all + i * n;
        REAL *restrict out = out_all + i * out_stride;
        fl_row_stats s = NAME(row_pass)(x, n, NAME(C_NONE), NULL, NULL, 0.0, 0.0,
                                        what == NAME(OUT_LSE) ? NULL : out, chunk_max);
        if (what != NAME(OUT_SOFTMAX))
            NAME(row_log_sum)(&s, out, n, chunk_max);
        NAME(softmax_finish)(x, n, &s, out, chunk_max, what);
    }
}

static int NAME(softmax_driver)(const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols, REAL *out,
                                int what, int n_threads)
{
    if (n_rows < 0 || n_cols < 1)
        return FL_ERR_ARGUMENT;
    const ptrdiff_t block = fl_block_rows_of(n_rows, n_cols);
    const ptrdiff_t n_blocks = (n_rows + block - 1) / block;
    const int nt = fl_plan_threads(n_threads, fl_row_work(n_rows, n_cols));
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block;
        const ptrdiff_t r1 = r0 + block < n_rows ? r0 + block : n_rows;
        NAME(softmax_block)(x, r0, r1, n_cols, out, what);
    }
    return FL_OK;
}

int NAME(fl_softmax_fwd)(const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols, REAL *out,
                         int n_threads)
{
    return NAME(softmax_driver)(x, n_rows, n_cols, out, NAME(OUT_SOFTMAX), n_threads);
}

int NAME(fl_log_softmax_fwd)(const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols, REAL *out,
                             int n_threads)
{
    return NAME(softmax_driver)(x, n_rows, n_cols, out, NAME(OUT_LOG_SOFTMAX), n_threads);
}

int NAME(fl_logsumexp_fwd)(const REAL *x, ptrdiff_t n_rows, ptrdiff_t n_cols, REAL *out,
                           int n_threads)
{
    return NAME(softmax_driver)(x, n_rows, n_cols, out, NAME(OUT_LSE), n_threads);
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_

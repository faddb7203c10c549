/*
 * cluster_impl.h - WCSS and the Lloyd step, written once for both types. Included by
 * cluster.c with REAL (float or double) and SFX (f32 or f64).
 *
 * Shapes: x n x d, centroids k x d, C-contiguous; one row = one point.
 *
 * The hot loop is the assignment: k squared distances of d terms per point. Labels are
 * the argmin of the EXACT distances, sum_j (x_j - c_j)^2 with differences, squares and
 * sum in double in one fixed order (exact_sq_dists), ties to the lowest index. Computing
 * all k of them that way costs d double operations per centroid; instead:
 *
 * Screening. Each point first gets k distances s_c in REAL (float for float input),
 * vectorized across centroids (no horizontal sums). With S_c the real-number distance
 * and e_c the exact (double) one, for any summation order, with or without FMA:
 *     |s_c - S_c| <= g_s S_c + A_s,  g_s = gamma(d + 2, u),  A_s <= d * tiny / 2
 *     |e_c - S_c| <= g_e S_c + A_e,  g_e = gamma(d + 2, 2^-53), A_e <= d * 2^-1075
 * where gamma(m, u) = m u / (1 - m u), u the unit roundoff of REAL (2^-24 for float) and
 * tiny its smallest subnormal: the difference and the square cost 3 roundings of relative
 * size u (t = fl(x_j - c_j) is exact when subnormal), d - 1 additions one each, and only
 * a product (or a fused multiply-add) that lands among the subnormals errs by up to
 * tiny / 2 in absolute terms. With b the index of the smallest s_c, b's exact distance is
 * strictly the smallest (so b is the label, ties impossible) when for every c != b
 *     s_c > ((1 + rho) s_b + 6 A) / (1 - rho),  rho = 2 (g_s + g_e) + 4 u,  A = d tiny:
 * from e_b <= (1 + g_e) (s_b + A_s) / (1 - g_s) + A_e and
 * e_c >= (1 - g_e) (s_c - A_s) / (1 + g_s) - A_e, since (1 + rho) / (1 - rho) >=
 * ((1 + g) / (1 - g))^2 for g = max(g_s, g_e) <= 1/8, and 6 A covers the absolute terms
 * ((1 + g) / (1 - g) <= 2). The 4 u in rho absorbs the rounding of the threshold itself
 * (computed in double, then rounded to REAL). certain_labels counts the s_c at or below
 * that threshold: exactly one, and all s_c finite, proves the label; then only e_b is
 * computed. Otherwise (near-ties, exact ties, NaN, overflow in REAL) the point takes the
 * exact path over all k centroids. At d = 64 in float the threshold is about
 * 1 + 4e-5 times s_b: only points within that of a tie take the exact path.
 *
 * Either way a distance is exact_sq_dists(x_i, c), so labels and distances are the same
 * bits whichever path a point took, and for every thread count.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/* Squared distances of FL_EXACT_PAIRS pairs (xs[p], cs[p]), the exact ones: differences,
 * squares and sum in double, in a fixed order (FL_CLUSTER_PARTS interleaved partial sums,
 * then a fixed tree), so that a distance has the same bits whichever path computes it
 * and equal centroids give equal distances. Several pairs at once keep independent
 * multiply-add chains in flight. */
FL_INLINE void NAME(exact_sq_dists)(const REAL *const xs[FL_EXACT_PAIRS],
                                    const REAL *const cs[FL_EXACT_PAIRS], ptrdiff_t d,
                                    double out[FL_EXACT_PAIRS])
{
    double part[FL_EXACT_PAIRS][FL_CLUSTER_PARTS] = {{0.0}};
    ptrdiff_t j = 0;
    for (; j + FL_CLUSTER_PARTS <= d; j += FL_CLUSTER_PARTS) {
        for (int p = 0; p < FL_EXACT_PAIRS; p++) {
            const REAL *restrict x = xs[p] + j, *restrict c = cs[p] + j;
            FL_SIMD
            for (int q = 0; q < FL_CLUSTER_PARTS; q++) {
                const double t = (double)x[q] - (double)c[q];
                part[p][q] += t * t;
            }
        }
    }
    for (int q = 0; j < d; j++, q++) {
        for (int p = 0; p < FL_EXACT_PAIRS; p++) {
            const double t = (double)xs[p][j] - (double)cs[p][j];
            part[p][q] += t * t;
        }
    }
    for (int p = 0; p < FL_EXACT_PAIRS; p++) {
        const double *v = part[p];
        out[p] = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    }
}

/* The nearest centroid of x by exact distances (strict `<` over c = 0..k-1: ties to the
 * lowest index) and its distance in *best; -1 and NaN when every distance is NaN. Inlined
 * into the target clones of assign_block like exact_sq_dists everywhere else, so that
 * both paths contract to the same fused multiply-adds. */
FL_INLINE int64_t NAME(nearest_exact)(const REAL *restrict x, const REAL *restrict c,
                                   ptrdiff_t k, ptrdiff_t d, double *best_out)
{
    double best = NAN;
    int64_t label = -1;
    const REAL *xs[FL_EXACT_PAIRS], *cs[FL_EXACT_PAIRS];
    for (int p = 0; p < FL_EXACT_PAIRS; p++)
        xs[p] = x;
    for (ptrdiff_t g = 0; g < k; g += FL_EXACT_PAIRS) {
        for (int p = 0; p < FL_EXACT_PAIRS; p++)  /* a short group repeats its last one */
            cs[p] = c + (g + p < k ? g + p : k - 1) * d;
        double dist[FL_EXACT_PAIRS];
        NAME(exact_sq_dists)(xs, cs, d, dist);
        for (int p = 0; p < FL_EXACT_PAIRS && g + p < k; p++) {
            if (dist[p] < best || isnan(best)) {
                best = dist[p];
                label = g + p;
            }
        }
    }
    *best_out = best;
    return isnan(best) ? -1 : label;
}

/* Screening distances of FL_SCREEN_POINTS rows to every centroid, in REAL: for each j,
 * x_j is broadcast against FL_SCREEN_LANES centroids at once (ct is the d x kpad
 * transpose), so there is no horizontal sum, and the points' independent accumulators
 * hide the latency of the multiply-adds. Written to out[c * FL_SCREEN_BATCH + p]: one
 * centroid's distances to the batch's rows side by side, for certain_labels. */
FL_INLINE void NAME(screen_points)(const REAL *const rows[FL_SCREEN_POINTS], ptrdiff_t d,
                                   const REAL *restrict ct, ptrdiff_t kpad,
                                   REAL *restrict out)
{
    for (ptrdiff_t c0 = 0; c0 < kpad; c0 += FL_SCREEN_LANES) {
        REAL acc[FL_SCREEN_POINTS][FL_SCREEN_LANES] = {{0}};
        for (ptrdiff_t j = 0; j < d; j++) {
            const REAL *restrict cj = ct + j * kpad + c0;
            for (int p = 0; p < FL_SCREEN_POINTS; p++) {
                const REAL xj = rows[p][j];
                FL_SIMD
                for (int l = 0; l < FL_SCREEN_LANES; l++) {
                    const REAL t = xj - cj[l];
                    acc[p][l] += t * t;
                }
            }
        }
        for (int l = 0; l < FL_SCREEN_LANES; l++)
            for (int p = 0; p < FL_SCREEN_POINTS; p++)
                out[(c0 + l) * FL_SCREEN_BATCH + p] = acc[p][l];
    }
}

/* For each row p of a batch, with screening distances s[c * FL_SCREEN_BATCH + p], its
 * label when they prove it (see "Screening" at the top), else -1: the exact distances
 * must decide. Vectorized across the rows. */
FL_INLINE void NAME(certain_labels)(const REAL *restrict s, ptrdiff_t k,
                                    const fl_screen_bound *bound,
                                    int32_t labels[FL_SCREEN_BATCH])
{
    REAL threshold[FL_SCREEN_BATCH];
    int32_t close[FL_SCREEN_BATCH], index_sum[FL_SCREEN_BATCH], not_finite[FL_SCREEN_BATCH];
    FL_SIMD
    for (int p = 0; p < FL_SCREEN_BATCH; p++)
        threshold[p] = s[p];
    for (ptrdiff_t c = 1; c < k; c++) {
        FL_SIMD
        for (int p = 0; p < FL_SCREEN_BATCH; p++) {
            const REAL v = s[c * FL_SCREEN_BATCH + p];
            threshold[p] = v < threshold[p] ? v : threshold[p];
        }
    }
    FL_SIMD
    for (int p = 0; p < FL_SCREEN_BATCH; p++) {
        threshold[p] = (REAL)(((double)threshold[p] * bound->up + bound->shift) * bound->scale);
        close[p] = index_sum[p] = not_finite[p] = 0;
    }
    for (ptrdiff_t c = 0; c < k; c++) {
        FL_SIMD
        for (int p = 0; p < FL_SCREEN_BATCH; p++) {
            const REAL v = s[c * FL_SCREEN_BATCH + p];
            const int32_t near = v <= threshold[p];
            close[p] += near;
            index_sum[p] += near ? (int32_t)c : 0;
            not_finite[p] += !(v <= FL_REAL_MAX);
        }
    }
    FL_SIMD
    for (int p = 0; p < FL_SCREEN_BATCH; p++)
        labels[p] = close[p] == 1 && not_finite[p] == 0 ? index_sum[p] : -1;
}

/* What a pass reads besides x, c and w, and where it writes besides its return value
 * (the weighted distance sum). */
typedef struct NAME(pass) {
    int64_t *labels;             /* n, or NULL */
    REAL *distances;             /* n, or NULL */
    REAL *grad_x;                /* n x d, or NULL */
    double grad_x_scale;         /* grad_x[i] = grad_x_scale * w_i * (x_i - c) */
    double *sums;                /* n_blocks slices of k x (d + 2), or NULL */
    const REAL *transposed;      /* d x kpad: the centroids, one column each, zero-padded */
    REAL *screen;                /* n_blocks x FL_SCREEN_BATCH x kpad screening distances */
    ptrdiff_t kpad;
    fl_screen_bound bound;
} NAME(pass);

/* Point i's label and exact distance to its centroid into the outputs: its gradient row,
 * its share of the block's per-cluster sums; returns its weighted distance. */
FL_INLINE double NAME(record_point)(const REAL *restrict xi, ptrdiff_t i, ptrdiff_t d,
                                    const REAL *c, ptrdiff_t k, int64_t label, double dist,
                                    double wi, const NAME(pass) *o, double *slice)
{
    if (o->labels)
        o->labels[i] = label;
    if (o->distances)
        o->distances[i] = (REAL)dist;
    /* a zero weight removes the point, even at infinite distance (0 * inf) */
    const double weighted = wi == 0.0 && !isnan(dist) ? 0.0 : wi * dist;

    REAL *restrict g = o->grad_x ? o->grad_x + i * d : NULL;
    if (label < 0) {
        for (ptrdiff_t j = 0; g && j < d; j++)
            g[j] = (REAL)NAN;
        return weighted;
    }
    const REAL *restrict cl = c + label * d;
    if (g && wi == 0.0) {
        memset(g, 0, (size_t)d * sizeof(REAL));
    } else if (g) {
        const double scale = o->grad_x_scale * wi;
        FL_SIMD
        for (ptrdiff_t j = 0; j < d; j++)
            g[j] = (REAL)(scale * ((double)xi[j] - (double)cl[j]));
    }
    if (!slice)
        return weighted;
    double *weights = slice + k * d, *counts = weights + k;
    counts[label] += 1.0;
    if (wi == 0.0)
        return weighted;
    double *restrict s = slice + label * d;
    FL_SIMD
    for (ptrdiff_t j = 0; j < d; j++)
        s[j] += wi * ((double)xi[j] - (double)cl[j]);
    weights[label] += wi;
    return weighted;
}

/* Rows r0..r1-1 of block bi: screening FL_SCREEN_POINTS rows at a time, the exact
 * distance of each row's winner (or of all its centroids when screening cannot decide),
 * per-point outputs, and the block's per-cluster sums into its slice (k x d sums of
 * w_i (x_i - c), k weights, k counts; zeroed here first). */
FL_HOT static double NAME(assign_block)(const REAL *x, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t d,
                                        const REAL *c, ptrdiff_t k, const double *w,
                                        const NAME(pass) *o, ptrdiff_t bi)
{
    double *slice = o->sums ? o->sums + bi * fl_cluster_slice_len(k, d) : NULL;
    if (slice)
        memset(slice, 0, (size_t)fl_cluster_slice_len(k, d) * sizeof(double));
    const ptrdiff_t kpad = o->kpad;
    REAL *screen = o->screen + bi * FL_SCREEN_BATCH * kpad;
    /* the rows past the end of a short last batch are screened too, from zeros */
    memset(screen, 0, (size_t)(FL_SCREEN_BATCH * kpad) * sizeof(REAL));
    double acc = 0.0;
    /* in three phases over a batch of rows, so that the short per-row work of the last
     * two overlaps across rows */
    for (ptrdiff_t i0 = r0; i0 < r1; i0 += FL_SCREEN_BATCH) {
        const ptrdiff_t in_batch = r1 - i0 < FL_SCREEN_BATCH ? r1 - i0 : FL_SCREEN_BATCH;
        for (ptrdiff_t p0 = 0; p0 < in_batch; p0 += FL_SCREEN_POINTS) {
            const REAL *rows[FL_SCREEN_POINTS];
            for (int p = 0; p < FL_SCREEN_POINTS; p++)  /* a short group repeats its last row */
                rows[p] = x + (i0 + (p0 + p < in_batch ? p0 + p : in_batch - 1)) * d;
            NAME(screen_points)(rows, d, o->transposed, kpad, screen + p0);
        }
        int32_t labels[FL_SCREEN_BATCH];
        NAME(certain_labels)(screen, k, &o->bound, labels);
        /* the exact distance to each row's proven centroid (to centroid 0 when none) */
        double dist[FL_SCREEN_BATCH];
        for (ptrdiff_t p0 = 0; p0 < in_batch; p0 += FL_EXACT_PAIRS) {
            const REAL *xs[FL_EXACT_PAIRS], *cs[FL_EXACT_PAIRS];
            for (int p = 0; p < FL_EXACT_PAIRS; p++) {
                const ptrdiff_t row = p0 + p < in_batch ? p0 + p : in_batch - 1;
                xs[p] = x + (i0 + row) * d;
                cs[p] = c + (labels[row] > 0 ? labels[row] : 0) * d;
            }
            NAME(exact_sq_dists)(xs, cs, d, dist + p0);
        }
        for (ptrdiff_t p = 0; p < in_batch; p++) {
            const REAL *xi = x + (i0 + p) * d;
            int64_t label = labels[p];
            if (label < 0)
                label = NAME(nearest_exact)(xi, c, k, d, &dist[p]);
            acc += NAME(record_point)(xi, i0 + p, d, c, k, label, dist[p],
                                      w ? w[i0 + p] : 1.0, o, slice);
        }
    }
    return acc;
}

/* Assignment over fixed row blocks in parallel; returns the weighted distance sum, and
 * with_sums, leaves the per-cluster totals in the first slice of o->sums. Sets up the
 * screening part of o in scratch. */
static double NAME(cluster_pass)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *c,
                                 ptrdiff_t k, const double *w, NAME(pass) *o,
                                 double *scratch, int with_sums, int n_threads)
{
    const ptrdiff_t max_blocks = fl_cluster_blocks(n, k, d);
    ptrdiff_t block = (n + max_blocks - 1) / max_blocks;
    block = block > 0 ? block : 1;
    ptrdiff_t n_blocks = (n + block - 1) / block;
    n_blocks = n_blocks > 0 ? n_blocks : 1;  /* one empty block zeroes the sums */

    const ptrdiff_t kpad = fl_cluster_kpad(k);
    REAL *transposed = (REAL *)scratch;
    for (ptrdiff_t j = 0; j < d; j++)
        for (ptrdiff_t q = 0; q < kpad; q++)
            transposed[j * kpad + q] = q < k ? c[q * d + j] : (REAL)0;
    o->transposed = transposed;
    o->screen = (REAL *)(scratch + d * kpad);
    o->kpad = kpad;
    o->bound = fl_screen_bound_for(d, FL_REAL_ROUNDOFF, FL_REAL_TINY);
    o->sums = with_sums ? scratch + fl_cluster_screen_len(n, k, d) : NULL;

    double partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, (double)n * (double)k * (double)d);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block < n ? bi * block : n;
        const ptrdiff_t r1 = r0 + block < n ? r0 + block : n;
        partial[bi] = NAME(assign_block)(x, r0, r1, d, c, k, w, o, bi);
    }
    double total = 0.0;
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++)
        total += partial[bi];
    if (o->sums)
        fl_cluster_sum_slices(o->sums, n_blocks, fl_cluster_slice_len(k, d), n_threads);
    return total;
}

int NAME(fl_wcss_fwdbwd)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *centroids,
                         ptrdiff_t k, const double *sample_weight, int reduction,
                         double *value, int64_t *labels, REAL *distances,
                         REAL *grad_centroids, REAL *grad_x, double *scratch, int n_threads)
{
    if (n < 0 || k < 1 || k > INT32_MAX || d < 1 || (n > 0 && !x) || !centroids || !value
        || !scratch
        || (reduction != FL_REDUCTION_SUM && reduction != FL_REDUCTION_MEAN))
        return FL_ERR_ARGUMENT;
    /* the divisor of "mean", summed in row order (NaN scale for a mean over nothing) */
    double scale = 1.0;
    if (reduction == FL_REDUCTION_MEAN) {
        double total_weight = (double)n;
        if (sample_weight) {
            total_weight = 0.0;
            for (ptrdiff_t i = 0; i < n; i++)
                total_weight += sample_weight[i];
        }
        scale = total_weight > 0.0 ? 1.0 / total_weight : NAN;
    }
    NAME(pass) o = {labels, distances, grad_x, 2.0 * scale};
    const double sum = NAME(cluster_pass)(x, n, d, centroids, k, sample_weight, &o, scratch,
                                          grad_centroids != NULL, n_threads);
    *value = reduction == FL_REDUCTION_MEAN ? sum * scale : sum;
    if (grad_centroids) {
        const double coef = 2.0 * scale;
        for (ptrdiff_t e = 0; e < k * d; e++)
            grad_centroids[e] = (REAL)(0.0 - coef * o.sums[e]);  /* 0.0 - x: no -0 */
    }
    return FL_OK;
}

int NAME(fl_kmeans_step)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *centroids,
                         ptrdiff_t k, const double *sample_weight, double *inertia,
                         int64_t *labels, REAL *distances, REAL *new_centroids,
                         double *cluster_weight, int64_t *counts, double *scratch,
                         int n_threads)
{
    if (n < 0 || k < 1 || k > INT32_MAX || d < 1 || (n > 0 && !x) || !centroids || !inertia
        || !new_centroids
        || !cluster_weight || !counts || !scratch)
        return FL_ERR_ARGUMENT;
    NAME(pass) o = {labels, distances, NULL, 0.0};
    *inertia = NAME(cluster_pass)(x, n, d, centroids, k, sample_weight, &o, scratch, 1,
                                  n_threads);
    const double *weights = o.sums + k * d, *n_points = weights + k;
    for (ptrdiff_t c = 0; c < k; c++) {
        const double wc = weights[c];
        const double *restrict s = o.sums + c * d;
        const REAL *old = centroids + c * d;
        REAL *new_c = new_centroids + c * d;  /* may be old: entry j is read, then written */
        cluster_weight[c] = wc;
        counts[c] = (int64_t)n_points[c];
        if (wc > 0.0) {
            for (ptrdiff_t j = 0; j < d; j++)
                new_c[j] = (REAL)((double)old[j] + s[j] / wc);
        } else if (new_c != old) {
            memcpy(new_c, old, (size_t)d * sizeof(REAL));
        }
    }
    return FL_OK;
}

#undef FL_REAL_MAX
#undef FL_REAL_ROUNDOFF
#undef FL_REAL_TINY
#undef NAME
#undef FL_CAT
#undef FL_CAT_

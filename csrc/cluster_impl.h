/*
 * cluster_impl.h - WCSS and the Lloyd step, written once for both types. Included by
 * cluster.c with REAL (float or double) and SFX (f32 or f64).
 *
 * Shapes: x n x d, centroids k x d, C-contiguous; one row = one point.
 *
 * The hot loop is the assignment: k squared distances of d terms per point, as
 * sum_j (x_j - c_j)^2 in double. Four centroids share one pass over the point (four
 * independent sums keep the FMA units busy, and x is loaded once for all four), and the
 * loop over j is vectorized. Every centroid goes through that same four-wide loop (the
 * last group repeats its final centroid), so equal distances come out bitwise equal
 * and ties really go to the lowest index.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

#define FL_CLUSTER_GROUP 4

/* Squared distances from x to the four centroids c0..c3 (pointers may repeat). */
FL_INLINE void NAME(sq_dist4)(const REAL *restrict x, const REAL *restrict c0,
                              const REAL *restrict c1, const REAL *restrict c2,
                              const REAL *restrict c3, ptrdiff_t d, double *restrict out)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    FL_PRAGMA(omp simd reduction(+ : s0, s1, s2, s3))
    for (ptrdiff_t j = 0; j < d; j++) {
        const double xj = (double)x[j];
        const double t0 = xj - (double)c0[j], t1 = xj - (double)c1[j];
        const double t2 = xj - (double)c2[j], t3 = xj - (double)c3[j];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}

/* The nearest centroid of x (strict `<` over c = 0..k-1: ties to the lowest index) and
 * its squared distance in *best; -1 and NaN when every distance is NaN. */
FL_INLINE int64_t NAME(nearest)(const REAL *restrict x, const REAL *restrict c, ptrdiff_t k,
                                ptrdiff_t d, double *best_out)
{
    double best = NAN;
    int64_t label = -1;
    for (ptrdiff_t g = 0; g < k; g += FL_CLUSTER_GROUP) {
        const REAL *p[FL_CLUSTER_GROUP];
        for (int q = 0; q < FL_CLUSTER_GROUP; q++)
            p[q] = c + (g + q < k ? g + q : k - 1) * d;
        double dist[FL_CLUSTER_GROUP];
        NAME(sq_dist4)(x, p[0], p[1], p[2], p[3], d, dist);
        const int in_group = k - g < FL_CLUSTER_GROUP ? (int)(k - g) : FL_CLUSTER_GROUP;
        for (int q = 0; q < in_group; q++) {
            if (dist[q] < best || isnan(best)) {
                best = dist[q];
                label = g + q;
            }
        }
    }
    *best_out = best;
    return isnan(best) ? -1 : label;
}

/* Where one block writes, besides its return value (the weighted distance sum). */
typedef struct NAME(block_out) {
    int64_t *labels;       /* n, or NULL */
    REAL *distances;       /* n, or NULL */
    REAL *grad_x;          /* n x d, or NULL */
    double grad_x_scale;   /* grad_x[i] = grad_x_scale * w_i * (x_i - c) */
    double *scratch;       /* n_blocks slices of k x (d + 2), or NULL */
} NAME(block_out);

/* Rows r0..r1-1: assignment, per-point outputs, and the block's per-cluster sums into
 * `slice` (k x d sums of w_i (x_i - c), k weights, k counts; zeroed here first). */
FL_HOT static double NAME(assign_block)(const REAL *x, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t d,
                                        const REAL *c, ptrdiff_t k, const double *w,
                                        const NAME(block_out) *o, double *slice)
{
    double *sums = slice, *weights = NULL, *counts = NULL;
    if (slice) {
        weights = slice + k * d;
        counts = weights + k;
        memset(slice, 0, (size_t)fl_cluster_slice_len(k, d) * sizeof(double));
    }
    double acc = 0.0;
    for (ptrdiff_t i = r0; i < r1; i++) {
        const REAL *restrict xi = x + i * d;
        double dist;
        const int64_t label = NAME(nearest)(xi, c, k, d, &dist);
        const double wi = w ? w[i] : 1.0;
        if (o->labels)
            o->labels[i] = label;
        if (o->distances)
            o->distances[i] = (REAL)dist;
        /* a zero weight removes the point, even at infinite distance (0 * inf) */
        acc += wi == 0.0 && !isnan(dist) ? 0.0 : wi * dist;

        REAL *restrict g = o->grad_x ? o->grad_x + i * d : NULL;
        if (label < 0) {
            for (ptrdiff_t j = 0; g && j < d; j++)
                g[j] = (REAL)NAN;
            continue;
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
            continue;
        counts[label] += 1.0;
        if (wi == 0.0)
            continue;
        double *restrict s = sums + label * d;
        FL_SIMD
        for (ptrdiff_t j = 0; j < d; j++)
            s[j] += wi * ((double)xi[j] - (double)cl[j]);
        weights[label] += wi;
    }
    return acc;
}

/* Assignment over fixed row blocks in parallel; returns the weighted distance sum, and
 * leaves the per-cluster totals in the first scratch slice (when scratch is given). */
static double NAME(cluster_pass)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *c,
                                 ptrdiff_t k, const double *w, const NAME(block_out) *o,
                                 int n_threads)
{
    const ptrdiff_t max_blocks = fl_cluster_blocks(n, k, d);
    ptrdiff_t block = (n + max_blocks - 1) / max_blocks;
    block = block > 0 ? block : 1;
    ptrdiff_t n_blocks = (n + block - 1) / block;
    n_blocks = n_blocks > 0 ? n_blocks : 1;  /* one empty block zeroes the sums */
    const ptrdiff_t slice = fl_cluster_slice_len(k, d);
    double partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, (double)n * (double)k * (double)d);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block < n ? bi * block : n;
        const ptrdiff_t r1 = r0 + block < n ? r0 + block : n;
        partial[bi] = NAME(assign_block)(x, r0, r1, d, c, k, w, o,
                                         o->scratch ? o->scratch + bi * slice : NULL);
    }
    double total = 0.0;
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++)
        total += partial[bi];
    if (o->scratch)
        fl_cluster_sum_slices(o->scratch, n_blocks, slice, n_threads);
    return total;
}

int NAME(fl_wcss_fwdbwd)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *centroids,
                         ptrdiff_t k, const double *sample_weight, int reduction,
                         double *value, int64_t *labels, REAL *distances,
                         REAL *grad_centroids, REAL *grad_x, double *scratch, int n_threads)
{
    if (n < 0 || k < 1 || d < 1 || (n > 0 && !x) || !centroids || !value
        || (grad_centroids && !scratch)
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
    const NAME(block_out) o = {labels, distances, grad_x, 2.0 * scale,
                               grad_centroids ? scratch : NULL};
    const double sum = NAME(cluster_pass)(x, n, d, centroids, k, sample_weight, &o, n_threads);
    *value = reduction == FL_REDUCTION_MEAN ? sum * scale : sum;
    if (grad_centroids) {
        const double coef = 2.0 * scale;
        for (ptrdiff_t e = 0; e < k * d; e++)
            grad_centroids[e] = (REAL)(0.0 - coef * scratch[e]);  /* 0.0 - x: no -0 */
    }
    return FL_OK;
}

int NAME(fl_kmeans_step)(const REAL *x, ptrdiff_t n, ptrdiff_t d, const REAL *centroids,
                         ptrdiff_t k, const double *sample_weight, double *inertia,
                         int64_t *labels, REAL *distances, REAL *new_centroids,
                         double *cluster_weight, int64_t *counts, double *scratch,
                         int n_threads)
{
    if (n < 0 || k < 1 || d < 1 || (n > 0 && !x) || !centroids || !inertia || !new_centroids
        || !cluster_weight || !counts || !scratch)
        return FL_ERR_ARGUMENT;
    const NAME(block_out) o = {labels, distances, NULL, 0.0, scratch};
    *inertia = NAME(cluster_pass)(x, n, d, centroids, k, sample_weight, &o, n_threads);
    const double *weights = scratch + k * d, *n_points = weights + k;
    for (ptrdiff_t c = 0; c < k; c++) {
        const double wc = weights[c];
        const double *restrict s = scratch + c * d;
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

#undef FL_CLUSTER_GROUP
#undef NAME
#undef FL_CAT
#undef FL_CAT_

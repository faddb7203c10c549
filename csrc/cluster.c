/*
 * cluster.c - within-cluster sum of squares (value and gradients) and one fused Lloyd
 * iteration. The type-independent parts live here; the kernels are in cluster_impl.h,
 * included once for float and once for double. See cluster.h for the contract.
 */
#include <float.h>

#include "fl_common.h"

/* Rows per block below which zeroing and summing a block's k x (d + 2) scratch slice
 * would cost about as much as the block's k x d distance work. */
#define FL_CLUSTER_MIN_ROWS 64
/* At most this many scratch doubles (32 MiB): with many large centroids, fewer blocks. */
#define FL_CLUSTER_SCRATCH_MAX ((ptrdiff_t)1 << 22)

/* Per-cluster accumulators of one block: d sums of w_i (x_i - c), then the weight and
 * the number of points. */
static ptrdiff_t fl_cluster_slice_len(ptrdiff_t k, ptrdiff_t d)
{
    return k * (d + 2);
}

/* Centroids per screening vector (one AVX-512 register of floats) and points screened
 * together (independent accumulators that hide the multiply-add latency). */
#define FL_SCREEN_LANES 16
#define FL_SCREEN_POINTS 4
/* Rows per batch: screened first, then labelled, then given their exact distances. */
#define FL_SCREEN_BATCH 32  /* a multiple of FL_SCREEN_POINTS and FL_EXACT_PAIRS */
/* Interleaved partial sums of an exact distance (one AVX-512 register of doubles; the
 * final tree in exact_sq_dists is written for 8), and distances computed together. */
#define FL_CLUSTER_PARTS 8
#define FL_EXACT_PAIRS 4

/* Centroids rounded up to whole screening vectors. */
static ptrdiff_t fl_cluster_kpad(ptrdiff_t k)
{
    return (k + FL_SCREEN_LANES - 1) / FL_SCREEN_LANES * FL_SCREEN_LANES;
}

ptrdiff_t fl_cluster_blocks(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d)
{
    ptrdiff_t blocks = (n + FL_CLUSTER_MIN_ROWS - 1) / FL_CLUSTER_MIN_ROWS;
    if (blocks > FL_MAX_BLOCKS)
        blocks = FL_MAX_BLOCKS;
    const ptrdiff_t slice = fl_cluster_slice_len(k, d);
    const ptrdiff_t fit = slice > 0 ? FL_CLUSTER_SCRATCH_MAX / slice : FL_MAX_BLOCKS;
    if (blocks > fit)
        blocks = fit;
    return blocks > 0 ? blocks : 1;
}

/* Doubles at the head of scratch for screening: the d x kpad transposed centroids, then
 * FL_SCREEN_BATCH x kpad screening distances per block (in the kernel's type, which is
 * never wider than a double). */
static ptrdiff_t fl_cluster_screen_len(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d)
{
    return (d + fl_cluster_blocks(n, k, d) * FL_SCREEN_BATCH) * fl_cluster_kpad(k);
}

ptrdiff_t fl_cluster_scratch_len(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d)
{
    return fl_cluster_screen_len(n, k, d)
           + fl_cluster_blocks(n, k, d) * fl_cluster_slice_len(k, d);
}

/* A screening distance s proves its centroid the exact winner when every other centroid's
 * screening distance exceeds (s * up + shift) * scale (see cluster_impl.h). */
typedef struct fl_screen_bound {
    double up, shift, scale;
} fl_screen_bound;

/* The bound for d features, screening in a type of unit roundoff `roundoff` and smallest
 * subnormal `tiny`; scale = inf (screening never decides when k > 1) when d is so large
 * that the error bound is useless. */
static fl_screen_bound fl_screen_bound_for(ptrdiff_t d, double roundoff, double tiny)
{
    const double terms = (double)d + 2.0, exact_roundoff = 0x1p-53;
    const double screen_err = terms * roundoff / (1.0 - terms * roundoff);
    const double exact_err = terms * exact_roundoff / (1.0 - terms * exact_roundoff);
    const double rho = 2.0 * (screen_err + exact_err) + 4.0 * roundoff;
    fl_screen_bound b = {1.0 + rho, 6.0 * (double)d * tiny, 1.0 / (1.0 - rho)};
    if (!(terms * roundoff < 0.125 && rho <= 0.25))
        b.scale = INFINITY;
    return b;
}

/* Adds the scratch slices of blocks 1..n_blocks-1 into slice 0, entry by entry in block
 * order: the same sums for every thread count, split over threads by entry. */
static void fl_cluster_sum_slices(double *scratch, ptrdiff_t n_blocks, ptrdiff_t slice,
                                  int n_threads)
{
    const ptrdiff_t part = 4096;
    const ptrdiff_t n_parts = (slice + part - 1) / part;
    const int nt = fl_plan_threads(n_threads, (double)n_blocks * (double)slice);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t p = 0; p < n_parts; p++) {
        const ptrdiff_t e0 = p * part;
        const ptrdiff_t len = slice - e0 < part ? slice - e0 : part;
        double *restrict total = scratch + e0;
        for (ptrdiff_t b = 1; b < n_blocks; b++) {
            const double *restrict s = scratch + b * slice + e0;
            FL_SIMD
            for (ptrdiff_t e = 0; e < len; e++)
                total[e] += s[e];
        }
    }
}

#define REAL float
#define SFX f32
#define FL_REAL_MAX FLT_MAX
#define FL_REAL_ROUNDOFF 0x1p-24
#define FL_REAL_TINY 0x1p-149
#include "cluster_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX f64
#define FL_REAL_MAX DBL_MAX
#define FL_REAL_ROUNDOFF 0x1p-53
#define FL_REAL_TINY 0x1p-1074
#include "cluster_impl.h"
#undef REAL
#undef SFX

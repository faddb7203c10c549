/*
 * cluster.c - within-cluster sum of squares (value and gradients) and one fused Lloyd
 * iteration. The type-independent parts live here; the kernels are in cluster_impl.h,
 * included once for float and once for double. See cluster.h for the contract.
 */
#include "fl_common.h"

#define FL_INLINE static inline __attribute__((always_inline))

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

ptrdiff_t fl_cluster_scratch_len(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d)
{
    return fl_cluster_blocks(n, k, d) * fl_cluster_slice_len(k, d);
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
#include "cluster_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX f64
#include "cluster_impl.h"
#undef REAL
#undef SFX

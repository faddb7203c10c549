/*
 * regularize.c - L1 / L2 / elastic-net penalties over a list of arrays, and the
 * array-table walk they share with the optimizers (see fl_array_table).
 *
 * The type-independent parts live here; the kernels are in regularize_impl.h, which
 * this file includes once for float and once for double.
 */
#include "fl_common.h"

#define FL_INLINE static inline __attribute__((always_inline))

/* Blocks of the concatenated range hold a multiple of this many elements (whole cache
 * lines in both types), so that a block boundary never splits a line between threads. */
#define FL_TABLE_BLOCK_ALIGN 64

/* A table the kernels can walk: sizes and addresses consistent, 1 or 2 columns. */
static int fl_table_ok(const fl_array_table *t, int max_columns)
{
    if (!t || t->n_arrays < 0 || t->n_columns < 1 || t->n_columns > max_columns
        || !t->offsets || t->offsets[0] != 0)
        return 0;
    if (t->n_arrays > 0 && !t->addresses)
        return 0;
    for (ptrdiff_t i = 0; i < t->n_arrays; i++) {
        if (t->offsets[i + 1] < t->offsets[i])
            return 0;
        for (int c = 0; c < t->n_columns && t->offsets[i + 1] > t->offsets[i]; c++)
            if (t->addresses[(ptrdiff_t)c * t->n_arrays + i] == 0)
                return 0;
    }
    return 1;
}

/* Elements per block: at most FL_MAX_BLOCKS blocks over the whole range, a size that
 * depends on the total only, so the summation order never depends on the threads. */
static ptrdiff_t fl_table_block_len(ptrdiff_t total)
{
    ptrdiff_t b = (total + FL_MAX_BLOCKS - 1) / FL_MAX_BLOCKS;
    b = (b + FL_TABLE_BLOCK_ALIGN - 1) / FL_TABLE_BLOCK_ALIGN * FL_TABLE_BLOCK_ALIGN;
    return b > 0 ? b : FL_TABLE_BLOCK_ALIGN;
}

/* The array holding element `pos` of the concatenated range (pos < total): the last i
 * with offsets[i] <= pos, which skips empty arrays. Binary search: a block start
 * costs O(log n_arrays) however many small arrays precede it. */
static ptrdiff_t fl_table_array_at(const fl_array_table *t, ptrdiff_t pos)
{
    ptrdiff_t lo = 0, hi = t->n_arrays;  /* offsets[lo] <= pos < offsets[hi] */
    while (hi - lo > 1) {
        const ptrdiff_t mid = lo + (hi - lo) / 2;
        if (t->offsets[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

#define REAL float
#define SFX f32
#include "regularize_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX f64
#include "regularize_impl.h"
#undef REAL
#undef SFX

/*
 * margin.c - multiclass margin (hinge) loss, fused forward and backward.
 *
 * The row kernel is in margin_impl.h, included once for float and once for double.
 */
#include "fl_common.h"


/* Partial sums per row: one AVX-512 vector of doubles, two AVX2 ones. */
#define FL_LANES 8

/* Labels are checked in one serial pass before the parallel one: the first bad row is
 * then the same for every thread count, and nothing has been written yet. */
static int fl_margin_check_labels(const void *labels, int labels_int64, ptrdiff_t n_rows,
                                  ptrdiff_t n_cols, fl_error *err)
{
    const fl_class_target t = {labels, labels_int64, 0, NULL};
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        const int64_t y = fl_label_at(&t, i);
        if (y < 0 || y >= n_cols) {
            err->row = i;
            err->value = y;
            return FL_ERR_LABEL;
        }
    }
    return FL_OK;
}

#define REAL float
#define SFX f32
#include "margin_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX f64
#include "margin_impl.h"
#undef REAL
#undef SFX

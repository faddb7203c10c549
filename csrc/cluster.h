/* cluster.h - declarations of csrc/cluster.c (included by fastloss.h). */
#ifndef FL_CLUSTER_H
#define FL_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Within-cluster sum of squares and one Lloyd (k-means) iteration.
 *
 * Shapes: x is n x d (one point per row), centroids k x d, both C-contiguous;
 * sample_weight holds n finite weights >= 0, or is NULL (every weight 1).
 *
 * Assignment: label_i = argmin_c ||x_i - centroids_c||^2, scanning c = 0..k-1 with a
 * strict `<`, so ties go to the lowest index. Distances are taken as sums of squared
 * differences, never as ||x||^2 - 2 x.c + ||c||^2 (which cancels for points near a
 * centroid), with the differences, squares and sum in double for both types, in one
 * fixed order. A screening pass in the input type picks the label where its rounding
 * error bound proves it (then only that distance is computed in double); near-ties,
 * ties and non-finite points get all k double distances (cluster_impl.h). A point whose
 * distances are all NaN (a NaN coordinate) gets label -1 and distance NaN and belongs to
 * no cluster. Centroids must be finite (the Python layer checks).
 *
 * The caller allocates `scratch`, fl_cluster_scratch_len(n, k, d) doubles (too many for
 * the stack): the transposed centroids and screening distances, then per-block
 * per-cluster sums; the kernel never reads what it holds on entry. Rows are split into
 * fl_cluster_blocks(n, k, d) fixed blocks, each with its own slice of scratch, summed
 * in block order afterwards: the results are bitwise identical for every n_threads.
 *
 * fl_wcss_fwdbwd: *value = sum_i w_i ||x_i - c_{label_i}||^2 (reduction SUM), or that
 * divided by sum_i w_i (MEAN; NaN when the weights sum to 0). Points of weight 0
 * contribute 0 even at infinite distance; a NaN point makes the value NaN. Gradients
 * with the labels held fixed (the derivative of the smooth piece the inputs lie on),
 * scaled like the value (s = 1 for SUM, 1 / sum_i w_i for MEAN):
 *     grad_x[i]         = 2 s w_i (x_i - c_{label_i})      (a row of NaN for label -1)
 *     grad_centroids[c] = 2 s sum_{i: label_i = c} w_i (c - x_i)
 * labels (int64), distances (the unweighted squared distances, n entries), grad_x and
 * grad_centroids may each be NULL.
 *
 * fl_kmeans_step: the assignment to the old centroids, then
 *     new_centroids[c] = c + sum_{i: label_i = c} w_i (x_i - c) / W_c,
 *     W_c = sum_{i: label_i = c} w_i  (= sum w_i x_i / W_c, without the cancellation
 *                                      of data far from the origin),
 * written to new_centroids (which may be the centroids array itself: each entry is
 * read just before it is written), or the old centroid where W_c = 0. cluster_weight
 * (k doubles) receives W_c, counts (k int64) the number of points per cluster,
 * *inertia the weighted sum of squared distances to the old centroids (as
 * fl_wcss_fwdbwd with SUM). labels and distances may be NULL.
 *
 * Both return FL_ERR_ARGUMENT for negative sizes, k < 1 or k > INT32_MAX, d < 1, or a
 * missing required pointer.
 */
ptrdiff_t fl_cluster_blocks(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d);
ptrdiff_t fl_cluster_scratch_len(ptrdiff_t n, ptrdiff_t k, ptrdiff_t d);

#define FL_DECLARE_CLUSTER(T, SFX)                                                        \
    int fl_wcss_fwdbwd_##SFX(const T *x, ptrdiff_t n, ptrdiff_t d, const T *centroids,    \
                             ptrdiff_t k, const double *sample_weight, int reduction,     \
                             double *value, int64_t *labels, T *distances,                \
                             T *grad_centroids, T *grad_x, double *scratch,               \
                             int n_threads);                                              \
    int fl_kmeans_step_##SFX(const T *x, ptrdiff_t n, ptrdiff_t d, const T *centroids,    \
                             ptrdiff_t k, const double *sample_weight, double *inertia,   \
                             int64_t *labels, T *distances, T *new_centroids,             \
                             double *cluster_weight, int64_t *counts, double *scratch,    \
                             int n_threads);

FL_DECLARE_CLUSTER(float, f32)
FL_DECLARE_CLUSTER(double, f64)

#endif /* FL_CLUSTER_H */

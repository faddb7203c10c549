/*
 * landscape_impl.h - the grid kernel of landscape.c, written once for both types.
 * Included with REAL, SFX, WIDE / NARROW (tile columns), EXP_NONPOS, EXPM1_NONPOS and
 * LOG (the vectorizable exp, expm1 and log of fl_common.h), and ERFC / COPYSIGN (libm,
 * for REAL).
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

#include "activations_impl.h"  /* NAME(activate): the forward activations of nn.h */

FL_INLINE void NAME(activate_rows)(REAL *restrict h, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                   ptrdiff_t stride, int activation, REAL slope)
{
    for (ptrdiff_t r = 0; r < n_rows; r++) {
        REAL *restrict hr = h + r * stride;
        FL_SIMD
        for (ptrdiff_t j = 0; j < n_cols; j++)
            hr[j] = NAME(activate)(hr[j], activation, slope);
    }
}

/* h = act(h) on a chunk; the switch gives each activation its own branch-free loop. */
static void NAME(activate_chunk)(REAL *h, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                 ptrdiff_t stride, int activation, REAL slope)
{
    switch (activation) {
    case FL_ACT_SIGMOID:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_SIGMOID, slope);
        break;
    case FL_ACT_TANH:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_TANH, slope);
        break;
    case FL_ACT_RELU:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_RELU, slope);
        break;
    case FL_ACT_LEAKY_RELU:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_LEAKY_RELU, slope);
        break;
    case FL_ACT_GELU:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_GELU, slope);
        break;
    case FL_ACT_GELU_TANH:
        NAME(activate_rows)(h, n_rows, n_cols, stride, FL_ACT_GELU_TANH, slope);
        break;
    default:
        break;
    }
}

/*
 * One tile of a dense layer: out[r, j] = bias[j] + sum_k h[r, k] wt[k, j] for rows
 * r < rows, columns j < cols (h: row stride hs, K columns read; wt: K x ws, the
 * transposed weights; out: row stride os). rows and cols are constants at every call,
 * so the accumulators become registers and the j loop one or a few vectors.
 */
FL_INLINE void NAME(tile)(const REAL *restrict h, ptrdiff_t hs, ptrdiff_t K,
                          const REAL *restrict wt, ptrdiff_t ws, const REAL *restrict bias,
                          REAL *restrict out, ptrdiff_t os, const int rows, const int cols)
{
    REAL acc[FL_DENSE_TILE_ROWS][WIDE];
    for (int rr = 0; rr < rows; rr++)
        for (int jj = 0; jj < cols; jj++)
            acc[rr][jj] = bias[jj];
    for (ptrdiff_t k = 0; k < K; k++) {
        const REAL *restrict wk = wt + k * ws;
        for (int rr = 0; rr < rows; rr++) {
            const REAL a = h[rr * hs + k];
            FL_SIMD
            for (int jj = 0; jj < cols; jj++)
                acc[rr][jj] += a * wk[jj];
        }
    }
    for (int rr = 0; rr < rows; rr++)
        for (int jj = 0; jj < cols; jj++)
            out[rr * os + jj] = acc[rr][jj];
}

/* A dense layer on a chunk: out (n_rows x pad, stride pad) = h wt + bias, with pad a
 * multiple of NARROW: WIDE-column tiles first, NARROW-column tiles for the rest. */
FL_HOT static void NAME(dense_chunk)(const REAL *restrict h, ptrdiff_t hs, ptrdiff_t n_rows,
                                     ptrdiff_t K, const REAL *restrict wt,
                                     const REAL *restrict bias, ptrdiff_t pad,
                                     REAL *restrict out)
{
    ptrdiff_t j0 = 0;
    for (; j0 + WIDE <= pad; j0 += WIDE) {
        ptrdiff_t r = 0;
        for (; r + FL_DENSE_TILE_ROWS <= n_rows; r += FL_DENSE_TILE_ROWS)
            NAME(tile)(h + r * hs, hs, K, wt + j0, pad, bias + j0, out + r * pad + j0, pad,
                       FL_DENSE_TILE_ROWS, WIDE);
        for (; r < n_rows; r++)
            NAME(tile)(h + r * hs, hs, K, wt + j0, pad, bias + j0, out + r * pad + j0, pad,
                       1, WIDE);
    }
    for (; j0 < pad; j0 += NARROW) {
        ptrdiff_t r = 0;
        for (; r + FL_DENSE_TILE_ROWS <= n_rows; r += FL_DENSE_TILE_ROWS)
            NAME(tile)(h + r * hs, hs, K, wt + j0, pad, bias + j0, out + r * pad + j0, pad,
                       FL_DENSE_TILE_ROWS, NARROW);
        for (; r < n_rows; r++)
            NAME(tile)(h + r * hs, hs, K, wt + j0, pad, bias + j0, out + r * pad + j0, pad,
                       1, NARROW);
    }
}

/* First layer from the three products: h = act(P0 + a P1 + b P2) on rows [r0, r0 + n). */
FL_HOT static void NAME(first_from_products)(const REAL *restrict p, ptrdiff_t n_samples,
                                             ptrdiff_t r0, ptrdiff_t n, ptrdiff_t width,
                                             REAL a, REAL b, ptrdiff_t pad,
                                             REAL *restrict h)
{
    const REAL *restrict p0 = p + r0 * width;
    const REAL *restrict p1 = p0 + n_samples * width;
    const REAL *restrict p2 = p1 + n_samples * width;
    for (ptrdiff_t r = 0; r < n; r++) {
        FL_SIMD
        for (ptrdiff_t j = 0; j < width; j++)
            h[r * pad + j] = p0[r * width + j] + a * p1[r * width + j] + b * p2[r * width + j];
    }
}

/* sum over the chunk's rows of w[y] (logsumexp(z) - z[y]), in double, in row order. */
FL_HOT static double NAME(cross_entropy_chunk)(const REAL *restrict z, ptrdiff_t zs,
                                               ptrdiff_t n, ptrdiff_t n_classes,
                                               const fl_surface_loss *loss, ptrdiff_t r0)
{
    REAL m[FL_LANDSCAPE_CHUNK], s[FL_LANDSCAPE_CHUNK];
    for (ptrdiff_t r = 0; r < n; r++) {
        m[r] = z[r * zs];
        s[r] = 0;
    }
    for (ptrdiff_t j = 1; j < n_classes; j++) {
        FL_SIMD
        for (ptrdiff_t r = 0; r < n; r++) {
            const REAL v = z[r * zs + j];
            m[r] = v > m[r] ? v : m[r];
        }
    }
    for (ptrdiff_t j = 0; j < n_classes; j++) {
        FL_SIMD
        for (ptrdiff_t r = 0; r < n; r++)
            s[r] += EXP_NONPOS(z[r * zs + j] - m[r]);
    }
    FL_SIMD
    for (ptrdiff_t r = 0; r < n; r++)
        s[r] = LOG(s[r]);
    double sum = 0.0;
    for (ptrdiff_t r = 0; r < n; r++) {
        const int64_t y = loss->labels[r0 + r];
        if (y == loss->ignore_index)
            continue;
        const double w = loss->class_weight ? loss->class_weight[y] : 1.0;
        sum += w * (((double)m[r] + (double)s[r]) - (double)z[r * zs + y]);
    }
    return sum;
}

static double NAME(mse_chunk)(const REAL *restrict z, ptrdiff_t zs, ptrdiff_t n,
                              ptrdiff_t n_out, const fl_surface_loss *loss, ptrdiff_t r0)
{
    const REAL *restrict t = (const REAL *)loss->targets + r0 * n_out;
    double sum = 0.0;
    for (ptrdiff_t r = 0; r < n; r++)
        for (ptrdiff_t j = 0; j < n_out; j++) {
            const double d = (double)z[r * zs + j] - (double)t[r * n_out + j];
            sum += d * d;
        }
    return sum;
}

/* Columns of layer l's chunk buffer and transposed weights. */
static ptrdiff_t NAME(padded)(const fl_mlp *net, int l)
{
    return fl_round_up(net->widths[l + 1], NARROW);
}

ptrdiff_t NAME(fl_mlp_surface_scratch)(const fl_mlp *net)
{
    if (!fl_mlp_ok(net))
        return -1;
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(REAL);
    ptrdiff_t total = 0, widest = 0;
    for (int l = 0; l < net->n_layers; l++) {
        const ptrdiff_t pad = NAME(padded)(net, l);
        total += fl_round_up(net->widths[l] * pad, line) + fl_round_up(pad, line);
        widest = pad > widest ? pad : widest;
    }
    return total + 2 * fl_round_up(FL_LANDSCAPE_CHUNK * widest, line);
}

/* J at one grid point (a, b), with ws the thread's scratch. */
static double NAME(point_value)(const REAL *x, const REAL *products, ptrdiff_t n_samples,
                                const fl_mlp *net, const fl_surface_loss *loss,
                                const REAL *theta, const REAL *d1, const REAL *d2, REAL a,
                                REAL b, REAL *ws)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(REAL);
    const int L = net->n_layers;
    REAL *wt[FL_LANDSCAPE_MAX_LAYERS], *bias[FL_LANDSCAPE_MAX_LAYERS];
    ptrdiff_t widest = 0;
    /* W_l(a, b)^T and b_l(a, b), zero-padded to `pad` columns */
    for (int l = 0; l < L; l++) {
        const ptrdiff_t in = net->widths[l], out = net->widths[l + 1];
        const ptrdiff_t pad = NAME(padded)(net, l);
        wt[l] = ws;
        bias[l] = ws + fl_round_up(in * pad, line);
        ws = bias[l] + fl_round_up(pad, line);
        widest = pad > widest ? pad : widest;
        const ptrdiff_t wo = net->weight_offsets[l], bo = net->bias_offsets[l];
        for (ptrdiff_t k = 0; k < in; k++) {
            for (ptrdiff_t o = 0; o < out; o++) {
                const ptrdiff_t i = wo + o * in + k;
                wt[l][k * pad + o] = theta[i] + a * d1[i] + b * d2[i];
            }
            for (ptrdiff_t o = out; o < pad; o++)
                wt[l][k * pad + o] = 0;
        }
        for (ptrdiff_t o = 0; o < pad; o++)
            bias[l][o] = (bo >= 0 && o < out) ? theta[bo + o] + a * d1[bo + o] + b * d2[bo + o]
                                               : 0;
    }
    REAL *buf[2] = {ws, ws + fl_round_up(FL_LANDSCAPE_CHUNK * widest, line)};
    double sum = 0.0;
    for (ptrdiff_t r0 = 0; r0 < n_samples; r0 += FL_LANDSCAPE_CHUNK) {
        const ptrdiff_t n = n_samples - r0 < FL_LANDSCAPE_CHUNK ? n_samples - r0
                                                                : FL_LANDSCAPE_CHUNK;
        if (products)
            NAME(first_from_products)(products, n_samples, r0, n, net->widths[1], a, b,
                                      NAME(padded)(net, 0), buf[0]);
        else
            NAME(dense_chunk)(x + r0 * net->widths[0], net->widths[0], n, net->widths[0],
                              wt[0], bias[0], NAME(padded)(net, 0), buf[0]);
        NAME(activate_chunk)(buf[0], n, net->widths[1], NAME(padded)(net, 0),
                             net->activations[0], (REAL)net->slopes[0]);
        int cur = 0;
        for (int l = 1; l < L; l++) {
            NAME(dense_chunk)(buf[cur], NAME(padded)(net, l - 1), n, net->widths[l], wt[l],
                              bias[l], NAME(padded)(net, l), buf[1 - cur]);
            cur = 1 - cur;
            NAME(activate_chunk)(buf[cur], n, net->widths[l + 1], NAME(padded)(net, l),
                                 net->activations[l], (REAL)net->slopes[l]);
        }
        const ptrdiff_t zs = NAME(padded)(net, L - 1), n_out = net->widths[L];
        sum += loss->kind == FL_SURFACE_CROSS_ENTROPY
                   ? NAME(cross_entropy_chunk)(buf[cur], zs, n, n_out, loss, r0)
                   : NAME(mse_chunk)(buf[cur], zs, n, n_out, loss, r0);
    }
    return sum / loss->divisor;
}

int NAME(fl_mlp_surface)(const REAL *x, const REAL *first_products, ptrdiff_t n_samples,
                         const fl_mlp *net, const fl_surface_loss *loss, const REAL *theta,
                         const REAL *d1, const REAL *d2, const double *alphas,
                         ptrdiff_t n_alphas, const double *betas, ptrdiff_t n_betas,
                         REAL *scratch, ptrdiff_t scratch_len, double *values, int n_threads)
{
    const ptrdiff_t per_thread = NAME(fl_mlp_surface_scratch)(net);
    if (per_thread < 0 || net->n_layers > FL_LANDSCAPE_MAX_LAYERS || n_samples < 0
        || n_alphas < 0 || n_betas < 0 || !loss || !theta || !d1 || !d2 || !scratch
        || scratch_len < per_thread || (!x && !first_products))
        return FL_ERR_ARGUMENT;
    if (loss->kind == FL_SURFACE_CROSS_ENTROPY) {
        if (!loss->labels)
            return FL_ERR_ARGUMENT;
        for (ptrdiff_t i = 0; i < n_samples; i++) {
            const int64_t y = loss->labels[i];
            if (y != loss->ignore_index && (y < 0 || y >= net->widths[net->n_layers]))
                return FL_ERR_ARGUMENT;
        }
    } else if (loss->kind != FL_SURFACE_MSE || !loss->targets) {
        return FL_ERR_ARGUMENT;
    }
    const ptrdiff_t n_points = n_alphas * n_betas;
    double flops = 0.0;
    for (int l = 0; l < net->n_layers; l++)
        flops += (double)net->widths[l] * (double)net->widths[l + 1];
    int nt = fl_plan_threads(n_threads, (double)n_points * (double)n_samples * flops);
    if (nt > scratch_len / per_thread)
        nt = (int)(scratch_len / per_thread);
    if (nt > n_points)
        nt = n_points > 0 ? (int)n_points : 1;
    (void)nt;
    /* dynamic: a point's value does not depend on which thread computes it, and the
     * other programs on a shared machine then slow down only the thread they share. */
    FL_PRAGMA(omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1))
    for (ptrdiff_t p = 0; p < n_points; p++) {
#ifdef _OPENMP
        REAL *ws = scratch + (ptrdiff_t)omp_get_thread_num() * per_thread;
#else
        REAL *ws = scratch;
#endif
        values[p] = NAME(point_value)(x, first_products, n_samples, net, loss, theta, d1, d2,
                                      (REAL)alphas[p / n_betas], (REAL)betas[p % n_betas],
                                      ws);
    }
    return FL_OK;
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_

/*
 * activations_impl.h - the forward activations of network layers, act(v), for one
 * floating type: included by nn_impl.h (with their derivatives there) and by
 * landscape_impl.h, after REAL, NAME and the vectorizable EXP_NONPOS / EXPM1_NONPOS of
 * fl_common.h, and ERFC / COPYSIGN (libm, for REAL) are defined.
 */
#ifndef FL_ACTIVATION_CONSTANTS
#define FL_ACTIVATION_CONSTANTS
#define FL_SQRT1_2 0.70710678118654752440      /* 1 / sqrt(2) */
#define FL_INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */
#define FL_SQRT_2_PI 0.79788456080286535588    /* sqrt(2 / pi) */
#define FL_GELU_CUBIC 0.044715
#endif

/* sigmoid from exp(-|v|) <= 1: never overflows; e / (1 + e) for v < 0 keeps the
 * relative accuracy of tiny results. */
FL_INLINE REAL NAME(sigmoid)(REAL v)
{
    const REAL e = EXP_NONPOS(-fabs(v));
    const REAL s = (REAL)1 / ((REAL)1 + e);
    return v >= 0 ? s : e * s;
}

/* tanh|v| = -m / (2 + m), m = expm1(-2|v|) in (-1, 0]: no cancellation anywhere. */
FL_INLINE REAL NAME(tanh)(REAL v)
{
    const REAL m = EXPM1_NONPOS(-2 * (REAL)fabs(v));
    return COPYSIGN(-m / (2 + m), v);
}

/* Phi(v) = erfc(-v / sqrt 2) / 2: accurate in both tails, unlike (1 + erf) / 2. */
FL_INLINE REAL NAME(normal_cdf)(REAL v)
{
    return (REAL)0.5 * ERFC(-v * (REAL)FL_SQRT1_2);
}

/* 2u of the tanh-form GELU: 0.5 v (1 + tanh u) = v sigmoid(2 u). */
FL_INLINE REAL NAME(gelu_tanh_2u)(REAL v)
{
    return (REAL)(2 * FL_SQRT_2_PI) * (v + (REAL)FL_GELU_CUBIC * v * v * v);
}

FL_INLINE REAL NAME(activate)(REAL v, int activation, REAL slope)
{
    switch (activation) {
    case FL_ACT_SIGMOID:
        return NAME(sigmoid)(v);
    case FL_ACT_TANH:
        return NAME(tanh)(v);
    case FL_ACT_RELU:
        return v < 0 ? 0 : v;  /* NaN stays NaN */
    case FL_ACT_LEAKY_RELU:
        return v > 0 ? v : slope * v;
    case FL_ACT_GELU:
        return v * NAME(normal_cdf)(v);
    case FL_ACT_GELU_TANH:
        return v * NAME(sigmoid)(NAME(gelu_tanh_2u)(v));
    default:
        return v;
    }
}


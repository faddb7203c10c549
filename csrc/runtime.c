/* runtime.c - thread planning, build facts, and the exp kernels exposed for testing. */
#include "fl_common.h"

/* Below this many elements per thread, waking another thread costs more than it saves
 * (a parallel region costs a few microseconds; this much work takes about 5-10). */
#define FL_MIN_WORK_PER_THREAD 32768.0

int fl_plan_threads(int n_threads, double work_elements)
{
#ifdef _OPENMP
    int nt = n_threads >= 1 ? n_threads : omp_get_max_threads();
    double useful = work_elements / FL_MIN_WORK_PER_THREAD;
    if (useful < nt)
        nt = useful < 1.0 ? 1 : (int)useful;
    return nt;
#else
    (void)n_threads;
    (void)work_elements;
    return 1;
#endif
}

int fl_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fl_openmp_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

const char *fl_compiler(void)
{
#ifdef FL_COMPILER
    return FL_COMPILER;
#else
    return "unknown";
#endif
}

const char *fl_simd_paths(void)
{
#if FL_DISPATCH
    return "x86-64 (SSE2), x86-64-v3 (AVX2+FMA), x86-64-v4 (AVX-512); chosen at load time";
#elif defined(__aarch64__)
    return "aarch64 (NEON)";
#else
    return "baseline of the target architecture";
#endif
}

const char *fl_simd_active(void)
{
#if FL_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return "x86-64-v4";
    if (__builtin_cpu_supports("x86-64-v3"))
        return "x86-64-v3";
    return "x86-64";
#else
    return fl_simd_paths();
#endif
}

FL_HOT void fl_exp_f32(const float *x, ptrdiff_t n, float *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_expf(x[i]);
}

FL_HOT void fl_exp_f64(const double *x, ptrdiff_t n, double *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_exp(x[i]);
}

FL_HOT void fl_exp_nonpos_f32(const float *x, ptrdiff_t n, float *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_expf_nonpos(x[i]);
}

FL_HOT void fl_exp_nonpos_f64(const double *x, ptrdiff_t n, double *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_exp_nonpos(x[i]);
}

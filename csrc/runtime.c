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

/* The elementary functions of fl_common.h over arrays, for the accuracy tests. */
#define FL_ELEMENTWISE(name, T, fn)                                                    \
    FL_HOT void name(const T *x, ptrdiff_t n, T *out)                                  \
    {                                                                                  \
        FL_SIMD                                                                        \
        for (ptrdiff_t i = 0; i < n; i++)                                              \
            out[i] = fn(x[i]);                                                         \
    }

FL_ELEMENTWISE(fl_exp_f32, float, fl_expf)
FL_ELEMENTWISE(fl_exp_f64, double, fl_exp)
FL_ELEMENTWISE(fl_exp_nonpos_f32, float, fl_expf_nonpos)
FL_ELEMENTWISE(fl_exp_nonpos_f64, double, fl_exp_nonpos)
FL_ELEMENTWISE(fl_log_f32, float, fl_logf)
FL_ELEMENTWISE(fl_log_f64, double, fl_log)
FL_ELEMENTWISE(fl_log1p_unit_f32, float, fl_log1pf_unit)
FL_ELEMENTWISE(fl_log1p_unit_f64, double, fl_log1p_unit)

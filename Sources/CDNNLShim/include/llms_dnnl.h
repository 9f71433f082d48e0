/* llms_dnnl.h: oneDNN's matmul primitive behind three C calls, loaded at run time (dlopen of libdnnl.so.2)
 * on first use, so the binary runs without it (every call then reports "unavailable" and the engine keeps
 * OpenBLAS). Built only against oneDNN 2.x headers (Debian 12's libdnnl-dev); with no header or another
 * major version the shim compiles to "unavailable".
 *
 * GEMM contract (row-major, like cblas_sgemm with alpha = 1):
 *   c (m,n; row stride ldc) = op(a) (m,k) · op(b) (k,n) [+ bias (n) on every row] [+ beta · c]
 *   op(a) = a stored (m,k) with row stride lda, or aᵀ with a stored (k,m) when ta; the same for b (tb).
 * Primitives are created once per (layout, shape, bias, beta, threads) and kept (a bounded cache); each call
 * runs on `threads` OpenMP threads (the caller's share of the engine's thread budget), with its own
 * scratchpad, so concurrent calls from several threads are safe. For a fixed thread count the result is
 * bit-identical from run to run (no autotuning: oneDNN picks its kernel from the CPU's ISA and the shape). */
#ifndef LLMS_DNNL_H
#define LLMS_DNNL_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when oneDNN is loaded (loading it on the first call), else 0; never fails loudly. */
int llms_dnnl_available(void);

/* oneDNN's version ("2.6.3"), or "" when unavailable. */
const char *llms_dnnl_version(void);

/* Why oneDNN is unavailable ("" when it is available). */
const char *llms_dnnl_unavailable_reason(void);

/* Runs the GEMM above; 0 on success, nonzero when oneDNN refused it (the caller then uses OpenBLAS; c is
 * untouched in that case). beta is 0 or 1 only. */
int llms_dnnl_gemm(int ta, int tb, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                   const float *bias, float beta, float *c, long ldc, int threads);

/* Primitives in the cache now (tests). */
int llms_dnnl_cached_primitives(void);

#ifdef __cplusplus
}
#endif
#endif

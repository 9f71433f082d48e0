/* CKernels: the engine's SIMD CPU kernels over contiguous float32 rows, in C so that each one is compiled
 * three times (baseline x86-64, AVX2+FMA, AVX-512) and picked at run time by the CPU's features (cpu.c).
 * Swift's package build targets baseline x86-64 (4-wide SSE); these loops run 8-wide with FMA where the CPU
 * has AVX2, 16-wide where it has AVX-512.
 * Contract: pointers are valid for the lengths given, rows do not overlap unless stated, n ≥ 0. No kernel
 * allocates, locks or keeps state; callers split work across threads (LLMCore's Parallel).
 * exp/tanh are branch-free polynomials (Cephes' e^r on |r| ≤ ln2/2, ≈ 2 ulp; tanh ≈ 3e-7 relative); NaN
 * propagates. Sums use 8 partial sums (16 in the AVX-512 version) in a fixed order, so results are
 * deterministic on a given CPU and kernel version. */
#ifndef LLMK_KERNELS_H
#define LLMK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The CPU as cpuid reports it. A SIMD feature is set only when the CPU has it and the OS saves its register
 * state (XCR0 through xgetbv: bits 1–2 for AVX/AVX2/FMA/F16C, 5–7 as well for AVX-512, 17–18 for AMX). */
enum {
    LLMK_CPU_SSE2 = 1 << 0, LLMK_CPU_SSE3 = 1 << 1, LLMK_CPU_SSSE3 = 1 << 2, LLMK_CPU_SSE41 = 1 << 3,
    LLMK_CPU_SSE42 = 1 << 4, LLMK_CPU_AVX = 1 << 5, LLMK_CPU_F16C = 1 << 6, LLMK_CPU_FMA = 1 << 7,
    LLMK_CPU_AVX2 = 1 << 8, LLMK_CPU_AVXVNNI = 1 << 9, LLMK_CPU_AVX512F = 1 << 10, LLMK_CPU_AVX512BW = 1 << 11,
    LLMK_CPU_AVX512VL = 1 << 12, LLMK_CPU_AVX512DQ = 1 << 13, LLMK_CPU_AVX512VNNI = 1 << 14,
    LLMK_CPU_AVX512BF16 = 1 << 15, LLMK_CPU_AVX512FP16 = 1 << 16, LLMK_CPU_AMX_TILE = 1 << 17,
    LLMK_CPU_AMX_BF16 = 1 << 18, LLMK_CPU_AMX_INT8 = 1 << 19
};
typedef struct {
    char vendor[16];      /* "GenuineIntel", "AuthenticAMD", ...; empty off x86 */
    char brand[52];       /* the processor brand string, as the CPU reports it (may have padding spaces) */
    int family, model, stepping;   /* display family/model (extended fields folded in) */
    uint64_t features;    /* LLMK_CPU_* bits, CPU and OS support both */
    uint64_t xcr0;        /* the OS's XSAVE feature mask (0 without OSXSAVE) */
} llmk_cpu_info;
void llmk_cpu_query(llmk_cpu_info *info);
/* The SIMD level of a feature set: LLMK_LEVEL_AVX512 with AVX-512 F/BW/VL/DQ + AVX2 + FMA, LLMK_LEVEL_AVX2
 * with AVX2 + FMA, else LLMK_LEVEL_BASELINE. */
enum { LLMK_LEVEL_BASELINE = 0, LLMK_LEVEL_AVX2 = 1, LLMK_LEVEL_AVX512 = 2 };
int llmk_cpu_simd_level(const llmk_cpu_info *info);

/* The kernel version in use (LLMK_LEVEL_*), and the highest this CPU + OS can run. */
int llmk_kernels_level(void);
int llmk_kernels_cpu_level(void);
/* Selects a version: the lowest of `level`, what the CPU + OS support and what the environment allows
 * (LLMSCRIPT_NO_AVX2=1: baseline, LLMSCRIPT_NO_AVX512=1: at most AVX2); returns the level now in use.
 * Automatic choice = llmk_kernels_set_level(LLMK_LEVEL_AVX512). For tests comparing the versions. */
int llmk_kernels_set_level(int level);
/* 1 when the AVX2+FMA or AVX-512 versions run, 0 for the baseline ones. */
int llmk_kernels_avx2(void);
/* Forces the baseline versions (on = 0) or restores automatic choice (on = 1). */
void llmk_kernels_allow_avx2(int on);

/* Scalar e^x and tanh(x) (the same polynomials as the loops). */
float llmk_exp(float x);
float llmk_tanh(float x);

/* y[i] = tanh(x[i]); y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GELU, tanh form); and its backward
 * dx[i] = g[i]·GELU'(x[i]). */
void llmk_tanh_forward(const float *x, float *y, ptrdiff_t n);
void llmk_gelu_tanh_forward(const float *x, float *y, ptrdiff_t n);
void llmk_gelu_tanh_backward(const float *g, const float *x, float *dx, ptrdiff_t n);

/* Gated linear units (SwiGLU, GeGLU) over `rows` contiguous rows of 2n inputs, first half the gate a, second
 * half b: y (rows, n) = act(a)·b with act = SiLU (gelu = 0) or exact (erf) GELU (gelu ≠ 0; Φ through
 * Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7). Backward: dx (rows, 2n) = [g·b·act'(a), g·act(a)]. */
void llmk_glu_forward(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n, int gelu);
void llmk_glu_backward(const float *g, const float *x, float *dx, ptrdiff_t rows, ptrdiff_t n, int gelu);

/* Softmax of row[0, limit) in place (row[limit, s) set to 0); returns the logsumexp of row[0, limit).
 * limit ≥ 1. */
float llmk_softmax_row(float *row, ptrdiff_t limit, ptrdiff_t s);
/* row[j] = e^(row[j] − lse) for j < limit, 0 for limit ≤ j < s (probabilities from a saved logsumexp). */
void llmk_probs_row(float *row, ptrdiff_t limit, ptrdiff_t s, float lse);
/* Softmax backward for one row: d[j] = p[j]·(d[j] − Σ_k p[k]·d[k]). */
void llmk_softmax_backward_row(const float *p, float *d, ptrdiff_t n);

/* Attention rows under a general mask (positions, windows, segments, padding, ALiBi; attention.c): key j is
 * visible iff dlo ≤ qp − kp[j] ≤ dhi, kseg[j] == qseg and live[j] ≠ 0, and its score gets −slope·(qp − kp[j]).
 * Softmax in place over the n keys (hidden keys exactly 0); returns the logsumexp, or +∞ with an all-0 row
 * when no key is visible. */
float llmk_attn_softmax_row(float *row, ptrdiff_t n, const int32_t *kp, int32_t qp, int32_t dlo, int32_t dhi,
                            const int32_t *kseg, int32_t qseg, const uint8_t *live, float slope);
/* Probabilities from scores and a saved logsumexp under the same mask: e^(row[j] − slope·d − lse), hidden 0. */
void llmk_attn_probs_row(float *row, ptrdiff_t n, const int32_t *kp, int32_t qp, int32_t dlo, int32_t dhi,
                         const int32_t *kseg, int32_t qseg, const uint8_t *live, float slope, float lse);

/* Cross-entropy forward for one row of n ≥ 1 logits: returns the logsumexp, stores Σ x in *sum. */
float llmk_logsumexp_row(const float *x, ptrdiff_t n, float *sum);
/* Cross-entropy backward for one row: d[j] = scale·(e^(x[j] − lse) − uniform). */
void llmk_xent_backward_row(const float *x, float *d, ptrdiff_t n, float lse, float scale, float uniform);

/* Layer normalization of one row of n ≥ 1: y = (x − mean)·rstd·w + b (w, b may be NULL); stores mean and
 * rstd = 1/√(var + eps) (biased variance). With rms ≠ 0: mean is 0 and var is mean(x²) (RMSNorm). */
void llmk_norm_row(const float *x, float *y, ptrdiff_t n, const float *w, const float *b, float eps, int rms,
                   float *mean, float *rstd);
/* Its backward for one row: dx = rstd·(dn − mean(dn) − norm·mean(dn·norm)) with dn = g·w, norm = (x − mean)·rstd
 * (for rms, the mean(dn) term is dropped); adds g·norm into dw and g into db (either may be NULL). */
void llmk_norm_backward_row(const float *x, const float *g, float *dx, ptrdiff_t n, const float *w, float mean,
                            float rstd, int rms, float *dw, float *db);

/* acc[j] += Σ_r x[r·ld + j] for j < n over `rows` rows ld apart (bias gradients: column sums). */
void llmk_add_column_sums(float *acc, const float *x, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t ld);

/* One Adam/AdamW step over n parameters, in place (torch.optim.Adam / AdamW): w ·= decay; g' = g + l2·w;
 * m += (1−β1)(g' − m); v = β2·v + (1−β2)·g'²; with vmax (AMSGrad, else NULL) vmax = max(vmax, v) is used
 * for v in w −= stepSize·m / (√v / bc2Sqrt + eps). */
void llmk_adam_update(float *w, const float *g, float *m, float *v, float *vmax, ptrdiff_t n, float decay, float l2,
                      float oneMinusB1, float beta2, float oneMinusB2, float bc2Sqrt, float eps, float stepSize);

/* Σ x[i]² (float partial sums per block of 4096, blocks added in double): gradient clipping's 2-norm. */
double llmk_sum_squares(const float *x, ptrdiff_t n);

/* Quantized inference products (quant.c). An activation block: 32 int8 quants with a float scale. */
typedef struct { float d; int8_t qs[32]; } llmk_q8_act;
enum { LLMK_QFMT_Q8_0 = 0, LLMK_QFMT_Q4_0 = 1, LLMK_QFMT_Q4_K = 2 };
/* IEEE binary16 bits -> float (exact). */
float llmk_half_bits_to_float(uint16_t h);
/* x[0, k) (k a multiple of 32) -> k/32 blocks: d = max|x|/127, q = x/d rounded to nearest even (non-finite: 0). */
void llmk_quant_act_q8(const float *x, llmk_q8_act *out, ptrdiff_t k);
/* x[0, k) -> q[0, k) with one scale (returned): d = max|x|/127, q = x/d rounded to nearest even. */
float llmk_quant_act_int8(const float *x, int8_t *q, ptrdiff_t k);
/* y[r·ldy + n] = Σ_blocks d_w·d_x·(w·x) + bias[n] for output rows n in [n0, n1) and the m activation rows of x
 * (k/32 blocks each); w: Q8_0, Q4_0 or Q4_K rows of k values (format LLMK_QFMT_*; Q4_K: k a multiple of 256,
 * each 32-value sub-block against one activation block), bias may be NULL. */
void llmk_qblock_rows(int format, const uint8_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const llmk_q8_act *x,
                      ptrdiff_t m, const float *bias, float *y, ptrdiff_t ldy);
/* Q4_K (quant_k.c): x[0, k) (k a multiple of 256) -> k/256 super-blocks of 144 bytes, bit-exact with llama.cpp's
 * quantize_row_q4_K_ref; and back (dequantize_row_q4_K). */
void llmk_quantize_q4_k(const float *x, uint8_t *y, ptrdiff_t k);
void llmk_dequantize_q4_k(const uint8_t *q, float *y, ptrdiff_t k);
/* int8 rows (n, k) with scales wscale[n] times int8 activations (m, k) with scales xscale[r]:
 * y[r·ldy + n] = wscale[n]·xscale[r]·(Σ_j w[n][j]·x[r][j]) + bias[n]. */
void llmk_qint8_rows(const int8_t *w, const float *wscale, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const int8_t *x,
                     const float *xscale, ptrdiff_t m, const float *bias, float *y, ptrdiff_t ldy);
/* Half-precision weights (half.c): y[r·ldy + n] = Σ_j w[n][j]·x[r][j] + bias[n] for n in [n0, n1), w (·, k) as
 * binary16 (bf16 = 0) or bfloat16 (bf16 ≠ 0) bits converted exactly to float32; bias may be NULL. */
void llmk_half_rows(int bf16, const uint16_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const float *x, ptrdiff_t m,
                    const float *bias, float *y, ptrdiff_t ldy);

#endif

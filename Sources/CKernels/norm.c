/* CKernels: layer normalization and RMS normalization of one row, forward and backward.
 * x, y, g, dx: (n); w, b, dw, db: (n). reference: llm.c layernorm_forward/backward. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

#define LANES 8

/* Σ (x[j] − shift)² with 8 partial sums */
static inline LLMK_BODY float llmk_sum_sq(const float *restrict x, ptrdiff_t n, float shift) {
    float acc[LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) { float d = x[j + l] - shift; acc[l] += d * d; }
    float s = llmk_hsum8(acc);
    for (; j < n; j++) { float d = x[j] - shift; s += d * d; }
    return s;
}

static inline LLMK_BODY void llmk_norm_row_body(const float *restrict x, float *restrict y, ptrdiff_t n,
                                               const float *restrict w, const float *restrict b, float eps, int rms,
                                               float *restrict mean, float *restrict rstd) {
    float m = 0;
    if (!rms) {
        float acc[LANES] = {0};
        ptrdiff_t j = 0;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) acc[l] += x[j + l];
        float s = llmk_hsum8(acc);
        for (; j < n; j++) s += x[j];
        m = s / (float)n;
    }
    float r = 1 / sqrtf(llmk_sum_sq(x, n, m) / (float)n + eps);
    *mean = m; *rstd = r;
    if (w && b) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r * w[j] + b[j];
    else if (w) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r * w[j];
    else if (b) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r + b[j];
    else for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r;
}
LLMK_KERNEL_VOID(llmk_norm_row, (const float *x, float *y, ptrdiff_t n, const float *w, const float *b, float eps,
                                 int rms, float *mean, float *rstd), (x, y, n, w, b, eps, rms, mean, rstd))

static inline LLMK_BODY void llmk_norm_backward_row_body(const float *restrict x, const float *restrict g,
                                                        float *restrict dx, ptrdiff_t n, const float *restrict w,
                                                        float mean, float rstd, int rms,
                                                        float *restrict dw, float *restrict db) {
    float accD[LANES] = {0}, accDN[LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float norm = (x[j + l] - mean) * rstd, dn = g[j + l] * (w ? w[j + l] : 1.0f);
            accD[l] += dn; accDN[l] += dn * norm;
        }
    float sumD = llmk_hsum8(accD), sumDN = llmk_hsum8(accDN);
    for (; j < n; j++) {
        float norm = (x[j] - mean) * rstd, dn = g[j] * (w ? w[j] : 1.0f);
        sumD += dn; sumDN += dn * norm;
    }
    float meanD = rms ? 0 : sumD / (float)n, meanDN = sumDN / (float)n;
    if (w) for (ptrdiff_t k = 0; k < n; k++) {
        float norm = (x[k] - mean) * rstd;
        dx[k] = rstd * (g[k] * w[k] - meanD - norm * meanDN);
    } else for (ptrdiff_t k = 0; k < n; k++) {
        float norm = (x[k] - mean) * rstd;
        dx[k] = rstd * (g[k] - meanD - norm * meanDN);
    }
    if (dw) for (ptrdiff_t k = 0; k < n; k++) dw[k] += g[k] * (x[k] - mean) * rstd;
    if (db) for (ptrdiff_t k = 0; k < n; k++) db[k] += g[k];
}
LLMK_KERNEL_VOID(llmk_norm_backward_row, (const float *x, const float *g, float *dx, ptrdiff_t n, const float *w,
                                          float mean, float rstd, int rms, float *dw, float *db),
                 (x, g, dx, n, w, mean, rstd, rms, dw, db))

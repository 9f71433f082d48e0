/* CKernels: layer normalization and RMS normalization of one row, forward and backward.
 * x, y, g, dx: (n); w, b, dw, db: (n). reference: llm.c layernorm_forward/backward. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

static inline LLMK_BODY void llmk_norm_row_body(int lanes, const float *restrict x, float *restrict y, ptrdiff_t n,
                                               const float *restrict w, const float *restrict b, float eps, int rms,
                                               float *restrict mean, float *restrict rstd) {
    float m = 0;
    if (!rms) {
        float acc[LLMK_MAX_LANES] = {0};
        ptrdiff_t j = 0;
        for (; j + lanes <= n; j += lanes)
            for (int l = 0; l < lanes; l++) acc[l] += x[j + l];
        float s = llmk_hsum(acc, lanes);
        for (; j < n; j++) s += x[j];
        m = s / (float)n;
    }
    float r = 1 / sqrtf(llmk_sum_sq(lanes, x, n, m) / (float)n + eps);
    *mean = m; *rstd = r;
    if (w && b) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r * w[j] + b[j];
    else if (w) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r * w[j];
    else if (b) for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r + b[j];
    else for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - m) * r;
}
LLMK_KERNEL_W_VOID(llmk_norm_row, (const float *x, float *y, ptrdiff_t n, const float *w, const float *b, float eps,
                                 int rms, float *mean, float *rstd), (x, y, n, w, b, eps, rms, mean, rstd))

static inline LLMK_BODY void llmk_norm_backward_row_body(int lanes, const float *restrict x, const float *restrict g,
                                                        float *restrict dx, ptrdiff_t n, const float *restrict w,
                                                        float mean, float rstd, int rms,
                                                        float *restrict dw, float *restrict db) {
    float accD[LLMK_MAX_LANES] = {0}, accDN[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) {
            float norm = (x[j + l] - mean) * rstd, dn = g[j + l] * (w ? w[j + l] : 1.0f);
            accD[l] += dn; accDN[l] += dn * norm;
        }
    float sumD = llmk_hsum(accD, lanes), sumDN = llmk_hsum(accDN, lanes);
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
LLMK_KERNEL_W_VOID(llmk_norm_backward_row, (const float *x, const float *g, float *dx, ptrdiff_t n, const float *w,
                                          float mean, float rstd, int rms, float *dw, float *db),
                 (x, g, dx, n, w, mean, rstd, rms, dw, db))

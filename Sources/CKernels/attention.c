/* CKernels: attention score rows under a general position/mask layout (LLMCore's AttentionLayout): key j of a
 * row is visible iff dlo ≤ d ≤ dhi with d = qp − kp[j], kseg[j] == qseg and live[j] ≠ 0; visible scores get the
 * ALiBi bias −slope·d. Rows are contiguous float32 over the n keys of a block; kp, kseg, live are that block's
 * keys. Positions are int32 (the caller keeps |d| < 2^31). */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

static inline LLMK_BODY int llmk_attn_visible(int32_t d, int32_t dlo, int32_t dhi, int32_t ks, int32_t qs, uint8_t lv) {
    return (d >= dlo) & (d <= dhi) & (ks == qs) & (lv != 0);
}

/* Three vectorizable passes: mask and bias (no reduction), max and Σ e^(x − max) with one partial result per
 * vector lane (`lanes`: 8, or 16 in the AVX-512 version; float reductions do not vectorize otherwise), then
 * the scaling. Hidden keys hold −∞ until the second pass writes their exact 0. */
static inline LLMK_BODY float llmk_attn_softmax_row_body(int lanes, float *restrict row, ptrdiff_t n, const int32_t *restrict kp, int32_t qp,
                                                         int32_t dlo, int32_t dhi, const int32_t *restrict kseg, int32_t qseg,
                                                         const uint8_t *restrict live, float slope) {
    for (ptrdiff_t j = 0; j < n; j++) {
        int32_t d = qp - kp[j];
        float x = row[j] - slope * (float)d;
        row[j] = llmk_attn_visible(d, dlo, dhi, kseg[j], qseg, live[j]) ? x : -INFINITY;
    }
    float m = llmk_row_max(lanes, row, n);
    if (m == -INFINITY) {
        for (ptrdiff_t i = 0; i < n; i++) row[i] = 0;
        return INFINITY;
    }
    float acc[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) {
            float x = row[j + l], e = x == -INFINITY ? 0 : llmk_exp_poly(x - m);
            row[j + l] = e;
            acc[l] += e;
        }
    float total = llmk_hsum(acc, lanes);
    for (; j < n; j++) {
        float e = row[j] == -INFINITY ? 0 : llmk_exp_poly(row[j] - m);
        row[j] = e;
        total += e;
    }
    float inv = 1 / total;
    for (ptrdiff_t i = 0; i < n; i++) row[i] *= inv;
    return m + logf(total);
}
LLMK_KERNEL_W(float, llmk_attn_softmax_row,
            (float *row, ptrdiff_t n, const int32_t *kp, int32_t qp, int32_t dlo, int32_t dhi, const int32_t *kseg, int32_t qseg,
             const uint8_t *live, float slope),
            (row, n, kp, qp, dlo, dhi, kseg, qseg, live, slope))

static inline LLMK_BODY void llmk_attn_probs_row_body(float *restrict row, ptrdiff_t n, const int32_t *restrict kp, int32_t qp,
                                                      int32_t dlo, int32_t dhi, const int32_t *restrict kseg, int32_t qseg,
                                                      const uint8_t *restrict live, float slope, float lse) {
    for (ptrdiff_t j = 0; j < n; j++) {
        int32_t d = qp - kp[j];
        float e = llmk_exp_poly(row[j] - slope * (float)d - lse);
        row[j] = llmk_attn_visible(d, dlo, dhi, kseg[j], qseg, live[j]) ? e : 0;
    }
}
LLMK_KERNEL_VOID(llmk_attn_probs_row,
                 (float *row, ptrdiff_t n, const int32_t *kp, int32_t qp, int32_t dlo, int32_t dhi, const int32_t *kseg, int32_t qseg,
                  const uint8_t *live, float slope, float lse),
                 (row, n, kp, qp, dlo, dhi, kseg, qseg, live, slope, lse))

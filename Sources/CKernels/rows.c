/* CKernels: row kernels — softmax (attention), probabilities from a saved logsumexp, softmax backward,
 * cross-entropy forward/backward, bias-gradient column sums. Rows are contiguous float32. Reductions keep
 * one partial sum per vector lane (`lanes`: 8, or 16 in the AVX-512 version) combined in a fixed order. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

/* row[j] = e^(row[j] − shift) for j < n; returns Σ of the new values */
static inline LLMK_BODY float llmk_exp_shift_sum(int lanes, float *restrict row, ptrdiff_t n, float shift) {
    float acc[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) { float e = llmk_exp_poly(row[j + l] - shift); row[j + l] = e; acc[l] += e; }
    float s = llmk_hsum(acc, lanes);
    for (; j < n; j++) { float e = llmk_exp_poly(row[j] - shift); row[j] = e; s += e; }
    return s;
}

static inline LLMK_BODY float llmk_softmax_row_body(int lanes, float *restrict row, ptrdiff_t limit, ptrdiff_t s) {
    float m = llmk_row_max(lanes, row, limit);
    float total = llmk_exp_shift_sum(lanes, row, limit, m);
    float inv = 1 / total;
    for (ptrdiff_t j = 0; j < limit; j++) row[j] *= inv;
    for (ptrdiff_t j = limit; j < s; j++) row[j] = 0;
    return m + logf(total);
}
LLMK_KERNEL_W(float, llmk_softmax_row, (float *row, ptrdiff_t limit, ptrdiff_t s), (row, limit, s))

static inline LLMK_BODY void llmk_probs_row_body(float *restrict row, ptrdiff_t limit, ptrdiff_t s, float lse) {
    for (ptrdiff_t j = 0; j < limit; j++) row[j] = llmk_exp_poly(row[j] - lse);
    for (ptrdiff_t j = limit; j < s; j++) row[j] = 0;
}
LLMK_KERNEL_VOID(llmk_probs_row, (float *row, ptrdiff_t limit, ptrdiff_t s, float lse), (row, limit, s, lse))

static inline LLMK_BODY float llmk_dot(int lanes, const float *restrict a, const float *restrict b, ptrdiff_t n) {
    float acc[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) acc[l] += a[j + l] * b[j + l];
    float s = llmk_hsum(acc, lanes);
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}

static inline LLMK_BODY void llmk_softmax_backward_row_body(int lanes, const float *restrict p, float *restrict d, ptrdiff_t n) {
    float dot = llmk_dot(lanes, p, d, n);
    for (ptrdiff_t j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot);
}
LLMK_KERNEL_W_VOID(llmk_softmax_backward_row, (const float *p, float *d, ptrdiff_t n), (p, d, n))

static inline LLMK_BODY float llmk_logsumexp_row_body(int lanes, const float *restrict x, ptrdiff_t n, float *restrict sum) {
    float m = llmk_row_max(lanes, x, n);
    float acc[LLMK_MAX_LANES] = {0}, accx[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) { acc[l] += llmk_exp_poly(x[j + l] - m); accx[l] += x[j + l]; }
    float s = llmk_hsum(acc, lanes), sx = llmk_hsum(accx, lanes);
    for (; j < n; j++) { s += llmk_exp_poly(x[j] - m); sx += x[j]; }
    *sum = sx;
    return m + logf(s);
}
LLMK_KERNEL_W(float, llmk_logsumexp_row, (const float *x, ptrdiff_t n, float *sum), (x, n, sum))

static inline LLMK_BODY void llmk_xent_backward_row_body(const float *restrict x, float *restrict d, ptrdiff_t n,
                                                        float lse, float scale, float uniform) {
    for (ptrdiff_t j = 0; j < n; j++) d[j] = scale * (llmk_exp_poly(x[j] - lse) - uniform);
}
LLMK_KERNEL_VOID(llmk_xent_backward_row, (const float *x, float *d, ptrdiff_t n, float lse, float scale, float uniform),
                 (x, d, n, lse, scale, uniform))

static inline LLMK_BODY void llmk_add_column_sums_body(float *restrict acc, const float *restrict x, ptrdiff_t rows,
                                                      ptrdiff_t n, ptrdiff_t ld) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        for (ptrdiff_t j = 0; j < n; j++) acc[j] += row[j];
    }
}
LLMK_KERNEL_VOID(llmk_add_column_sums, (float *acc, const float *x, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t ld),
                 (acc, x, rows, n, ld))

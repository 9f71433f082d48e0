/* CKernels: fused optimizer loops: the Adam/AdamW update (w, g, m, v, vmax: (n), updated in place) and the
 * sum of squares of gradient clipping. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

/* Adam / AdamW (torch.optim.Adam, torch.optim.AdamW): w ·= decay (AdamW's decoupled decay; 1 for Adam);
 * g' = g + l2·w (Adam's L2 weight decay; 0 for AdamW); m += (1−β1)(g' − m); v = β2·v + (1−β2)·g'²;
 * with AMSGrad (vmax ≠ NULL) vmax = max(vmax, v) replaces v below; w −= stepSize · m / (√v / bc2Sqrt + eps). */
static inline LLMK_BODY void llmk_adam_update_body(float *restrict w, const float *restrict g, float *restrict m,
                                                  float *restrict v, float *restrict vmax, ptrdiff_t n, float decay,
                                                  float l2, float oneMinusB1, float beta2, float oneMinusB2,
                                                  float bc2Sqrt, float eps, float stepSize) {
    if (vmax) {
        for (ptrdiff_t i = 0; i < n; i++) {
            float wi = w[i] * decay, gi = g[i] + l2 * wi;
            float mi = m[i] + oneMinusB1 * (gi - m[i]);
            float vi = v[i] * beta2 + oneMinusB2 * gi * gi;
            float second = vmax[i] > vi ? vmax[i] : vi;
            m[i] = mi; v[i] = vi; vmax[i] = second;
            w[i] = wi - stepSize * (mi / (LLMK_SQRTF(second) / bc2Sqrt + eps));
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            float wi = w[i] * decay, gi = g[i] + l2 * wi;
            float mi = m[i] + oneMinusB1 * (gi - m[i]);
            float vi = v[i] * beta2 + oneMinusB2 * gi * gi;
            m[i] = mi; v[i] = vi;
            w[i] = wi - stepSize * (mi / (LLMK_SQRTF(vi) / bc2Sqrt + eps));
        }
    }
}
LLMK_KERNEL_VOID(llmk_adam_update, (float *w, const float *g, float *m, float *v, float *vmax, ptrdiff_t n, float decay,
                                    float l2, float oneMinusB1, float beta2, float oneMinusB2, float bc2Sqrt, float eps,
                                    float stepSize),
                 (w, g, m, v, vmax, n, decay, l2, oneMinusB1, beta2, oneMinusB2, bc2Sqrt, eps, stepSize))

/* Σ x[i]² in blocks of 4096 elements: one float partial sum per vector lane inside a block, the block sums
 * added in double (float accuracy per block, no drift over hundreds of millions of elements). */
static inline LLMK_BODY double llmk_sum_squares_body(int lanes, const float *restrict x, ptrdiff_t n) {
    double total = 0;
    for (ptrdiff_t b = 0; b < n; b += 4096) total += llmk_sum_sq(lanes, x + b, (b + 4096 < n ? b + 4096 : n) - b, 0);
    return total;
}
LLMK_KERNEL_W(double, llmk_sum_squares, (const float *x, ptrdiff_t n), (x, n))

/* CKernels: fused optimizer update loops. w, g, m, v: (n), updated in place. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <math.h>

/* AdamW (torch.optim.AdamW, amsgrad off): w ·= decay; m += (1−β1)(g − m); v = β2·v + (1−β2)·g²;
 * w −= stepSize · m / (√v / √(1−β2ᵗ) + eps), with stepSize = lr / (1 − β1ᵗ). */
static inline LLMK_BODY void llmk_adamw_update_body(float *restrict w, const float *restrict g, float *restrict m,
                                                   float *restrict v, ptrdiff_t n, float decay, float oneMinusB1,
                                                   float beta2, float oneMinusB2, float bc2Sqrt, float eps, float stepSize) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float wi = w[i] * decay, gi = g[i];
        float mi = m[i] + oneMinusB1 * (gi - m[i]);
        float vi = v[i] * beta2 + oneMinusB2 * gi * gi;
        m[i] = mi; v[i] = vi;
        w[i] = wi - stepSize * (mi / (sqrtf(vi) / bc2Sqrt + eps));
    }
}
LLMK_KERNEL_VOID(llmk_adamw_update, (float *w, const float *g, float *m, float *v, ptrdiff_t n, float decay,
                                     float oneMinusB1, float beta2, float oneMinusB2, float bc2Sqrt, float eps,
                                     float stepSize),
                 (w, g, m, v, n, decay, oneMinusB1, beta2, oneMinusB2, bc2Sqrt, eps, stepSize))

/* CKernels: elementwise activations — tanh, GELU (tanh form) forward and backward. x, y, g, dx: (n). */
#include "llmk_kernels.h"
#include "dispatch.h"

float llmk_exp(float x) { return llmk_exp_poly(x); }
float llmk_tanh(float x) { return llmk_tanh_poly(x); }

static inline LLMK_BODY void llmk_tanh_forward_body(const float *restrict x, float *restrict y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = llmk_tanh_poly(x[i]);
}
LLMK_KERNEL_VOID(llmk_tanh_forward, (const float *x, float *y, ptrdiff_t n), (x, y, n))

/* GELU (tanh form) through the logistic function: 0.5·x·(1 + tanh(u)) = x·σ(2u) = x / (1 + e^(−2u)) with
 * u = √(2/π)·(x + 0.044715·x³). One exp and one division per element, and no cancellation for negative x
 * (1 + tanh(u) loses relative accuracy there in float32). */
static inline LLMK_BODY void llmk_gelu_tanh_forward_body(const float *restrict x, float *restrict y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v / (1 + llmk_exp_poly(-2 * LLMK_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
    }
}
LLMK_KERNEL_VOID(llmk_gelu_tanh_forward, (const float *x, float *y, ptrdiff_t n), (x, y, n))

/* GELU'(x) = s + 2·x·s·(1 − s)·u', with s = σ(2u) = 0.5·(1 + tanh(u)) and u' = √(2/π)·(1 + 3·0.044715·x²) */
static inline LLMK_BODY void llmk_gelu_tanh_backward_body(const float *restrict g, const float *restrict x,
                                                         float *restrict dx, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        float s = 1 / (1 + llmk_exp_poly(-2 * LLMK_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
        float du = LLMK_SQRT_2_OVER_PI * (1 + 3 * 0.044715f * v * v);
        dx[i] = g[i] * (s + 2 * v * s * (1 - s) * du);
    }
}
LLMK_KERNEL_VOID(llmk_gelu_tanh_backward, (const float *g, const float *x, float *dx, ptrdiff_t n), (g, x, dx, n))

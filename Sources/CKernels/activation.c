/* CKernels: elementwise activations — tanh, GELU (tanh form) forward and backward. x, y, g, dx: (n). */
#include "llmk_kernels.h"
#include "dispatch.h"

float llmk_exp(float x) { return llmk_exp_poly(x); }
float llmk_tanh(float x) { return llmk_tanh_poly(x); }

static inline LLMK_BODY void llmk_tanh_forward_body(const float *restrict x, float *restrict y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = llmk_tanh_poly(x[i]);
}
LLMK_KERNEL_VOID(llmk_tanh_forward, (const float *x, float *y, ptrdiff_t n), (x, y, n))

static inline LLMK_BODY void llmk_gelu_tanh_forward_body(const float *restrict x, float *restrict y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1 + llmk_tanh_poly(LLMK_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
    }
}
LLMK_KERNEL_VOID(llmk_gelu_tanh_forward, (const float *x, float *y, ptrdiff_t n), (x, y, n))

/* GELU'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)·(x + 0.044715·x³)) */
static inline LLMK_BODY void llmk_gelu_tanh_backward_body(const float *restrict g, const float *restrict x,
                                                         float *restrict dx, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        float t = llmk_tanh_poly(LLMK_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v));
        float du = LLMK_SQRT_2_OVER_PI * (1 + 3 * 0.044715f * v * v);
        dx[i] = g[i] * (0.5f * (1 + t) + 0.5f * v * (1 - t * t) * du);
    }
}
LLMK_KERNEL_VOID(llmk_gelu_tanh_backward, (const float *g, const float *x, float *dx, ptrdiff_t n), (g, x, dx, n))

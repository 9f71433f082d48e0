/* CKernels: elementwise activations — tanh, GELU (tanh form), and the gated units SwiGLU/GeGLU, forward and backward. */
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

/* Standard normal CDF Φ(x) = 0.5·erfc(−x/√2), with erfc from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7),
 * evaluated on |x| so that neither tail cancels. Branch-free. */
static inline LLMK_BODY float llmk_phi_poly(float x) {
    float z = (x < 0 ? -x : x) * 0.70710678118654752f;
    float t = 1 / (1 + 0.3275911f * z);
    float q = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float half_erfc = 0.5f * q * llmk_exp_poly(-z * z);
    return x < 0 ? half_erfc : 1 - half_erfc;
}

/* Gated linear units over `rows` rows of 2n inputs: a = x[0, n) (the gate), b = x[n, 2n); y = act(a)·b with
 * act = SiLU (gelu = 0) or exact GELU a·Φ(a) (gelu ≠ 0). */
static inline LLMK_BODY void llmk_glu_forward_body(const float *restrict x, float *restrict y, ptrdiff_t rows, ptrdiff_t n,
                                                   int gelu) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *a = x + r * 2 * n, *b = a + n;
        float *o = y + r * n;
        if (gelu) {
            for (ptrdiff_t i = 0; i < n; i++) o[i] = a[i] * llmk_phi_poly(a[i]) * b[i];
        } else {
            for (ptrdiff_t i = 0; i < n; i++) o[i] = a[i] / (1 + llmk_exp_poly(-a[i])) * b[i];
        }
    }
}
LLMK_KERNEL_VOID(llmk_glu_forward, (const float *x, float *y, ptrdiff_t rows, ptrdiff_t n, int gelu), (x, y, rows, n, gelu))

/* Backward: da = g·b·act'(a), db = g·act(a); SiLU' = σ(a)·(1 + a·(1 − σ(a))), GELU' = Φ(a) + a·φ(a). */
static inline LLMK_BODY void llmk_glu_backward_body(const float *restrict g, const float *restrict x, float *restrict dx,
                                                    ptrdiff_t rows, ptrdiff_t n, int gelu) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *a = x + r * 2 * n, *b = a + n, *gr = g + r * n;
        float *da = dx + r * 2 * n, *db = da + n;
        if (gelu) {
            for (ptrdiff_t i = 0; i < n; i++) {
                float v = a[i], p = llmk_phi_poly(v);
                float dens = 0.3989422804014327f * llmk_exp_poly(-0.5f * v * v);
                da[i] = gr[i] * b[i] * (p + v * dens);
                db[i] = gr[i] * v * p;
            }
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                float v = a[i], s = 1 / (1 + llmk_exp_poly(-v));
                da[i] = gr[i] * b[i] * s * (1 + v * (1 - s));
                db[i] = gr[i] * v * s;
            }
        }
    }
}
LLMK_KERNEL_VOID(llmk_glu_backward, (const float *g, const float *x, float *dx, ptrdiff_t rows, ptrdiff_t n, int gelu),
                 (g, x, dx, rows, n, gelu))

/* Internal to CKernels: compiles one kernel body three times and dispatches on the CPU (see llmk_kernels.h).
 * A kernel is written once as `static inline LLMK_BODY ret name##_body(params)`; LLMK_KERNEL(_VOID) emits
 * name##_avx512 (target AVX-512 F/BW/VL/DQ + FMA: the body is inlined there and vectorized 16-wide),
 * name##_avx2 (target avx2,fma: 8-wide), name##_base (baseline x86-64: 4-wide SSE), and the public `name`
 * choosing by llmk_kernel_level. A body whose reductions keep one partial sum per vector lane takes the
 * lane count as its first parameter (`int lanes`, ≤ LLMK_MAX_LANES) and is emitted with LLMK_KERNEL_W(_VOID):
 * 16 in the AVX-512 version, 8 in the others (so baseline and AVX2 sum in the same order).
 * Also the shared scalar polynomials (exp, tanh) and the fixed-order horizontal sums. */
#ifndef LLMK_DISPATCH_H
#define LLMK_DISPATCH_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>
#include <math.h>

extern int llmk_kernel_level;   /* LLMK_LEVEL_*: set once at load (cpu.c); tests may lower it */

#define LLMK_BODY __attribute__((always_inline))
#define LLMK_MAX_LANES 16
#define LLMK_ARGS(...) __VA_ARGS__

#if defined(__x86_64__) || defined(__i386__)
#define LLMK_X86 1
#define LLMK_AVX2 __attribute__((target("avx2,fma")))
#define LLMK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

/* body16 / body8: the body's argument lists in the AVX-512 version and in the AVX2 and baseline versions. */
#define LLMK_KERNEL_VARIANTS(ret, name, params, args, body16, body8) \
    LLMK_AVX512 static ret name##_avx512 params { return name##_body body16; } \
    LLMK_AVX2 static ret name##_avx2 params { return name##_body body8; } \
    static ret name##_base params { return name##_body body8; } \
    ret name params { \
        return llmk_kernel_level >= 2 ? name##_avx512 args : llmk_kernel_level == 1 ? name##_avx2 args : name##_base args; \
    }
#define LLMK_KERNEL_VARIANTS_VOID(name, params, args, body16, body8) \
    LLMK_AVX512 static void name##_avx512 params { name##_body body16; } \
    LLMK_AVX2 static void name##_avx2 params { name##_body body8; } \
    static void name##_base params { name##_body body8; } \
    void name params { \
        if (llmk_kernel_level >= 2) name##_avx512 args; else if (llmk_kernel_level == 1) name##_avx2 args; else name##_base args; \
    }
#define LLMK_KERNEL(ret, name, params, args) LLMK_KERNEL_VARIANTS(ret, name, params, args, args, args)
#define LLMK_KERNEL_VOID(name, params, args) LLMK_KERNEL_VARIANTS_VOID(name, params, args, args, args)
#define LLMK_KERNEL_W(ret, name, params, args) \
    LLMK_KERNEL_VARIANTS(ret, name, params, args, (16, LLMK_ARGS args), (8, LLMK_ARGS args))
#define LLMK_KERNEL_W_VOID(name, params, args) \
    LLMK_KERNEL_VARIANTS_VOID(name, params, args, (16, LLMK_ARGS args), (8, LLMK_ARGS args))
#else   /* other architectures: one version, compiled for the build's target */
#define LLMK_KERNEL(ret, name, params, args) ret name params { return name##_body args; }
#define LLMK_KERNEL_VOID(name, params, args) void name params { name##_body args; }
#define LLMK_KERNEL_W(ret, name, params, args) ret name params { return name##_body(8, LLMK_ARGS args); }
#define LLMK_KERNEL_W_VOID(name, params, args) void name params { name##_body(8, LLMK_ARGS args); }
#endif

/* e^x, branch-free: Cody–Waite reduction x = n·ln2 + r, Cephes' degree-6 polynomial for e^r, then ·2ⁿ through
 * the exponent bits. Input clamped to [−87, 88] (comparisons keep NaN). */
static inline LLMK_BODY float llmk_exp_poly(float x0) {
    float x = x0 < -87.0f ? -87.0f : x0;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f;               /* 1.5·2²³: adding it rounds to the nearest integer */
    float shifted = x * 1.44269504088896341f + magic;
    float n = shifted - magic;
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float z = r * r;
    float p = ((((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r
                 + 1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r) + 1.0f;
    uint32_t bits, mb = 0x4B400000u;               /* bit pattern of magic */
    memcpy(&bits, &shifted, 4);
    bits = (bits - mb + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

/* tanh: odd Taylor series below |x| = 0.3, (1 − e)/(1 + e) with e = exp(−2|x|) above; branch-free. */
static inline LLMK_BODY float llmk_tanh_poly(float x) {
    float ax = x < 0 ? -x : x, x2 = x * x;
    float small = x * (1 + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
    float e = llmk_exp_poly(-2 * ax);
    float t = (1 - e) / (1 + e);
    float big = x < 0 ? -t : t;
    return ax < 0.3f ? small : big;
}

/* The sum of 8 partial sums (one AVX2 register), in a fixed order. */
static inline LLMK_BODY float llmk_hsum8(const float acc[8]) {
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* The sum of `lanes` (8 or 16) partial sums in a fixed order: 16 are first folded pairwise (l, l + 8). */
static inline LLMK_BODY float llmk_hsum(const float *acc, int lanes) {
    if (lanes <= 8) return llmk_hsum8(acc);
    float half[8];
    for (int l = 0; l < 8; l++) half[l] = acc[l] + acc[l + 8];
    return llmk_hsum8(half);
}

/* max of x[0, n) with one running max per vector lane (`lanes`: 8 or 16); −∞ for n = 0. */
static inline LLMK_BODY float llmk_row_max(int lanes, const float *restrict x, ptrdiff_t n) {
    float acc[LLMK_MAX_LANES];
    for (int l = 0; l < lanes; l++) acc[l] = -INFINITY;
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    float m = acc[0];
    for (int l = 1; l < lanes; l++) m = acc[l] > m ? acc[l] : m;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* Σ (x[j] − shift)² with one partial sum per vector lane */
static inline LLMK_BODY float llmk_sum_sq(int lanes, const float *restrict x, ptrdiff_t n, float shift) {
    float acc[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) { float d = x[j + l] - shift; acc[l] += d * d; }
    float s = llmk_hsum(acc, lanes);
    for (; j < n; j++) { float d = x[j] - shift; s += d * d; }
    return s;
}

/* √x for float, correctly rounded like sqrtf but without errno, so that loops using it vectorize. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define LLMK_SQRTF(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef LLMK_SQRTF
#define LLMK_SQRTF(x) sqrtf(x)
#endif

#define LLMK_SQRT_2_OVER_PI 0.7978845608028654f

#endif

/* CKernels: products with half-precision weights for inference: y = x·Wᵀ + b with W stored as IEEE binary16
 * (f16) or bfloat16 (bf16) rows, converted to float32 on the fly (exactly: every half value is a float32) and
 * summed with one partial sum per vector lane (8, or 16 in the AVX-512 version) folded in a fixed order.
 * Where the CPU has AVX2 and F16C (every AVX2 x86 so far), the AVX2 and AVX-512 levels use an intrinsics loop
 * instead (vcvtph2ps / a 16-bit shift, two FMA chains of 8 lanes): faster, summed in another order. */
#include "llmk_kernels.h"
#include "dispatch.h"
#ifdef LLMK_X86
#include <immintrin.h>
#endif

/* binary16 -> float32, branch-free (vectorizes): the exponent is rebiased; inf/NaN get the rest of the bias;
 * subnormals and zero go through 2^-14·(1 + m/1024) − 2^-14 = m·2^-24 (exact). */
static inline LLMK_BODY float llmk_f16_value(uint16_t h) {
    uint32_t o = (uint32_t)(h & 0x7fffu) << 13, e = o & 0x0f800000u;
    o += (127u - 15u) << 23;
    o += e == 0x0f800000u ? (128u - 16u) << 23 : 0u;
    o += e == 0 ? 1u << 23 : 0u;
    float f;
    memcpy(&f, &o, 4);
    f = e == 0 ? f - 6.103515625e-05f : f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits |= (uint32_t)(h & 0x8000u) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

static inline LLMK_BODY float llmk_bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline LLMK_BODY float llmk_dot_half(int lanes, const uint16_t *restrict w, const float *restrict x, ptrdiff_t k, int bf16) {
    float acc[LLMK_MAX_LANES] = {0};
    ptrdiff_t j = 0;
    if (bf16) {
        for (; j + lanes <= k; j += lanes)
            for (int l = 0; l < lanes; l++) acc[l] += llmk_bf16_value(w[j + l]) * x[j + l];
    } else {
        for (; j + lanes <= k; j += lanes)
            for (int l = 0; l < lanes; l++) acc[l] += llmk_f16_value(w[j + l]) * x[j + l];
    }
    float s = llmk_hsum(acc, lanes);
    for (; j < k; j++) s += (bf16 ? llmk_bf16_value(w[j]) : llmk_f16_value(w[j])) * x[j];
    return s;
}

static inline LLMK_BODY void llmk_half_rows_generic_body(int lanes, int bf16, const uint16_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k,
                                                 const float *x, ptrdiff_t m, const float *bias, float *y, ptrdiff_t ldy) {
    for (ptrdiff_t n = n0; n < n1; n++) {
        float b = bias ? bias[n] : 0;
        for (ptrdiff_t r = 0; r < m; r++) y[r * ldy + n] = llmk_dot_half(lanes, w + n * k, x + r * k, k, bf16) + b;
    }
}
LLMK_KERNEL_W_VOID(llmk_half_rows_generic,
                   (int bf16, const uint16_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const float *x, ptrdiff_t m,
                    const float *bias, float *y, ptrdiff_t ldy),
                   (bf16, w, n0, n1, k, x, m, bias, y, ldy))

#ifdef LLMK_X86
__attribute__((target("avx2,fma,f16c"))) static float llmk_dot_half_f16c(const uint16_t *w, const float *x, ptrdiff_t k, int bf16) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    ptrdiff_t j = 0;
    for (; j + 16 <= k; j += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(w + j)), b = _mm_loadu_si128((const __m128i *)(w + j + 8));
        __m256 wa = bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(a), 16)) : _mm256_cvtph_ps(a);
        __m256 wb = bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16)) : _mm256_cvtph_ps(b);
        acc0 = _mm256_fmadd_ps(wa, _mm256_loadu_ps(x + j), acc0);
        acc1 = _mm256_fmadd_ps(wb, _mm256_loadu_ps(x + j + 8), acc1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
    float s = llmk_hsum8(lanes);
    for (; j < k; j++) s += (bf16 ? llmk_bf16_value(w[j]) : llmk_f16_value(w[j])) * x[j];
    return s;
}

static int llmk_f16c_ok;   /* the CPU + OS have F16C (cpu.c's query, at load time) */
__attribute__((constructor)) static void llmk_f16c_detect(void) {
    llmk_cpu_info info;
    llmk_cpu_query(&info);
    llmk_f16c_ok = (info.features & LLMK_CPU_F16C) != 0;
}
#endif

void llmk_half_rows(int bf16, const uint16_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const float *x, ptrdiff_t m,
                    const float *bias, float *y, ptrdiff_t ldy) {
#ifdef LLMK_X86
    if (llmk_kernel_level >= LLMK_LEVEL_AVX2 && llmk_f16c_ok) {
        for (ptrdiff_t n = n0; n < n1; n++) {
            float b = bias ? bias[n] : 0;
            for (ptrdiff_t r = 0; r < m; r++) y[r * ldy + n] = llmk_dot_half_f16c(w + n * k, x + r * k, k, bf16) + b;
        }
        return;
    }
#endif
    llmk_half_rows_generic(bf16, w, n0, n1, k, x, m, bias, y, ldy);
}

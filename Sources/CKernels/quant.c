/* CKernels: quantized matrix products for inference on ggml's block formats (Q8_0: an f16 scale + 32 int8, 34
 * bytes; Q4_0: an f16 scale + 32 4-bit quants in 16 bytes, value = q − 8; 18 bytes) and on int8 rows with one
 * float scale per row (per-channel weights, per-token activations). The activations are quantized first
 * (llmk_quant_act_q8: 32-value blocks with a float scale; llmk_quant_act_int8: one scale per row), then each
 * output is an integer dot product per block scaled in float — as llama.cpp's vec_dot_q8_0_q8_0/q4_0_q8_0.
 * Exactness: per block the products are summed in int32 in 8 groups of 4 consecutive values (the lanes of
 * AVX2's maddubs + madd); group m's float partial sum gets d_w·d_x·isum_m added (a multiply then an add, never
 * fused) — even blocks into one set of 8 partial sums, odd blocks into another (two independent chains) —
 * and the two sets are added lane by lane, then folded in llmk_hsum8's order. The baseline and AVX2 versions follow the
 * same arithmetic, so they agree bit for bit. The AVX-512 level runs the AVX2 code (compiled for AVX-512).
 * Q4_K (144-byte super-blocks: f16 d and dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles; sub-block j's
 * value = d·sc_j·q − dmin·m_j) runs each 32-value sub-block against one activation block: its 8 group sums go into
 * the even/odd partial sums with the scale (d·sc_j)·d_x as above, and the min term (dmin·m_j)·(d_x·Σq_x) — the
 * activation block's sum computed once per row — into lane j of a third set of 8; result = fold(even, odd) −
 * hsum8(mins). The SIMD Q4_K code unpacks a super-block's 8 scales and mins as one 8-lane vector each (the same
 * products d·sc_j, (d·sc_j)·d_x, dmin·m_j lane by lane); the SIMD Q4_0 code computes 4 output rows per pass (each
 * activation block loaded once; the unsigned nibbles go straight into maddubs and 8·Σx is subtracted from each
 * group sum, exact in int32). Both prefetch the weights LLMK_Q4_PREFETCH bytes ahead.
 * Quantizing activations rounds to nearest even and clamps to ±127; non-finite inputs quantize to 0. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include "q4k.h"
#include <stdlib.h>
#ifdef LLMK_X86
#include <immintrin.h>
#endif

#pragma clang fp contract(off)

/* IEEE binary16 -> float, exact (subnormals, inf, NaN). */
static inline float llmk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (e == 0) {
        float f = (float)man * 0x1p-24f;
        return sign ? -f : f;
    }
    bits = e == 31 ? (sign | 0x7f800000u | (man << 13)) : (sign | ((e + 112u) << 23) | (man << 13));
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float llmk_half_bits_to_float(uint16_t h) { return llmk_half_to_float(h); }

/* The block scales' values: one load per block instead of the bit manipulation (filled at load time). */
static float llmk_half_table[65536];
__attribute__((constructor)) static void llmk_half_table_fill(void) {
    for (uint32_t h = 0; h < 65536; h++) llmk_half_table[h] = llmk_half_to_float((uint16_t)h);
}
#define LLMK_BLOCK_SCALE(blk) llmk_half_table[(uint16_t)((blk)[0] | (blk)[1] << 8)]

static inline int8_t llmk_q127(float v) {
    if (!(v == v) || v > 1e30f || v < -1e30f) return 0;   /* NaN or an infinite product */
    float r = __builtin_rintf(v);                         /* nearest even in the default rounding mode */
    return (int8_t)(r > 127.f ? 127 : r < -127.f ? -127 : r);
}

void llmk_quant_act_q8(const float *x, llmk_q8_act *out, ptrdiff_t k) {
    for (ptrdiff_t b = 0; b < k / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++) { float a = fabsf(v[j]); amax = a > amax ? a : amax; }
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        out[b].d = d;
        for (int j = 0; j < 32; j++) out[b].qs[j] = llmk_q127(v[j] * id);
    }
}

float llmk_quant_act_int8(const float *x, int8_t *q, ptrdiff_t k) {
    float amax = 0;
    for (ptrdiff_t j = 0; j < k; j++) { float a = fabsf(x[j]); amax = a > amax ? a : amax; }
    float d = amax / 127, id = d != 0 ? 1 / d : 0;
    for (ptrdiff_t j = 0; j < k; j++) q[j] = llmk_q127(x[j] * id);
    return d;
}

/* ---- baseline: the same grouping as the SIMD code, in scalar C ---- */

static inline void llmk_accumulate_groups(float acc[8], const int8_t *w, const int8_t *x, float d) {
    for (int m = 0; m < 8; m++) {
        int32_t s = 0;
        for (int j = 4 * m; j < 4 * m + 4; j++) s += (int32_t)w[j] * (int32_t)x[j];
        float t = d * (float)s;
        acc[m] = acc[m] + t;
    }
}

static inline float llmk_fold_pair(const float a[8], const float b[8]) {
    float lanes[8];
    for (int m = 0; m < 8; m++) lanes[m] = a[m] + b[m];
    return llmk_hsum8(lanes);
}

static float llmk_dot_q8_0_base(const uint8_t *w, const llmk_q8_act *x, ptrdiff_t nb) {
    float acc[2][8] = {{0}};
    for (ptrdiff_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 34 * b;
        float d = LLMK_BLOCK_SCALE(blk) * x[b].d;
        llmk_accumulate_groups(acc[b & 1], (const int8_t *)(blk + 2), x[b].qs, d);
    }
    return llmk_fold_pair(acc[0], acc[1]);
}

static float llmk_dot_q4_0_base(const uint8_t *w, const llmk_q8_act *x, ptrdiff_t nb) {
    float acc[2][8] = {{0}};
    int8_t q[32];
    for (ptrdiff_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 18 * b;
        float d = LLMK_BLOCK_SCALE(blk) * x[b].d;
        for (int j = 0; j < 16; j++) { q[j] = (int8_t)((blk[2 + j] & 0x0F) - 8); q[j + 16] = (int8_t)((blk[2 + j] >> 4) - 8); }
        llmk_accumulate_groups(acc[b & 1], q, x[b].qs, d);
    }
    return llmk_fold_pair(acc[0], acc[1]);
}

/* A Q4_K super-block's 8 sub-block scales d·sc_j and mins dmin·m_j. */
static inline void llmk_q4k_unpack(const uint8_t *sb, float dsc[8], float dm[8]) {
    float d = LLMK_BLOCK_SCALE(sb), dmin = LLMK_BLOCK_SCALE(sb + 2);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        llmk_q4k_scale_min(sb + 4, j, &sc, &m);
        dsc[j] = d * (float)sc;
        dm[j] = dmin * (float)m;
    }
}

/* xsum[b] = d_x·Σ q_x of activation block b (the min term's factor) and xd[b] = d_x, once per activation row. */
static void llmk_q4k_xsums(const llmk_q8_act *x, float *xsum, float *xd, ptrdiff_t nb) {
    for (ptrdiff_t b = 0; b < nb; b++) {
        xd[b] = x[b].d;
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += x[b].qs[j];
        xsum[b] = x[b].d * (float)s;
    }
}

static float llmk_dot_q4_k_base(const uint8_t *w, const llmk_q8_act *x, const float *xsum, const float *xd, ptrdiff_t nb) {
    (void)xd;
    float acc[2][8] = {{0}}, mins[8] = {0}, dsc[8], dm[8];
    int8_t q[32];
    for (ptrdiff_t s = 0; s < nb / 8; s++) {
        const uint8_t *sb = w + 144 * s;
        llmk_q4k_unpack(sb, dsc, dm);
        for (int j = 0; j < 8; j++) {
            const llmk_q8_act *xb = x + 8 * s + j;
            for (int l = 0; l < 32; l++) q[l] = (int8_t)((sb[16 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 0x0F);
            llmk_accumulate_groups(acc[j & 1], q, xb->qs, dsc[j] * xb->d);
            float t = dm[j] * xsum[8 * s + j];
            mins[j] = mins[j] + t;
        }
    }
    return llmk_fold_pair(acc[0], acc[1]) - llmk_hsum8(mins);
}

static int32_t llmk_dot_int8_base(const int8_t *w, const int8_t *x, ptrdiff_t k) {
    int32_t s = 0;
    for (ptrdiff_t j = 0; j < k; j++) s += (int32_t)w[j] * (int32_t)x[j];
    return s;
}

#ifdef LLMK_X86
/* ---- AVX2: sign trick (|x| as unsigned times sign(x)·w), maddubs to int16 pairs, madd to int32 quads ---- */

#ifndef LLMK_Q4_PREFETCH
#define LLMK_Q4_PREFETCH 512
#endif
#define LLMK_QUANT_SIMD(TARGET, SUFFIX) \
    TARGET static inline __m256i llmk_quads_##SUFFIX(__m256i w, __m256i x) { \
        __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x)); \
        return _mm256_madd_epi16(p16, _mm256_set1_epi16(1)); \
    } \
    /* the same for unsigned w (0..15: no saturation in maddubs, |pair| ≤ 2·15·127) */ \
    TARGET static inline __m256i llmk_uquads_##SUFFIX(__m256i w, __m256i x) { \
        return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)); \
    } \
    /* Q4_0 for 4 rows at once (row r at w + r·rowBytes) against one activation row: each activation block is \
     * loaded once and its 8·Σx per group of 4 computed once; per row the unsigned nibbles q go straight into \
     * maddubs and the group sums Σ(q − 8)·x = Σq·x − 8·Σx come out exact, as in llmk_block_q4. Each row's float \
     * arithmetic is llmk_dot_q4_0's (even/odd accumulators, the same multiply then add). */ \
    TARGET static void llmk_dot4_q4_0_##SUFFIX(const uint8_t *w, ptrdiff_t rowBytes, const llmk_q8_act *x, ptrdiff_t nb, \
                                               float out[4]) { \
        __m256 acc[4][2]; \
        for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps(); \
        const __m256i low = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8); \
        for (ptrdiff_t b = 0; b < nb; b++) { \
            __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs); \
            __m256i corr = llmk_uquads_##SUFFIX(eight, qx); \
            __m256 dx = _mm256_set1_ps(x[b].d); \
            __m256 t[4]; \
            for (int r = 0; r < 4; r++) { \
                const uint8_t *blk = w + r * rowBytes + 18 * b; \
                _mm_prefetch((const char *)(blk + LLMK_Q4_PREFETCH), _MM_HINT_T0); \
                __m128i packed = _mm_loadu_si128((const __m128i *)(blk + 2)); \
                __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1); \
                __m256i quads = _mm256_sub_epi32(llmk_uquads_##SUFFIX(_mm256_and_si256(both, low), qx), corr); \
                __m256 d = _mm256_mul_ps(_mm256_set1_ps(LLMK_BLOCK_SCALE(blk)), dx); \
                t[r] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(quads)); \
            } \
            if (b & 1) \
                for (int r = 0; r < 4; r++) acc[r][1] = _mm256_add_ps(acc[r][1], t[r]); \
            else \
                for (int r = 0; r < 4; r++) acc[r][0] = _mm256_add_ps(acc[r][0], t[r]); \
        } \
        for (int r = 0; r < 4; r++) { \
            float lanes[8]; \
            _mm256_storeu_ps(lanes, _mm256_add_ps(acc[r][0], acc[r][1])); \
            out[r] = llmk_hsum8(lanes); \
        } \
    } \
    TARGET static inline __m256 llmk_block_q8_##SUFFIX(const uint8_t *blk, const llmk_q8_act *xb) { \
        float d = LLMK_BLOCK_SCALE(blk) * xb->d; \
        __m256i qw = _mm256_loadu_si256((const __m256i *)(blk + 2)); \
        __m256i qx = _mm256_loadu_si256((const __m256i *)xb->qs); \
        return _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(llmk_quads_##SUFFIX(qw, qx))); \
    } \
    TARGET static inline __m256 llmk_block_q4_##SUFFIX(const uint8_t *blk, const llmk_q8_act *xb) { \
        float d = LLMK_BLOCK_SCALE(blk) * xb->d; \
        __m128i packed = _mm_loadu_si128((const __m128i *)(blk + 2)); \
        __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1); \
        __m256i qw = _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8)); \
        __m256i qx = _mm256_loadu_si256((const __m256i *)xb->qs); \
        return _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(llmk_quads_##SUFFIX(qw, qx))); \
    } \
    TARGET static float llmk_dot_q8_0_##SUFFIX(const uint8_t *w, const llmk_q8_act *x, ptrdiff_t nb) { \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(); \
        ptrdiff_t b = 0; \
        for (; b + 2 <= nb; b += 2) { \
            acc0 = _mm256_add_ps(acc0, llmk_block_q8_##SUFFIX(w + 34 * b, x + b)); \
            acc1 = _mm256_add_ps(acc1, llmk_block_q8_##SUFFIX(w + 34 * (b + 1), x + b + 1)); \
        } \
        if (b < nb) acc0 = _mm256_add_ps(acc0, llmk_block_q8_##SUFFIX(w + 34 * b, x + b)); \
        float lanes[8]; \
        _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1)); \
        return llmk_hsum8(lanes); \
    } \
    TARGET static float llmk_dot_q4_0_##SUFFIX(const uint8_t *w, const llmk_q8_act *x, ptrdiff_t nb) { \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(); \
        ptrdiff_t b = 0; \
        for (; b + 2 <= nb; b += 2) { \
            acc0 = _mm256_add_ps(acc0, llmk_block_q4_##SUFFIX(w + 18 * b, x + b)); \
            acc1 = _mm256_add_ps(acc1, llmk_block_q4_##SUFFIX(w + 18 * (b + 1), x + b + 1)); \
        } \
        if (b < nb) acc0 = _mm256_add_ps(acc0, llmk_block_q4_##SUFFIX(w + 18 * b, x + b)); \
        float lanes[8]; \
        _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1)); \
        return llmk_hsum8(lanes); \
    } \
    /* A Q4_K super-block's scales d·sc_j times the activation scales xd[j] (dsx) and mins dmin·m_j, 8 lanes at once: \
     * the 6-bit fields regrouped into 8 scale bytes and 8 min bytes (the layout of llmk_q4k_scale_min), converted \
     * and multiplied lane by lane — the baseline's products. */ \
    TARGET static inline __m256 llmk_q4k_scales_##SUFFIX(const uint8_t *sb, const float *xd, float dsx[8]) { \
        uint32_t u[3]; \
        memcpy(u, sb + 4, 12); \
        uint32_t slo = u[0] & 0x3f3f3f3fu, shi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4); \
        uint32_t mlo = u[1] & 0x3f3f3f3fu, mhi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4); \
        __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)shi, (int)slo))); \
        __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)mhi, (int)mlo))); \
        __m256 dsc = _mm256_mul_ps(_mm256_set1_ps(LLMK_BLOCK_SCALE(sb)), sc); \
        _mm256_storeu_ps(dsx, _mm256_mul_ps(dsc, _mm256_loadu_ps(xd))); \
        return _mm256_mul_ps(_mm256_set1_ps(LLMK_BLOCK_SCALE(sb + 2)), mn); \
    } \
    TARGET static float llmk_dot_q4_k_##SUFFIX(const uint8_t *w, const llmk_q8_act *x, const float *xsum, const float *xd, \
                                               ptrdiff_t nb) { \
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, accm = _mm256_setzero_ps(); \
        const __m256i low = _mm256_set1_epi8(0x0F); \
        float dsx[8]; \
        for (ptrdiff_t s = 0; s < nb / 8; s++) { \
            const uint8_t *sb = w + 144 * s; \
            const llmk_q8_act *xb = x + 8 * s; \
            _mm_prefetch((const char *)(sb + LLMK_Q4_PREFETCH), _MM_HINT_T0); \
            __m256 dm = llmk_q4k_scales_##SUFFIX(sb, xd + 8 * s, dsx); \
            for (int p = 0; p < 4; p++) { \
                __m256i packed = _mm256_loadu_si256((const __m256i *)(sb + 16 + 32 * p)); \
                __m256i q0 = _mm256_and_si256(packed, low), q1 = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low); \
                __m256i x0 = _mm256_loadu_si256((const __m256i *)xb[2 * p].qs), x1 = _mm256_loadu_si256((const __m256i *)xb[2 * p + 1].qs); \
                acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(_mm256_broadcast_ss(dsx + 2 * p), _mm256_cvtepi32_ps(llmk_uquads_##SUFFIX(q0, x0)))); \
                acc[1] = _mm256_add_ps(acc[1], _mm256_mul_ps(_mm256_broadcast_ss(dsx + 2 * p + 1), _mm256_cvtepi32_ps(llmk_uquads_##SUFFIX(q1, x1)))); \
            } \
            accm = _mm256_add_ps(accm, _mm256_mul_ps(dm, _mm256_loadu_ps(xsum + 8 * s))); \
        } \
        float lanes[8], mins[8]; \
        _mm256_storeu_ps(lanes, _mm256_add_ps(acc[0], acc[1])); \
        _mm256_storeu_ps(mins, accm); \
        return llmk_hsum8(lanes) - llmk_hsum8(mins); \
    } \
    TARGET static int32_t llmk_dot_int8_##SUFFIX(const int8_t *w, const int8_t *x, ptrdiff_t k) { \
        __m256i acc = _mm256_setzero_si256(); \
        ptrdiff_t j = 0; \
        for (; j + 32 <= k; j += 32) \
            acc = _mm256_add_epi32(acc, llmk_quads_##SUFFIX(_mm256_loadu_si256((const __m256i *)(w + j)), \
                                                            _mm256_loadu_si256((const __m256i *)(x + j)))); \
        int32_t lanes[8], s = 0; \
        _mm256_storeu_si256((__m256i *)lanes, acc); \
        for (int l = 0; l < 8; l++) s += lanes[l]; \
        for (; j < k; j++) s += (int32_t)w[j] * (int32_t)x[j]; \
        return s; \
    }

LLMK_QUANT_SIMD(LLMK_AVX2, avx2)
LLMK_QUANT_SIMD(LLMK_AVX512, avx512)
#endif

typedef float (*llmk_block_dot)(const uint8_t *, const llmk_q8_act *, ptrdiff_t);
typedef int32_t (*llmk_int8_dot)(const int8_t *, const int8_t *, ptrdiff_t);
typedef void (*llmk_block_dot4)(const uint8_t *, ptrdiff_t, const llmk_q8_act *, ptrdiff_t, float[4]);
typedef float (*llmk_q4k_dot)(const uint8_t *, const llmk_q8_act *, const float *, const float *, ptrdiff_t);

static llmk_block_dot llmk_pick_block_dot(int format) {
#ifdef LLMK_X86
    if (llmk_kernel_level >= LLMK_LEVEL_AVX512) return format == LLMK_QFMT_Q4_0 ? llmk_dot_q4_0_avx512 : llmk_dot_q8_0_avx512;
    if (llmk_kernel_level == LLMK_LEVEL_AVX2) return format == LLMK_QFMT_Q4_0 ? llmk_dot_q4_0_avx2 : llmk_dot_q8_0_avx2;
#endif
    return format == LLMK_QFMT_Q4_0 ? llmk_dot_q4_0_base : llmk_dot_q8_0_base;
}

/* The 4-row Q4_0 product where a SIMD level runs (the baseline computes the same values one row at a time). */
static llmk_block_dot4 llmk_pick_q4_0_dot4(void) {
#ifdef LLMK_X86
    if (llmk_kernel_level >= LLMK_LEVEL_AVX512) return llmk_dot4_q4_0_avx512;
    if (llmk_kernel_level == LLMK_LEVEL_AVX2) return llmk_dot4_q4_0_avx2;
#endif
    return NULL;
}

static llmk_q4k_dot llmk_pick_q4k_dot(void) {
#ifdef LLMK_X86
    if (llmk_kernel_level >= LLMK_LEVEL_AVX512) return llmk_dot_q4_k_avx512;
    if (llmk_kernel_level == LLMK_LEVEL_AVX2) return llmk_dot_q4_k_avx2;
#endif
    return llmk_dot_q4_k_base;
}

static llmk_int8_dot llmk_pick_int8_dot(void) {
#ifdef LLMK_X86
    if (llmk_kernel_level >= LLMK_LEVEL_AVX512) return llmk_dot_int8_avx512;
    if (llmk_kernel_level == LLMK_LEVEL_AVX2) return llmk_dot_int8_avx2;
#endif
    return llmk_dot_int8_base;
}

static void llmk_q4k_rows(const uint8_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const llmk_q8_act *x, ptrdiff_t m,
                          const float *bias, float *y, ptrdiff_t ldy) {
    llmk_q4k_dot dot = llmk_pick_q4k_dot();
    ptrdiff_t nb = k / 32, rowBytes = k / 256 * 144;
    float *xsum = malloc(sizeof(float) * (size_t)(m * nb > 0 ? 2 * m * nb : 1)), *xd = xsum + m * nb;
    if (!xsum) abort();
    for (ptrdiff_t r = 0; r < m; r++) llmk_q4k_xsums(x + r * nb, xsum + r * nb, xd + r * nb, nb);
    for (ptrdiff_t n = n0; n < n1; n++) {
        const uint8_t *row = w + n * rowBytes;
        float b = bias ? bias[n] : 0;
        for (ptrdiff_t r = 0; r < m; r++) y[r * ldy + n] = dot(row, x + r * nb, xsum + r * nb, xd + r * nb, nb) + b;
    }
    free(xsum);
}

void llmk_qblock_rows(int format, const uint8_t *w, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const llmk_q8_act *x,
                      ptrdiff_t m, const float *bias, float *y, ptrdiff_t ldy) {
    if (format == LLMK_QFMT_Q4_K) {
        llmk_q4k_rows(w, n0, n1, k, x, m, bias, y, ldy);
        return;
    }
    llmk_block_dot dot = llmk_pick_block_dot(format);
    ptrdiff_t nb = k / 32, rowBytes = nb * (format == LLMK_QFMT_Q4_0 ? 18 : 34);
    llmk_block_dot4 dot4 = format == LLMK_QFMT_Q4_0 ? llmk_pick_q4_0_dot4() : NULL;
    if (dot4)
        for (; n0 + 4 <= n1; n0 += 4) {
            float b[4] = {0, 0, 0, 0}, d[4];
            if (bias) memcpy(b, bias + n0, sizeof b);
            for (ptrdiff_t r = 0; r < m; r++) {
                dot4(w + n0 * rowBytes, rowBytes, x + r * nb, nb, d);
                for (int i = 0; i < 4; i++) y[r * ldy + n0 + i] = d[i] + b[i];
            }
        }
    for (ptrdiff_t n = n0; n < n1; n++) {
        const uint8_t *row = w + n * rowBytes;
        float b = bias ? bias[n] : 0;
        for (ptrdiff_t r = 0; r < m; r++) y[r * ldy + n] = dot(row, x + r * nb, nb) + b;
    }
}

void llmk_qint8_rows(const int8_t *w, const float *wscale, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t k, const int8_t *x,
                     const float *xscale, ptrdiff_t m, const float *bias, float *y, ptrdiff_t ldy) {
    llmk_int8_dot dot = llmk_pick_int8_dot();
    for (ptrdiff_t n = n0; n < n1; n++) {
        const int8_t *row = w + n * k;
        float b = bias ? bias[n] : 0;
        for (ptrdiff_t r = 0; r < m; r++) {
            float d = wscale[n] * xscale[r];
            y[r * ldy + n] = d * (float)dot(row, x + r * k, k) + b;
        }
    }
}

/* CKernels: ggml's k-quant Q4_K, bit-exact with llama.cpp's quantize_row_q4_K_ref (no importance matrix) and
 * dequantize_row_q4_K (LLMCore's BlockQuant.q4_k calls these; the product kernel is in quant.c).
 * A super-block of 256 values (144 bytes): d (f16) | dmin (f16) | scales[12] | qs[128]; sub-block j (32 values)
 * has value = d·sc_j·q − dmin·m_j. scales packing (get_scale_min_k4): for j < 4, scales[j] / scales[j+4] hold sc_j /
 * m_j in their low 6 bits; for j ≥ 4, scales[j+4] holds sc_j's low 4 bits (low nibble) and m_j's (high nibble), the
 * top 2 bits of scales[j−4] / scales[j] their high 2 bits. qs: each 64 values share 32 bytes, the first 32 in the
 * low nibbles, the next 32 in the high ones.
 * The quantizer: per sub-block, make_qkx2_quants(32, 15, weights av_x + |x| with av_x the sub-block's rms, rmin −1,
 * rdelta 0.1, nstep 20): a min/max fit, then 21 trial inverse scales each refit by weighted least squares, keeping
 * the lowest weighted squared error; the 8 scales and mins are then quantized to 6 bits against their maxima
 * (d = max_scale/63, dmin = max_min/63 stored as f16) and the values requantized with the stored scales (a sub-block
 * whose stored scale is 0 keeps make_qkx2_quants' levels). Float operations in ggml's C order, never contracted;
 * rounding is ggml's nearest_int (1.5·2²³ added, the low mantissa bits: nearest even, defined for any input). */
#include "llmk_kernels.h"
#include "q4k.h"
#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

static inline int llmk_nearest_int(float v) {
    float t = v + 12582912.f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static inline int llmk_clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* make_qkx2_quants on 32 values with nmax 15: the scale; L gets the levels, *the_min the negated offset. */
static float llmk_make_qkx2(const float *x, const float *weights, uint8_t *L, float *the_min) {
    const int n = 32, nmax = 15, nstep = 20;
    const float rmin = -1.f, rdelta = 0.1f;
    uint8_t laux[32];
    float min = x[0], max = x[0], sum_w = weights[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min), scale = 1 / iscale, best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = llmk_clamp_int(llmk_nearest_int(iscale * (x[i] - min)), 0, nmax);
        L[i] = (uint8_t)l;
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = llmk_clamp_int(llmk_nearest_int(iscale * (x[i] - min)), 0, nmax);
            laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float mad = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * laux[i] + this_min - x[i];
                diff = diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < best_error) {
                memcpy(L, laux, (size_t)n);
                best_error = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static inline void llmk_store_half(uint8_t *dst, float v) {
    _Float16 h = (_Float16)v;   /* round to nearest even, as GGML_FP32_TO_FP16 */
    memcpy(dst, &h, 2);
}

static inline float llmk_load_half(const uint8_t *src) {
    _Float16 h;
    memcpy(&h, src, 2);
    return (float)h;
}

void llmk_quantize_q4_k(const float *x, uint8_t *y, ptrdiff_t k) {
    uint8_t L[256];
    float weights[32], mins[8], scales[8];
    for (ptrdiff_t b = 0; b < k / 256; b++, x += 256, y += 144) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
            float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
            scales[j] = llmk_make_qkx2(x + 32 * j, weights, L + 32 * j, &mins[j]);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f, inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        uint8_t *sc = y + 4;
        memset(sc, 0, 12);
        for (int j = 0; j < 8; ++j) {
            uint8_t ls = (uint8_t)llmk_nearest_int(inv_scale * scales[j]), lm = (uint8_t)llmk_nearest_int(inv_min * mins[j]);
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
            if (j < 4) {
                sc[j] = ls;
                sc[j + 4] = lm;
            } else {
                sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
                sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
                sc[j] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        llmk_store_half(y, max_scale / 63.f);
        llmk_store_half(y + 2, max_min / 63.f);
        for (int j = 0; j < 8; ++j) {
            int s, m;
            llmk_q4k_scale_min(sc, j, &s, &m);
            const float d = llmk_load_half(y) * s;
            if (!d) continue;
            const float dm = llmk_load_half(y + 2) * m;
            for (int i = 0; i < 32; ++i) L[32 * j + i] = (uint8_t)llmk_clamp_int(llmk_nearest_int((x[32 * j + i] + dm) / d), 0, 15);
        }
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; ++l) y[16 + 32 * g + l] = (uint8_t)(L[64 * g + l] | (L[64 * g + 32 + l] << 4));
    }
}

void llmk_dequantize_q4_k(const uint8_t *q, float *y, ptrdiff_t k) {
    for (ptrdiff_t b = 0; b < k / 256; b++, q += 144) {
        const float d = llmk_load_half(q), min = llmk_load_half(q + 2);
        for (int j = 0; j < 8; ++j) {
            int s, m;
            llmk_q4k_scale_min(q + 4, j, &s, &m);
            const float dj = d * s, mj = min * m;
            const uint8_t *qs = q + 16 + 32 * (j / 2);
            int shift = 4 * (j & 1);
            for (int l = 0; l < 32; ++l) *y++ = dj * ((qs[l] >> shift) & 0xF) - mj;
        }
    }
}

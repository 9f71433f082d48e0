/* CKernels internal: Q4_K's packed sub-block scales and mins (ggml's get_scale_min_k4), shared by the quantizer
 * (quant_k.c) and the product kernel (quant.c). s: the super-block's 12 scale bytes; j: the sub-block (0..7). */
#ifndef LLMK_Q4K_H
#define LLMK_Q4K_H
#include <stdint.h>

static inline void llmk_q4k_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

#endif

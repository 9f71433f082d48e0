/* scripts/bench/quant_kernels.c: single-thread micro-benchmark of CKernels' quantized matrix-vector products
 * (llmk_qblock_rows for q8_0 / q4_0 / q4_k, batch 1 = one decoding step) on gpt2-sized shapes: the block
 * layers' (768 -> 2304, 768 -> 768, 768 -> 3072, 3072 -> 768) and the LM head (768 -> 50257). Random weights
 * (the speed does not depend on the values). Prints the median time of --reps rounds per format and GB/s of
 * weight bytes streamed, plus a checksum of the outputs (to compare two builds of quant.c).
 * Build (compiles the kernel file in directly; QUANT_C picks another copy, e.g. an older version to compare):
 *   clang -O2 -I Sources/CKernels/include -I Sources/CKernels -DQUANT_C='"quant.c"' \
 *         scripts/bench/quant_kernels.c -o /tmp/qk -lm && /tmp/qk [reps] [level: 0 baseline, 1 avx2] */
#ifndef QUANT_C
#define QUANT_C "quant.c"
#endif
#include QUANT_C
#include <stdio.h>
#include <time.h>

int llmk_kernel_level = 1;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 9;
    if (argc > 2) llmk_kernel_level = atoi(argv[2]);
    const ptrdiff_t shapes[][2] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};   /* (n, k), each ×12 layers */
    const int formats[] = {LLMK_QFMT_Q8_0, LLMK_QFMT_Q4_0, LLMK_QFMT_Q4_K};
    const char *names[] = {"q8_0", "q4_0", "q4_k"};
    srand(1);
    float x[3072], *y = malloc(sizeof(float) * 50257);
    for (int i = 0; i < 3072; i++) x[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
    llmk_q8_act act[96];
    for (int f = 0; f < 3; f++) {
        int fmt = formats[f];
        /* one weight buffer per layer shape and per layer (12 layers) + the head: the decode working set */
        size_t total = 0;
        uint8_t *bufs[49];
        ptrdiff_t ns[49], ks[49];
        for (int l = 0; l < 49; l++) {
            ptrdiff_t n = l == 48 ? 50257 : shapes[l % 4][0], k = l == 48 ? 768 : shapes[l % 4][1];
            size_t bytes = (size_t)n * (size_t)(fmt == LLMK_QFMT_Q4_K ? k / 256 * 144 : k / 32 * (fmt == LLMK_QFMT_Q4_0 ? 18 : 34));
            bufs[l] = malloc(bytes);
            for (size_t i = 0; i < bytes; i++) { uint8_t v = (uint8_t)rand(); bufs[l][i] = v == 0x80 ? 0x81 : v; }   /* int8: ±127 */
            /* finite block scales: f16 exponents kept small */
            size_t blk = fmt == LLMK_QFMT_Q4_K ? 144 : fmt == LLMK_QFMT_Q4_0 ? 18 : 34;
            for (size_t i = 0; i < bytes; i += blk) { bufs[l][i + 1] = 0x20 | (bufs[l][i + 1] & 0x83); if (blk == 144) bufs[l][i + 3] = 0x20; }
            ns[l] = n, ks[l] = k, total += bytes;
        }
        double times[64], check = 0;
        for (int r = 0; r < reps && r < 64; r++) {
            double t0 = now();
            for (int l = 0; l < 49; l++) {
                llmk_quant_act_q8(x, act, ks[l]);
                llmk_qblock_rows(fmt, bufs[l], 0, ns[l], ks[l], act, 1, NULL, y, ns[l]);
                if (r == 0) for (ptrdiff_t i = 0; i < ns[l]; i++) check += y[i] * (double)(i % 7 + 1);
            }
            times[r] = now() - t0;
        }
        qsort(times, (size_t)(reps < 64 ? reps : 64), sizeof(double), cmp);
        double med = times[(reps < 64 ? reps : 64) / 2];
        printf("%s: %.2f ms per token (%.1f tok/s kernel-only), %.1f GB/s, %.1f MB, checksum %.9g\n", names[f], med * 1e3, 1 / med,
               total / med / 1e9, total / 1e6, check);
        for (int l = 0; l < 49; l++) free(bufs[l]);
    }
    free(y);
    return 0;
}

/* scripts/bench/quant_kernels.c: single-thread micro-benchmark of CKernels' quantized matrix-vector products
 * (llmk_qblock_rows for q8_0 / q4_0 / q4_k, batch 1 = one decoding step) on gpt2-sized shapes: 12 layers of
 * (768 -> 2304, 768 -> 768, 768 -> 3072, 3072 -> 768) and the LM head (768 -> 50257), each with its own weights
 * (the decode working set; random values: the speed does not depend on them). Per format it prints the median
 * thread CPU time of one pass over all 49 products (activation quantization included), the weight GB/s and a
 * checksum of the outputs. With -DCOMPARE it also links a second copy of quant.c whose public functions carry the
 * suffix _old (e.g. the committed version) and alternates the two rep by rep (the machine is shared: only ratios
 * of interleaved runs mean much), printing old/new.
 * Build and run (from the repository root):
 *   I="-O2 -I Sources/CKernels/include -I Sources/CKernels"
 *   clang $I -c Sources/CKernels/quant.c -o /tmp/q_new.o
 *   git show 24cf91d:Sources/CKernels/quant.c > /tmp/quant_old.c   # e.g. the version before the 4-row Q4_0 pass
 *   clang $I -c /tmp/quant_old.c -o /tmp/q_old.o -Dllmk_qblock_rows=llmk_qblock_rows_old \
 *         -Dllmk_quant_act_q8=llmk_quant_act_q8_old -Dllmk_quant_act_int8=llmk_quant_act_int8_old \
 *         -Dllmk_qint8_rows=llmk_qint8_rows_old -Dllmk_half_bits_to_float=llmk_half_bits_to_float_old
 *   clang $I -DCOMPARE scripts/bench/quant_kernels.c /tmp/q_new.o /tmp/q_old.o -o /tmp/qk -lm
 *   /tmp/qk [reps=15] [level: 0 baseline, 1 avx2]
 * (without -DCOMPARE and q_old.o: the current version alone). */
#include "llmk_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int llmk_kernel_level = 1;

typedef void (*rows_fn)(int, const uint8_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, const llmk_q8_act *, ptrdiff_t, const float *, float *,
                        ptrdiff_t);
typedef void (*act_fn)(const float *, llmk_q8_act *, ptrdiff_t);
#ifdef COMPARE
void llmk_qblock_rows_old(int, const uint8_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, const llmk_q8_act *, ptrdiff_t, const float *, float *, ptrdiff_t);
void llmk_quant_act_q8_old(const float *, llmk_q8_act *, ptrdiff_t);
static const rows_fn rows[] = {llmk_qblock_rows, llmk_qblock_rows_old};
static const act_fn acts[] = {llmk_quant_act_q8, llmk_quant_act_q8_old};
#define NVAR 2
#else
static const rows_fn rows[] = {llmk_qblock_rows};
static const act_fn acts[] = {llmk_quant_act_q8};
#define NVAR 1
#endif

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 15;
    if (reps < 1 || reps > 200) reps = 15;
    if (argc > 2) llmk_kernel_level = atoi(argv[2]);
    const ptrdiff_t shapes[][2] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};   /* (n, k), each ×12 layers */
    const int formats[] = {LLMK_QFMT_Q8_0, LLMK_QFMT_Q4_0, LLMK_QFMT_Q4_K};
    const char *names[] = {"q8_0", "q4_0", "q4_k"};
    srand(1);
    static float x[3072], y[50257];
    static llmk_q8_act act[96];
    for (int i = 0; i < 3072; i++) x[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
    for (int f = 0; f < 3; f++) {
        int fmt = formats[f];
        size_t blk = fmt == LLMK_QFMT_Q4_K ? 144 : fmt == LLMK_QFMT_Q4_0 ? 18 : 34, per = fmt == LLMK_QFMT_Q4_K ? 256 : 32, total = 0;
        uint8_t *bufs[49];
        ptrdiff_t ns[49], ks[49];
        for (int l = 0; l < 49; l++) {
            ptrdiff_t n = l == 48 ? 50257 : shapes[l % 4][0], k = l == 48 ? 768 : shapes[l % 4][1];
            size_t bytes = (size_t)n * (size_t)k / per * blk;
            bufs[l] = malloc(bytes);
            for (size_t i = 0; i < bytes; i++) {
                uint8_t v = (uint8_t)rand();
                bufs[l][i] = v == 0x80 ? 0x81 : v;   /* Q8_0 values stay within ±127 */
            }
            for (size_t i = 0; i < bytes; i += blk) {   /* block scales: small finite halves */
                bufs[l][i + 1] = (uint8_t)(0x20 | (bufs[l][i + 1] & 0x83));
                if (blk == 144) bufs[l][i + 3] = 0x20;
            }
            ns[l] = n, ks[l] = k, total += bytes;
        }
        double times[NVAR][200], check[NVAR] = {0};
        for (int r = 0; r < reps * NVAR; r++) {
            int v = r % NVAR;
            double t0 = cpu_now();
            for (int l = 0; l < 49; l++) {
                acts[v](x, act, ks[l]);
                rows[v](fmt, bufs[l], 0, ns[l], ks[l], act, 1, NULL, y, ns[l]);
                if (r < NVAR)
                    for (ptrdiff_t i = 0; i < ns[l]; i++) check[v] += y[i] * (double)(i % 7 + 1);
            }
            times[v][r / NVAR] = cpu_now() - t0;
        }
        double med[NVAR];
        for (int v = 0; v < NVAR; v++) {
            qsort(times[v], (size_t)reps, sizeof(double), cmp);
            med[v] = times[v][reps / 2];
            printf("%s%s: %.2f ms per token (%.1f tok/s kernels only), %.1f GB/s of %.1f MB, checksum %.9g\n", names[f], v ? " (old)" : "",
                   med[v] * 1e3, 1 / med[v], (double)total / med[v] / 1e9, (double)total / 1e6, check[v]);
        }
        if (NVAR > 1) printf("%s: old/new %.2fx\n", names[f], med[NVAR - 1] / med[0]);
        for (int l = 0; l < 49; l++) free(bufs[l]);
    }
    return 0;
}

/* scripts/bench/gemm_probe.c: GFLOP/s of row-major C = A·Bᵀ (A: M×K, B: N×K, the layout of a Linear layer's
 * forward) on the GEMM shapes of issue 12, through OpenBLAS's cblas_sgemm and, when built with -DWITH_DNNL,
 * oneDNN's plain dnnl_sgemm (no packing, no post-ops). Best of 5 timed batches of ≥ 50 ms each, after a
 * warm-up call. Threads: argv[1] (default 2) for both libraries. Prints one line per shape:
 *   shape M×N×K, OpenBLAS GFLOP/s[, oneDNN GFLOP/s]
 * and a first line naming OpenBLAS's core (set OPENBLAS_CORETYPE to force one).
 * Build: cc -O2 gemm_probe.c -lopenblas [-DWITH_DNNL -ldnnl -fopenmp]   (scripts/bench/blas_cores.sh does it) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef WITH_DNNL
#include <dnnl.h>
#include <omp.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef void (*gemm_fn)(int m, int n, int k, const float *a, const float *b, float *c);

static void blas(int m, int n, int k, const float *a, const float *b, float *c) {
    if (m == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, b, k, a, 1, 0.0f, c, 1);   /* as the engine does */
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
}

#ifdef WITH_DNNL
static void dnnl(int m, int n, int k, const float *a, const float *b, float *c) {
    dnnl_sgemm('N', 'T', m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
}
#endif

static double gflops(gemm_fn f, int m, int n, int k, const float *a, const float *b, float *c) {
    f(m, n, k, a, b, c);   /* warm-up: thread start, first-touch, JIT */
    double flop = 2.0 * m * n * k, best = 0;
    for (int rep = 0; rep < 5; rep++) {
        int calls = 0;
        double t0 = now(), t;
        do { f(m, n, k, a, b, c); calls++; t = now() - t0; } while (t < 0.05);
        double g = flop * calls / t / 1e9;
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    openblas_set_num_threads(threads);
#ifdef WITH_DNNL
    omp_set_num_threads(threads);
#endif
    static const int shapes[][3] = {{1024, 1024, 1024}, {4096, 128, 128}, {4096, 384, 128}, {4096, 1536, 384},
                                    {256, 2304, 768}, {1, 2304, 768}, {1, 50257, 768}};
    printf("core %s, %d threads\n", openblas_get_corename(), threads);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k),
              *c = malloc(sizeof(float) * (size_t)m * n);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < (size_t)n * k; i++) b[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
        printf("%dx%dx%d, %.1f", m, n, k, gflops(blas, m, n, k, a, b, c));
#ifdef WITH_DNNL
        printf(", %.1f", gflops(dnnl, m, n, k, a, b, c));
#endif
        printf("\n");
        free(a); free(b); free(c);
    }
    return 0;
}

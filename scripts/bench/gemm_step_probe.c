/* scripts/bench/gemm_step_probe.c: the GEMMs of one GPT training step, per library: OpenBLAS (cblas_sgemm),
 * oneDNN's matmul primitive (created once per shape, as the engine's CDNNLShim caches it) and, when built with
 * them, BLIS (bli_sgemm, typed API with strides) and libxsmm (libxsmm_sgemm: JIT kernels for small products,
 * its own fallback to the linked BLAS above its size threshold).
 * Linear products, per Linear (N out, K in) of a config with M = batch·seq rows, and the tied head (N = vocab,
 * no bias), on THREADS threads:
 *   forward  NT  y (M,N) = x (M,K) · Wᵀ + bias  (OpenBLAS/BLIS/libxsmm: bias rows prefilled, beta 1; oneDNN: fused)
 *   dx       NN  (M,K) = g (M,N) · W (N,K)       beta 0
 *   dW       TN  (N,K) = gᵀ · x                  beta 0 (a reduction over the M rows)
 * Attention products of one (batch, head) pair on ONE thread (the engine splits pairs over its workers), for
 * the config's head size D and a 64-row query block against S = 128 keys: q·kᵀ (64×S×D, NT), P·v (64×D×S, NN),
 * dP = g·vᵀ (64×S×D, NT), dq = dS·k (64×D×S, NN), dk = dSᵀ·q (S×D×64, TN).
 * Time: best of 5 calls after a warm-up, best over ROUNDS rounds (libraries alternate within a round).
 * Usage: gemm_step_probe THREADS M DIM VOCAB LAYERS HEADDIM [ROUNDS]
 *   tiny: 2 4096 128 512 4 32 · char: 2 4096 384 65 6 64 · gpt2: 2 256 768 50257 12 64
 * Build: cc -O2 -fopenmp gemm_step_probe.c -lopenblas -ldnnl
 *        [-DWITH_BLIS -I/usr/include/x86_64-linux-gnu/blis-openmp -L/usr/lib/x86_64-linux-gnu/blis-openmp -lblis]
 *        [-DWITH_XSMM -lxsmm -lblas]      (Debian: libdnnl-dev, libblis-openmp-dev, libxsmm-dev)
 * Run with OPENBLAS_THREAD_TIMEOUT=16 as the engine does. */
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef WITH_BLIS
#include <blis.h>
#endif
#ifdef WITH_XSMM
#include <libxsmm.h>
#endif

/* OpenBLAS's own calls (declared here: with BLIS's include folder first, <cblas.h> is BLIS's) */
void openblas_set_num_threads(int);
char *openblas_get_corename(void);

typedef struct { int ta, tb, m, n, k, bias; float beta; } Gemm;   /* c (m,n) = op(a)·op(b) [+ bias] + beta·c */
typedef struct { dnnl_primitive_t prim; dnnl_memory_t a, b, c, bias; } DnnlPlan;
enum { LIB_BLAS, LIB_DNNL, LIB_BLIS, LIB_XSMM, LIBS };
static const char *lib_names[LIBS] = {"OpenBLAS", "oneDNN", "BLIS", "libxsmm"};
static int lib_built[LIBS] = {1, 1,
#ifdef WITH_BLIS
                              1,
#else
                              0,
#endif
#ifdef WITH_XSMM
                              1
#else
                              0
#endif
};

static float bias_values[65536];
static dnnl_engine_t engine;
static dnnl_stream_t stream;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CHECK(x) do { if ((x) != dnnl_success) { fprintf(stderr, "%s failed\n", #x); exit(1); } } while (0)

static DnnlPlan dnnl_plan(Gemm g) {
    DnnlPlan p = {0};
    dnnl_memory_desc_t a, b, c, bias;
    dnnl_dims_t ad = {g.m, g.k}, bd = {g.k, g.n}, cd = {g.m, g.n}, biasd = {1, g.n};
    dnnl_dims_t as = {g.ta ? 1 : g.k, g.ta ? g.m : 1}, bs = {g.tb ? 1 : g.n, g.tb ? g.k : 1}, cs = {g.n, 1}, biass = {g.n, 1};
    CHECK(dnnl_memory_desc_init_by_strides(&a, 2, ad, dnnl_f32, as));
    CHECK(dnnl_memory_desc_init_by_strides(&b, 2, bd, dnnl_f32, bs));
    CHECK(dnnl_memory_desc_init_by_strides(&c, 2, cd, dnnl_f32, cs));
    CHECK(dnnl_memory_desc_init_by_strides(&bias, 2, biasd, dnnl_f32, biass));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &a, &b, g.bias ? &bias : NULL, &c));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    if (g.beta != 0 && !g.bias) {
        dnnl_post_ops_t po;
        CHECK(dnnl_post_ops_create(&po));
        CHECK(dnnl_post_ops_append_sum(po, g.beta));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL));
    CHECK(dnnl_primitive_create(&p.prim, pd));
    CHECK(dnnl_memory_create(&p.a, &a, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&p.b, &b, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&p.c, &c, engine, DNNL_MEMORY_NONE));
    if (g.bias) CHECK(dnnl_memory_create(&p.bias, &bias, engine, bias_values));
    return p;
}

static void prefill_bias(Gemm g, float *c) {
    for (int r = 0; r < g.m; r++) memcpy(c + (size_t)r * g.n, bias_values, sizeof(float) * (size_t)g.n);
}

static void run(int lib, Gemm g, DnnlPlan *plan, const float *a, const float *b, float *c) {
    int lda = g.ta ? g.m : g.k, ldb = g.tb ? g.k : g.n;
    float beta = g.bias ? 1.0f : g.beta, one = 1.0f;
    if (lib != LIB_DNNL && g.bias) prefill_bias(g, c);
    switch (lib) {
    case LIB_BLAS:
        cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, g.m, g.n, g.k,
                    1.0f, a, lda, b, ldb, beta, c, g.n);
        break;
    case LIB_DNNL: {
        dnnl_memory_set_data_handle(plan->a, (void *)a);
        dnnl_memory_set_data_handle(plan->b, (void *)b);
        dnnl_memory_set_data_handle(plan->c, c);
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, plan->a}, {DNNL_ARG_WEIGHTS, plan->b}, {DNNL_ARG_DST, plan->c}, {DNNL_ARG_BIAS, plan->bias}};
        dnnl_primitive_execute(plan->prim, stream, g.bias ? 4 : 3, args);
        break;
    }
#ifdef WITH_BLIS
    case LIB_BLIS:   /* op(a) (m,k) and op(b) (k,n) described by row/column strides */
        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, g.m, g.n, g.k, &one, (float *)a, g.ta ? 1 : lda, g.ta ? lda : 1,
                  (float *)b, g.tb ? 1 : ldb, g.tb ? ldb : 1, &beta, c, g.n, 1);
        break;
#endif
#ifdef WITH_XSMM
    case LIB_XSMM: { /* column-major: cᵀ (n,m) = op(b)ᵀ · op(a)ᵀ */
        char tb = g.tb ? 'T' : 'N', ta = g.ta ? 'T' : 'N';
        libxsmm_blasint m = g.n, n = g.m, k = g.k, lb = ldb, la = lda, lc = g.n;
        libxsmm_sgemm(&tb, &ta, &m, &n, &k, &one, b, &lb, a, &la, &beta, c, &lc);
        break;
    }
#endif
    default:
        (void)one;
        break;
    }
}

/* Times every built library on gemms[0..count), prints a line per product and the weighted sums. */
static void measure(const char *title, Gemm *gemms, int *times, int count, int rounds, const float *a, const float *b, float *c) {
    DnnlPlan plans[32];
    double best[32][LIBS];
    for (int i = 0; i < count; i++) {
        plans[i] = dnnl_plan(gemms[i]);
        for (int l = 0; l < LIBS; l++) best[i][l] = 1e30;
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < count; i++)
            for (int l = 0; l < LIBS; l++) {
                if (!lib_built[l]) continue;
                run(l, gemms[i], &plans[i], a, b, c);   /* warm-up */
                for (int rep = 0; rep < 5; rep++) {
                    double t0 = now();
                    run(l, gemms[i], &plans[i], a, b, c);
                    double t = now() - t0;
                    if (t < best[i][l]) best[i][l] = t;
                }
            }
    printf("%s\n", title);
    double sum[LIBS] = {0};
    for (int i = 0; i < count; i++) {
        Gemm g = gemms[i];
        printf("  %c%c %5d x %5d x %5d%s x%-2d", g.ta ? 'T' : 'N', g.tb ? 'T' : 'N', g.m, g.n, g.k, g.bias ? " +bias" : g.beta != 0 ? " beta1" : "      ", times[i]);
        for (int l = 0; l < LIBS; l++) {
            if (!lib_built[l]) continue;
            printf(" | %s %.3f ms (%.0f GF/s)", lib_names[l], best[i][l] * 1e3, 2.0 * g.m * g.n * g.k / best[i][l] / 1e9);
            sum[l] += best[i][l] * times[i];
        }
        printf("\n");
    }
    printf("  sum:");
    for (int l = 0; l < LIBS; l++) if (lib_built[l]) printf(" %s %.2f ms", lib_names[l], sum[l] * 1e3);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: %s THREADS M DIM VOCAB LAYERS HEADDIM [ROUNDS]\n", argv[0]); return 2; }
    int threads = atoi(argv[1]), M = atoi(argv[2]), D = atoi(argv[3]), V = atoi(argv[4]), L = atoi(argv[5]), HD = atoi(argv[6]);
    int rounds = argc > 7 ? atoi(argv[7]) : 3;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    size_t big = (size_t)(V > 4 * D ? V : 4 * D) * (size_t)(M > 4 * D ? M : 4 * D);
    float *a = malloc(sizeof(float) * big), *b = malloc(sizeof(float) * big), *c = malloc(sizeof(float) * big);
    for (size_t i = 0; i < big; i++) { a[i] = (float)(rand() % 100) * 0.01f; b[i] = (float)(rand() % 100) * 0.01f; }

    Gemm lin[15];
    int lin_times[15], n = 0, shapes[5][2] = {{3 * D, D}, {D, D}, {4 * D, D}, {D, 4 * D}, {V, D}};
    for (int i = 0; i < 5; i++) {
        int N = shapes[i][0], K = shapes[i][1], t = i == 4 ? 1 : L;
        lin[n] = (Gemm){0, 1, M, N, K, i != 4, 0}; lin_times[n++] = t;
        lin[n] = (Gemm){0, 0, M, K, N, 0, 0}; lin_times[n++] = t;
        lin[n] = (Gemm){1, 0, N, K, M, 0, 0}; lin_times[n++] = t;
    }
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
#ifdef WITH_BLIS
    bli_thread_set_num_threads(threads);
#endif
    printf("OpenBLAS core %s; %d threads for the Linear products\n", openblas_get_corename(), threads);
    measure("Linear products of one step", lin, lin_times, n, rounds, a, b, c);

    int S = 128, B = 64;
    Gemm att[5] = {{0, 1, B, S, HD, 0, 0}, {0, 0, B, HD, S, 0, 0}, {0, 1, B, S, HD, 0, 0}, {0, 0, B, HD, S, 0, 0}, {1, 0, S, HD, B, 0, 1}};
    int att_times[5] = {1, 1, 1, 1, 1};
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
#ifdef WITH_BLIS
    bli_thread_set_num_threads(1);
#endif
    measure("Attention products of one (batch, head) pair and 64-row block, 1 thread", att, att_times, 5, rounds, a, b, c);
    return 0;
}

/* dnnl_shim.c: implementation of llms_dnnl.h. libdnnl.so.2 is opened on first use (RTLD_NOW | RTLD_LOCAL)
 * and its functions and OpenMP's thread-count setter (from its libgomp dependency) looked up by name; the
 * prototypes come from oneDNN 2.x's own header. Before loading, GOMP_SPINCOUNT is set (unless the user set
 * it or OMP_WAIT_POLICY) so that oneDNN's idle OpenMP workers spin about as long as OpenBLAS's (see
 * OPENBLAS_THREAD_TIMEOUT in BLASEnvironment.swift) instead of libgomp's default 300,000 iterations, which
 * would keep a core busy while the engine's own threads run the next kernel. LLMSCRIPT_NO_AVX512=1 /
 * LLMSCRIPT_NO_AVX2=1 also cap oneDNN's instruction set (DNNL_MAX_CPU_ISA, unless the user set it), so one
 * variable makes the whole process run as it would on a CPU without those instructions. */
#define _GNU_SOURCE
#include "llms_dnnl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#endif
#endif

#if defined(DNNL_VERSION_MAJOR) && DNNL_VERSION_MAJOR == 2

#define FN(name) static __typeof__(name) *p_##name
FN(dnnl_engine_create);
FN(dnnl_stream_create);
FN(dnnl_stream_wait);
FN(dnnl_memory_desc_init_by_strides);
FN(dnnl_memory_desc_get_size);
FN(dnnl_matmul_desc_init);
FN(dnnl_primitive_attr_create);
FN(dnnl_primitive_attr_destroy);
FN(dnnl_primitive_attr_set_post_ops);
FN(dnnl_primitive_attr_set_scratchpad_mode);
FN(dnnl_post_ops_create);
FN(dnnl_post_ops_destroy);
FN(dnnl_post_ops_append_sum);
FN(dnnl_primitive_desc_create);
FN(dnnl_primitive_desc_destroy);
FN(dnnl_primitive_desc_query_md);
FN(dnnl_primitive_create);
FN(dnnl_primitive_destroy);
FN(dnnl_primitive_execute);
FN(dnnl_memory_create);
FN(dnnl_memory_destroy);
FN(dnnl_version);
static void (*p_omp_set_num_threads)(int);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;
static char version[32], reason[256];
static dnnl_engine_t engine;

/* Idle-spin iterations of libgomp's workers (≈ tens of µs), unless the user chose a wait policy. */
#define LLMS_GOMP_SPINCOUNT "1000"

static void load(void) {
    if (!getenv("GOMP_SPINCOUNT") && !getenv("OMP_WAIT_POLICY")) setenv("GOMP_SPINCOUNT", LLMS_GOMP_SPINCOUNT, 0);
    /* the kernels' caps (LLMSCRIPT_NO_AVX2=1 / LLMSCRIPT_NO_AVX512=1, cpu.c) cap oneDNN's JIT too */
    const char *no2 = getenv("LLMSCRIPT_NO_AVX2"), *no512 = getenv("LLMSCRIPT_NO_AVX512");
    if (no2 && no2[0] == '1') setenv("DNNL_MAX_CPU_ISA", "SSE41", 0);
    else if (no512 && no512[0] == '1') setenv("DNNL_MAX_CPU_ISA", "AVX2", 0);
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(reason, sizeof reason, "libdnnl.so.2 not found (Debian: apt install libdnnl2): %s", dlerror());
        return;
    }
#define LOAD(name)                                                                                             \
    if (!(p_##name = (__typeof__(name) *)dlsym(h, #name))) {                                               \
        snprintf(reason, sizeof reason, "libdnnl.so.2 lacks %s", #name);                                     \
        return;                                                                                                \
    }
    LOAD(dnnl_engine_create) LOAD(dnnl_stream_create) LOAD(dnnl_stream_wait) LOAD(dnnl_memory_desc_init_by_strides)
    LOAD(dnnl_memory_desc_get_size) LOAD(dnnl_matmul_desc_init) LOAD(dnnl_primitive_attr_create)
    LOAD(dnnl_primitive_attr_destroy) LOAD(dnnl_primitive_attr_set_post_ops) LOAD(dnnl_primitive_attr_set_scratchpad_mode)
    LOAD(dnnl_post_ops_create) LOAD(dnnl_post_ops_destroy) LOAD(dnnl_post_ops_append_sum) LOAD(dnnl_primitive_desc_create)
    LOAD(dnnl_primitive_desc_destroy) LOAD(dnnl_primitive_desc_query_md) LOAD(dnnl_primitive_create)
    LOAD(dnnl_primitive_destroy) LOAD(dnnl_primitive_execute) LOAD(dnnl_memory_create) LOAD(dnnl_memory_destroy)
    LOAD(dnnl_version)
#undef LOAD
    if (!(p_omp_set_num_threads = (void (*)(int))dlsym(h, "omp_set_num_threads"))) {
        snprintf(reason, sizeof reason, "libdnnl.so.2 is not the OpenMP build (no omp_set_num_threads)");
        return;
    }
    const dnnl_version_t *v = p_dnnl_version();
    if (!v || v->major != 2) {
        snprintf(reason, sizeof reason, "libdnnl.so.2 reports version %d, expected 2.x", v ? v->major : -1);
        return;
    }
    if (p_dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        snprintf(reason, sizeof reason, "oneDNN could not create its CPU engine");
        return;
    }
    snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
    loaded = 1;
}

int llms_dnnl_available(void) {
    pthread_once(&load_once, load);
    return loaded;
}

const char *llms_dnnl_version(void) { return llms_dnnl_available() ? version : ""; }

const char *llms_dnnl_unavailable_reason(void) { return llms_dnnl_available() ? "" : reason; }

/* ---- primitive cache ---- */

typedef struct {
    long ta, tb, m, n, k, lda, ldb, ldc, bias, beta, threads;
} Key;

typedef struct {
    Key key;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t a, b, c, bias, scratch;
    size_t scratch_bytes;
} Entry;

#define CACHE_CAP 256
static Entry cache[CACHE_CAP];
static int cached;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

int llms_dnnl_cached_primitives(void) {
    pthread_mutex_lock(&cache_lock);
    int n = cached;
    pthread_mutex_unlock(&cache_lock);
    return n;
}

/* Builds the primitive for `key` into e; 0 on success. */
static int build(const Key *key, Entry *e) {
    dnnl_dims_t ad = {key->m, key->k}, bd = {key->k, key->n}, cd = {key->m, key->n}, biasd = {1, key->n};
    dnnl_dims_t as = {key->ta ? 1 : key->lda, key->ta ? key->lda : 1};
    dnnl_dims_t bs = {key->tb ? 1 : key->ldb, key->tb ? key->ldb : 1};
    dnnl_dims_t cs = {key->ldc, 1}, biass = {key->n, 1};
    if (p_dnnl_memory_desc_init_by_strides(&e->a, 2, ad, dnnl_f32, as) != dnnl_success) return 1;
    if (p_dnnl_memory_desc_init_by_strides(&e->b, 2, bd, dnnl_f32, bs) != dnnl_success) return 1;
    if (p_dnnl_memory_desc_init_by_strides(&e->c, 2, cd, dnnl_f32, cs) != dnnl_success) return 1;
    if (p_dnnl_memory_desc_init_by_strides(&e->bias, 2, biasd, dnnl_f32, biass) != dnnl_success) return 1;
    dnnl_matmul_desc_t md;
    if (p_dnnl_matmul_desc_init(&md, &e->a, &e->b, key->bias ? &e->bias : NULL, &e->c) != dnnl_success) return 1;
    dnnl_primitive_attr_t attr;
    if (p_dnnl_primitive_attr_create(&attr) != dnnl_success) return 1;
    int bad = p_dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success;
    if (!bad && key->beta) {
        dnnl_post_ops_t po;
        bad = p_dnnl_post_ops_create(&po) != dnnl_success;
        if (!bad) {
            bad = p_dnnl_post_ops_append_sum(po, 1.0f) != dnnl_success || p_dnnl_primitive_attr_set_post_ops(attr, po) != dnnl_success;
            p_dnnl_post_ops_destroy(po);
        }
    }
    dnnl_primitive_desc_t pd = NULL;
    if (!bad) bad = p_dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) != dnnl_success;
    p_dnnl_primitive_attr_destroy(attr);
    if (bad) return 1;
    const dnnl_memory_desc_t *smd = p_dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    e->scratch_bytes = smd ? p_dnnl_memory_desc_get_size(smd) : 0;
    if (smd) e->scratch = *smd;
    bad = p_dnnl_primitive_create(&e->prim, pd) != dnnl_success;
    p_dnnl_primitive_desc_destroy(pd);
    if (bad) return 1;
    e->key = *key;
    return 0;
}

/* The cached entry for key (building and caching it when missing; when the cache is full the entry is built
 * into *temp, which the caller destroys). NULL when oneDNN cannot build it. */
static const Entry *entry_for(const Key *key, Entry *temp, int *is_temp) {
    *is_temp = 0;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < cached; i++) {
        if (memcmp(&cache[i].key, key, sizeof *key) == 0) {
            pthread_mutex_unlock(&cache_lock);
            return &cache[i];  /* entries are never moved or destroyed once published */
        }
    }
    const Entry *found = NULL;
    if (cached < CACHE_CAP) {
        if (build(key, &cache[cached]) == 0) found = &cache[cached++];
    } else if (build(key, temp) == 0) {
        found = temp;
        *is_temp = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

/* One stream per calling thread (a CPU stream is cheap, but not shared across threads), and one grow-only
 * scratchpad per calling thread: allocating it per call costs page faults and zero-fills on every product
 * (measured: a 4096×384×128 product took 2x as long). */
static __thread dnnl_stream_t thread_stream;
static __thread void *thread_scratch;
static __thread size_t thread_scratch_bytes;

static void *scratch_for(size_t bytes) {
    if (bytes <= thread_scratch_bytes) return thread_scratch;
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    void *p = aligned_alloc(4096, rounded);
    if (!p) return NULL;
    free(thread_scratch);
    thread_scratch = p;
    thread_scratch_bytes = rounded;
    return p;
}

int llms_dnnl_gemm(int ta, int tb, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                   const float *bias, float beta, float *c, long ldc, int threads) {
    if (!llms_dnnl_available() || m <= 0 || n <= 0 || k <= 0 || threads < 1 || (beta != 0 && beta != 1)) return 1;
    if (!thread_stream && p_dnnl_stream_create(&thread_stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        thread_stream = NULL;
        return 1;
    }
    p_omp_set_num_threads(threads);  /* the primitive is built for, and runs on, this many threads */
    Key key = {ta != 0, tb != 0, m, n, k, lda, ldb, ldc, bias != NULL, beta != 0, threads};
    Entry temp;
    int is_temp;
    const Entry *e = entry_for(&key, &temp, &is_temp);
    if (!e) return 1;
    int status = 1;
    void *scratch = NULL;
    dnnl_memory_t ma = NULL, mb = NULL, mc = NULL, mbias = NULL, ms = NULL;
    if (e->scratch_bytes > 0 && !(scratch = scratch_for(e->scratch_bytes))) goto done;
    if (p_dnnl_memory_create(&ma, &e->a, engine, (void *)a) != dnnl_success) goto done;
    if (p_dnnl_memory_create(&mb, &e->b, engine, (void *)b) != dnnl_success) goto done;
    if (p_dnnl_memory_create(&mc, &e->c, engine, c) != dnnl_success) goto done;
    if (bias && p_dnnl_memory_create(&mbias, &e->bias, engine, (void *)bias) != dnnl_success) goto done;
    if (scratch && p_dnnl_memory_create(&ms, &e->scratch, engine, scratch) != dnnl_success) goto done;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
    int nargs = 3;
    if (mbias) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mbias};
    if (ms) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, ms};
    if (p_dnnl_primitive_execute(e->prim, thread_stream, nargs, args) != dnnl_success) goto done;
    status = p_dnnl_stream_wait(thread_stream) != dnnl_success;
done:
    if (ma) p_dnnl_memory_destroy(ma);
    if (mb) p_dnnl_memory_destroy(mb);
    if (mc) p_dnnl_memory_destroy(mc);
    if (mbias) p_dnnl_memory_destroy(mbias);
    if (ms) p_dnnl_memory_destroy(ms);
    if (is_temp) p_dnnl_primitive_destroy(temp.prim);
    return status;
}

#else /* no oneDNN 2.x header at build time */

int llms_dnnl_available(void) { return 0; }
const char *llms_dnnl_version(void) { return ""; }
const char *llms_dnnl_unavailable_reason(void) { return "built without oneDNN 2.x headers (Debian: libdnnl-dev)"; }
int llms_dnnl_gemm(int ta, int tb, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                   const float *bias, float beta, float *c, long ldc, int threads) {
    (void)ta; (void)tb; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)bias; (void)beta;
    (void)c; (void)ldc; (void)threads;
    return 1;
}
int llms_dnnl_cached_primitives(void) { return 0; }

#endif

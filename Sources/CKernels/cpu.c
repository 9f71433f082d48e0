/* CKernels: what the CPU and the OS support (cpuid, and xgetbv for the register state the OS saves), and
 * which compiled version of the kernels runs: AVX-512 (F/BW/VL/DQ + FMA) when the CPU and the OS both
 * enable it, else AVX2+FMA, else baseline x86-64; other architectures build only the one version.
 * LLMSCRIPT_NO_AVX2=1 forces the baseline, LLMSCRIPT_NO_AVX512=1 caps the choice at AVX2. */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

int llmk_kernel_level = LLMK_LEVEL_BASELINE;
static int llmk_cpu_level = LLMK_LEVEL_BASELINE;   /* the highest the CPU + OS support */

#ifdef LLMK_X86
static void llmk_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static uint64_t llmk_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));   /* xgetbv, ecx = 0 (XCR0) */
    return ((uint64_t)hi << 32) | lo;
}
#endif

#define BIT(r, n) (((r) >> (n)) & 1u)

void llmk_cpu_query(llmk_cpu_info *info) {
    memset(info, 0, sizeof *info);
#ifdef LLMK_X86
    unsigned r[4];
    __cpuid(0, r[0], r[1], r[2], r[3]);
    unsigned maxLeaf = r[0];
    memcpy(info->vendor, &r[1], 4); memcpy(info->vendor + 4, &r[3], 4); memcpy(info->vendor + 8, &r[2], 4);
    unsigned ext[4];
    __cpuid(0x80000000u, ext[0], ext[1], ext[2], ext[3]);
    if (ext[0] >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) { llmk_cpuid(0x80000002u + i, 0, r); memcpy(info->brand + 16 * i, r, 16); }
        info->brand[48] = 0;
    }
    if (maxLeaf < 1) return;
    llmk_cpuid(1, 0, r);
    unsigned eax = r[0], ecx = r[2], edx = r[3];
    unsigned family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
    if (family == 0xf) family += (eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model += ((eax >> 16) & 0xf) << 4;
    info->family = (int)family; info->model = (int)model; info->stepping = (int)(eax & 0xf);

    uint64_t f = 0;
    if (BIT(edx, 26)) f |= LLMK_CPU_SSE2;
    if (BIT(ecx, 0)) f |= LLMK_CPU_SSE3;
    if (BIT(ecx, 9)) f |= LLMK_CPU_SSSE3;
    if (BIT(ecx, 19)) f |= LLMK_CPU_SSE41;
    if (BIT(ecx, 20)) f |= LLMK_CPU_SSE42;
    uint64_t xcr0 = BIT(ecx, 27) ? llmk_xgetbv0() : 0;   /* OSXSAVE: the OS manages XSAVE state */
    info->xcr0 = xcr0;
    int osAVX = (xcr0 & 0x6) == 0x6;                      /* XMM and YMM state */
    int osAVX512 = osAVX && (xcr0 & 0xe0) == 0xe0;        /* opmask, ZMM_Hi256, Hi16_ZMM */
    int osAMX = (xcr0 & 0x60000) == 0x60000;              /* XTILECFG, XTILEDATA */
    if (osAVX) {
        if (BIT(ecx, 28)) f |= LLMK_CPU_AVX;
        if (BIT(ecx, 12)) f |= LLMK_CPU_FMA;
        if (BIT(ecx, 29)) f |= LLMK_CPU_F16C;
    }
    if (maxLeaf >= 7) {
        llmk_cpuid(7, 0, r);
        unsigned b7 = r[1], c7 = r[2], d7 = r[3], maxSub = r[0];
        if (osAVX && BIT(b7, 5)) f |= LLMK_CPU_AVX2;
        if (osAVX512) {
            if (BIT(b7, 16)) f |= LLMK_CPU_AVX512F;
            if (BIT(b7, 17)) f |= LLMK_CPU_AVX512DQ;
            if (BIT(b7, 30)) f |= LLMK_CPU_AVX512BW;
            if (BIT(b7, 31)) f |= LLMK_CPU_AVX512VL;
            if (BIT(c7, 11)) f |= LLMK_CPU_AVX512VNNI;
            if (BIT(d7, 23)) f |= LLMK_CPU_AVX512FP16;
        }
        if (osAMX) {
            if (BIT(d7, 24)) f |= LLMK_CPU_AMX_TILE;
            if (BIT(d7, 22)) f |= LLMK_CPU_AMX_BF16;
            if (BIT(d7, 25)) f |= LLMK_CPU_AMX_INT8;
        }
        if (maxSub >= 1) {
            llmk_cpuid(7, 1, r);
            if (osAVX && BIT(r[0], 4)) f |= LLMK_CPU_AVXVNNI;
            if (osAVX512 && BIT(r[0], 5)) f |= LLMK_CPU_AVX512BF16;
        }
    }
    info->features = f;
#endif
}

int llmk_cpu_simd_level(const llmk_cpu_info *info) {
    const uint64_t avx2 = LLMK_CPU_AVX | LLMK_CPU_AVX2 | LLMK_CPU_FMA;
    const uint64_t avx512 = avx2 | LLMK_CPU_AVX512F | LLMK_CPU_AVX512BW | LLMK_CPU_AVX512VL | LLMK_CPU_AVX512DQ;
    if ((info->features & avx512) == avx512) return LLMK_LEVEL_AVX512;
    if ((info->features & avx2) == avx2) return LLMK_LEVEL_AVX2;
    return LLMK_LEVEL_BASELINE;
}

/* The level the environment allows (LLMSCRIPT_NO_AVX2=1: baseline; LLMSCRIPT_NO_AVX512=1: at most AVX2). */
static int llmk_env_cap(void) {
    const char *no2 = getenv("LLMSCRIPT_NO_AVX2"), *no512 = getenv("LLMSCRIPT_NO_AVX512");
    if (no2 && no2[0] == '1') return LLMK_LEVEL_BASELINE;
    if (no512 && no512[0] == '1') return LLMK_LEVEL_AVX2;
    return LLMK_LEVEL_AVX512;
}

__attribute__((constructor)) static void llmk_kernels_detect(void) {
#ifdef LLMK_X86
    llmk_cpu_info info;
    llmk_cpu_query(&info);
    llmk_cpu_level = llmk_cpu_simd_level(&info);
#endif
    llmk_kernels_set_level(LLMK_LEVEL_AVX512);
}

int llmk_kernels_level(void) { return llmk_kernel_level; }
int llmk_kernels_cpu_level(void) { return llmk_cpu_level; }
int llmk_kernels_set_level(int level) {
    int cap = llmk_env_cap();
    if (level > cap) level = cap;
    if (level > llmk_cpu_level) level = llmk_cpu_level;
    llmk_kernel_level = level < LLMK_LEVEL_BASELINE ? LLMK_LEVEL_BASELINE : level;
    return llmk_kernel_level;
}

int llmk_kernels_avx2(void) { return llmk_kernel_level >= LLMK_LEVEL_AVX2; }
void llmk_kernels_allow_avx2(int on) { llmk_kernels_set_level(on ? LLMK_LEVEL_AVX512 : LLMK_LEVEL_BASELINE); }

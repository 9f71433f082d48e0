/* CKernels: which compiled version of the kernels runs (AVX2+FMA when an x86-64 CPU has both, else baseline;
 * other architectures build only the one version). */
#include "llmk_kernels.h"
#include "dispatch.h"
#include <stdlib.h>

int llmk_use_avx2 = 0;
static int llmk_cpu_avx2 = 0;

__attribute__((constructor)) static void llmk_kernels_detect(void) {
#ifdef LLMK_X86
    __builtin_cpu_init();
    llmk_cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    const char *off = getenv("LLMSCRIPT_NO_AVX2");          /* set to 1 to run the baseline kernels */
    llmk_use_avx2 = llmk_cpu_avx2 && !(off && off[0] == '1');
}

int llmk_kernels_avx2(void) { return llmk_use_avx2; }
void llmk_kernels_allow_avx2(int on) {
    const char *off = getenv("LLMSCRIPT_NO_AVX2");
    llmk_use_avx2 = on && llmk_cpu_avx2 && !(off && off[0] == '1');
}

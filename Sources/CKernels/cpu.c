/* CKernels: which compiled version of the kernels runs (AVX2+FMA when the CPU has both, else baseline). */
#include "llms_kernels.h"
#include "dispatch.h"
#include <stdlib.h>

int llms_use_avx2 = 0;
static int llms_cpu_avx2 = 0;

__attribute__((constructor)) static void llms_kernels_detect(void) {
    __builtin_cpu_init();
    llms_cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char *off = getenv("LLMSCRIPT_NO_AVX2");          /* set to 1 to run the baseline kernels */
    llms_use_avx2 = llms_cpu_avx2 && !(off && off[0] == '1');
}

int llms_kernels_avx2(void) { return llms_use_avx2; }
void llms_kernels_allow_avx2(int on) {
    const char *off = getenv("LLMSCRIPT_NO_AVX2");
    llms_use_avx2 = on && llms_cpu_avx2 && !(off && off[0] == '1');
}

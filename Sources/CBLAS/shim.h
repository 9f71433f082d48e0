/* OpenBLAS CBLAS interface (Debian libopenblas-dev); also declares openblas_set_num_threads. */
#include <cblas.h>

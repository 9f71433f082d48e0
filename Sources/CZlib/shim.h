/* zlib (Debian zlib1g-dev): gzip-compressed inputs and outputs of the document pipeline (LLMData). */
#include <zlib.h>

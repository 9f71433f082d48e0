/* OpenSSL's libcrypto (Debian libssl-dev): the EVP digest API, used by LLMFormats for SHA-256
 * (checkpoint manifests). libcrypto picks SHA-NI / AVX2 code paths at run time where the CPU has them. */
#include <openssl/evp.h>

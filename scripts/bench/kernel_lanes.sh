#!/usr/bin/env bash
# scripts/bench/kernel_lanes.sh: checks the 16-lane reduction code of the AVX-512 kernel versions on any
# AVX2 machine. It copies Sources/CKernels, makes the AVX2 version call the bodies with the AVX-512 version's
# lane count (16), and compares softmax / logsumexp / softmax backward / sum of squares / layer norm forward
# and backward against the baseline (8 lanes) over lengths 1…5000 (every tail). Exit 0 when all agree within
# 2e-6 relative. (The AVX-512 machine code itself runs only in FusedKernelTests on AVX-512 CPUs.)
# Usage: scripts/bench/kernel_lanes.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d /tmp/kernel-lanes.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cp -r Sources/CKernels/* "$WORK/"
sed -i 's/name##_avx2 params { return name##_body body8; }/name##_avx2 params { return name##_body body16; }/;
        s/name##_avx2 params { name##_body body8; }/name##_avx2 params { name##_body body16; }/' "$WORK/dispatch.h"
[ "$(grep -c 'name##_avx2 params {.*body16' "$WORK/dispatch.h")" = 2 ] || { echo "dispatch.h changed: update this script" >&2; exit 2; }
cat > "$WORK/harness.c" <<'EOF'
#include "llmk_kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static float worst = 0;
static const char *wname = "";
static void cmp(const char *name, const float *a, const float *b, int n) {
    float scale = 1;
    for (int i = 0; i < n; i++) scale = fabsf(b[i]) > scale ? fabsf(b[i]) : scale;
    for (int i = 0; i < n; i++) { float d = fabsf(a[i] - b[i]) / scale; if (!(d <= worst)) { worst = d; wname = name; } }
}
int main(void) {
    if (llmk_kernels_cpu_level() < 1) { printf("no AVX2+FMA on this CPU: nothing to check\n"); return 0; }
    static const int sizes[] = {1, 7, 8, 15, 16, 17, 31, 33, 100, 1031, 5000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int n = sizes[si];
        float *x = malloc(4 * n), *g = malloc(4 * n), *w = malloc(4 * n), *y = malloc(4 * n), *r[2], *d[2], *dx[2], out[2][6];
        for (int i = 0; i < n; i++) { x[i] = sinf(i * 0.37f) * 4; g[i] = cosf(i * 0.11f); w[i] = 1 + 0.1f * sinf(i); }
        for (int lv = 0; lv < 2; lv++) {
            llmk_kernels_set_level(lv);
            r[lv] = malloc(4 * n); d[lv] = malloc(4 * n); dx[lv] = malloc(4 * n);
            memcpy(r[lv], x, 4 * n);
            out[lv][0] = llmk_softmax_row(r[lv], n, n);
            out[lv][1] = llmk_logsumexp_row(x, n, &out[lv][2]);
            memcpy(d[lv], g, 4 * n);
            llmk_softmax_backward_row(r[lv], d[lv], n);
            out[lv][3] = (float)llmk_sum_squares(x, n);
            llmk_norm_row(x, y, n, w, NULL, 1e-5f, 0, &out[lv][4], &out[lv][5]);
            llmk_norm_backward_row(x, g, dx[lv], n, w, out[lv][4], out[lv][5], 0, NULL, NULL);
        }
        cmp("softmax", r[1], r[0], n); cmp("softmax backward", d[1], d[0], n);
        cmp("norm backward", dx[1], dx[0], n); cmp("row scalars", out[1], out[0], 6);
    }
    printf("16 lanes vs 8 (baseline): worst relative difference %.3g (%s)\n", worst, wname);
    return worst <= 2e-6f ? 0 : 1;
}
EOF
CC="${CC:-cc}"
for f in "$WORK"/*.c; do "$CC" -O2 -c -I"$WORK/include" -I"$WORK" "$f" -o "$f.o"; done
"$CC" -O2 -o "$WORK/check" "$WORK"/*.c.o -lm
"$WORK/check"

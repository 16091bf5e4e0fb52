/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/* Architecture-neutral shim: the BPF target has no asm/ directory of its own. */
#include <asm-generic/posix_types.h>

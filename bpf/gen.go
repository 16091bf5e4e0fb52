// SPDX-License-Identifier: Apache-2.0

// gen.go regenerates interlock_bpfel.go and interlock_bpfel.o from
// interlock.c; both outputs are committed and must be reproducible.

package bpf

//go:generate go tool bpf2go -tags linux -cc clang -target bpfel -type counter -cflags "-O2 -g -Wall -Werror -mcpu=v3 -Iinclude" interlock interlock.c

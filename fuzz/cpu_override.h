// Force-included (clang -include) into native/mask.cc and native/utf8.cc by fuzz/build.sh,
// and only there: it routes their CPU-feature probes through wscore_fuzz_cpu_supports
// (cpu_override.cc), which can hide features the machine has. That is the only way to reach
// the AVX2 and SSE2 kernels on an AVX-512 machine from a fuzz target: the kernel is chosen
// once, at load time, in a table private to each file, and the N-API hooks that switch it
// (_maskKernel/_utf8Kernel) cannot run without Node.
//
// Naming a macro after a compiler builtin is a preprocessor-level substitution in this build
// only; the native sources are compiled unmodified, and the addon never sees this header.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif
int wscore_fuzz_cpu_supports(const char* feature);
#ifdef __cplusplus
}
#endif

#define __builtin_cpu_supports(feature) wscore_fuzz_cpu_supports(feature)

// The CPU-feature probe seen by native/mask.cc and native/utf8.cc in the fuzz build (see
// cpu_override.h). It answers what the CPU really supports, capped by the environment
// variable WSCORE_FUZZ_CPU:
//   unset or "native"  every feature the CPU has (the addon's own choice)
//   "avx2"             no AVX-512
//   "sse2"             no AVX-512, no AVX2 (x86-64 baseline)
// The kernels are picked during static initialisation, before main, so the variable must be
// set when the process starts (fuzz/run.js does that).
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int Level(const char* feature) {
  if (std::strncmp(feature, "avx512", 6) == 0) return 2;
  if (std::strcmp(feature, "avx2") == 0) return 1;
  return 0;
}

int Cap() {
  const char* env = std::getenv("WSCORE_FUZZ_CPU");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "native") == 0) return 2;
  if (std::strcmp(env, "avx2") == 0) return 1;
  if (std::strcmp(env, "sse2") == 0) return 0;
  std::fprintf(stderr, "WSCORE_FUZZ_CPU must be native, avx2 or sse2 (got %s)\n", env);
  std::abort();
}

}  // namespace

extern "C" int wscore_fuzz_cpu_supports(const char* feature) {
  __builtin_cpu_init();
  int real;
  // __builtin_cpu_supports needs a literal, hence the chain. A feature name native/ starts
  // probing that is not listed here stops the build's smoke run instead of being guessed.
  if (std::strcmp(feature, "avx512f") == 0) {
    real = __builtin_cpu_supports("avx512f");
  } else if (std::strcmp(feature, "avx512bw") == 0) {
    real = __builtin_cpu_supports("avx512bw");
  } else if (std::strcmp(feature, "avx2") == 0) {
    real = __builtin_cpu_supports("avx2");
  } else if (std::strcmp(feature, "sse2") == 0) {
    real = __builtin_cpu_supports("sse2");
  } else {
    std::fprintf(stderr, "cpu_override.cc: unknown feature \"%s\": add it\n", feature);
    std::abort();
  }
  return real != 0 && Level(feature) <= Cap() ? 1 : 0;
}

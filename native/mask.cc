// RFC 6455 §5.3 masking: octet i of the payload is XORed with octet (i MOD 4) of the
// masking key. The key is periodic with period 4 and every vector width is a multiple of 4,
// so a kernel rotates the key once to the phase of its first byte, broadcasts it into a
// register and XORs whole blocks; only the tail needs byte-level care.
//
// One binary runs on any x86-64: SSE2 is the baseline, AVX2 and AVX-512BW kernels are
// compiled with function-level target attributes and picked once by CPU detection.
// Other architectures get a portable 8-byte-word loop (which compilers vectorize for NEON).
// Tuning (bench/micro, docs/benchmarks.md): stores are aligned to the vector width for long
// payloads, and the AVX-512 kernel streams payloads above 32 KiB with 256-bit vectors.
#include "mask.h"

#include <cstring>
#include <string>

#include "args.h"
#include "modules.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace wscore {
namespace {

using MaskFn = void (*)(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t k[4]);

// Bytes [0, len) with the key already rotated to phase 0: k[i & 3]. Used for tails shorter
// than a word. All loads/stores go through memcpy so no alignment is ever assumed.
inline void MaskTail(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t k[4]) {
  for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ k[i & 3];
}

inline uint64_t KeyWord64(const uint8_t k[4]) {
  uint8_t bytes[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
  uint64_t w;
  std::memcpy(&w, bytes, 8);  // byte order independent: the pattern is the same in memory
  return w;
}

void MaskPortable(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t k[4]) {
  const uint64_t kw = KeyWord64(k);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    std::memcpy(&v, src + i, 8);
    v ^= kw;
    std::memcpy(dst + i, &v, 8);
  }
  MaskTail(src + i, dst + i, len - i, k);  // i is a multiple of 4: phase unchanged
}

#if defined(__x86_64__)
inline int KeyWord32(const uint8_t k[4]) {
  int w;
  std::memcpy(&w, k, 4);
  return w;
}

// The key as seen r bytes further on: out[j] = k[(r + j) & 3].
inline void RotateKey(const uint8_t k[4], size_t r, uint8_t out[4]) {
  for (size_t j = 0; j < 4; j++) out[j] = k[(r + j) & 3];
}

// Bytes from p to the next multiple of `align` (a power of two).
inline size_t BytesToAlign(const uint8_t* p, size_t align) {
  return (align - (reinterpret_cast<uintptr_t>(p) & (align - 1))) & (align - 1);
}

// Long payloads first mask up to one vector's worth of head bytes so that every store of
// the main loop is aligned: an unaligned vector store that straddles two cache lines costs
// two, and copying into a malloc'ed (16-byte aligned) target straddled on every other store
// (measured: 64 KiB copy-and-mask went from ~0.7x to ~0.9x of memcpy).
constexpr size_t kAlignMin = 256;

void MaskSse2(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t k[4]) {
  const __m128i key = _mm_set1_epi32(KeyWord32(k));
  size_t i = 0;
  for (; i + 64 <= len; i += 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, key));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), _mm_xor_si128(b, key));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 32), _mm_xor_si128(c, key));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 48), _mm_xor_si128(d, key));
  }
  for (; i + 16 <= len; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, key));
  }
  MaskPortable(src + i, dst + i, len - i, k);
}

__attribute__((target("avx2"))) void MaskAvx2(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t k[4]) {
  size_t i = 0;
  uint8_t kr[4] = {k[0], k[1], k[2], k[3]};  // the key at the phase of byte i (i - head is a multiple of 4)
  if (len >= kAlignMin) {
    i = BytesToAlign(dst, 32);
    MaskPortable(src, dst, i, k);
    RotateKey(k, i, kr);
  }
  const __m256i key = _mm256_set1_epi32(KeyWord32(kr));
  for (; i + 128 <= len; i += 128) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
    __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 64));
    __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 96));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, key));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32), _mm256_xor_si256(b, key));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 64), _mm256_xor_si256(c, key));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 96), _mm256_xor_si256(d, key));
  }
  for (; i + 32 <= len; i += 32) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, key));
  }
  if (i + 16 <= len) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, _mm256_castsi256_si128(key)));
    i += 16;
  }
  MaskPortable(src + i, dst + i, len - i, kr);
}

// Payloads up to kWide512Max bytes: 64-byte vectors. Larger ones, whose source and target no
// longer fit in L1 together, stream through MaskAvx2's 32-byte loop instead: measured on a
// Sapphire Rapids Xeon, 512-bit load/XOR/store from L2 or DRAM ran at ~15 GB/s against
// ~23 GB/s for 256-bit at 64 KiB (copying; in place they tie), while from L1 512-bit wins
// (36 vs 31 GB/s at 16 KiB). Either way the tail is one masked 512-bit operation.
constexpr size_t kWide512Max = 32 * 1024;

__attribute__((target("avx512f,avx512bw"))) void MaskAvx512(const uint8_t* src, uint8_t* dst, size_t len,
                                                              const uint8_t k[4]) {
  size_t i = 0;
  uint8_t kr[4] = {k[0], k[1], k[2], k[3]};  // the key at the phase of byte i
  if (len > kWide512Max) {
    i = len & ~size_t{63};
    MaskAvx2(src, dst, i, k);  // i is a multiple of 4: the key phase is unchanged after it
  } else if (len >= kAlignMin) {
    i = BytesToAlign(dst, 64);
    if (i > 0) {
      const __mmask64 m = (uint64_t{1} << i) - 1;  // i < 64
      const __m512i v = _mm512_maskz_loadu_epi8(m, src);
      _mm512_mask_storeu_epi8(dst, m, _mm512_xor_si512(v, _mm512_set1_epi32(KeyWord32(k))));
      RotateKey(k, i, kr);
    }
  }
  const __m512i key = _mm512_set1_epi32(KeyWord32(kr));
  for (; i + 256 <= len; i += 256) {
    __m512i a = _mm512_loadu_si512(src + i);
    __m512i b = _mm512_loadu_si512(src + i + 64);
    __m512i c = _mm512_loadu_si512(src + i + 128);
    __m512i d = _mm512_loadu_si512(src + i + 192);
    _mm512_storeu_si512(dst + i, _mm512_xor_si512(a, key));
    _mm512_storeu_si512(dst + i + 64, _mm512_xor_si512(b, key));
    _mm512_storeu_si512(dst + i + 128, _mm512_xor_si512(c, key));
    _mm512_storeu_si512(dst + i + 192, _mm512_xor_si512(d, key));
  }
  for (; i + 64 <= len; i += 64) {
    _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), key));
  }
  if (i < len) {
    // Masked load/store (AVX-512BW): lanes past the end are neither read (no fault, even
    // across a page) nor written, so short tails and tiny payloads take one instruction each.
    const __mmask64 m = (uint64_t{1} << (len - i)) - 1;  // len - i < 64
    const __m512i v = _mm512_maskz_loadu_epi8(m, src + i);
    _mm512_mask_storeu_epi8(dst + i, m, _mm512_xor_si512(v, key));
  }
}
#endif  // __x86_64__

struct MaskKernel {
  const char* name;
  MaskFn fn;
  bool supported;
};

// Ordered best first. Detection runs once, when the addon is loaded.
MaskKernel* Kernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  static MaskKernel kernels[] = {
      {"avx512", MaskAvx512, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")},
      {"avx2", MaskAvx2, static_cast<bool>(__builtin_cpu_supports("avx2"))},
      {"sse2", MaskSse2, true},
      {"portable", MaskPortable, true},
      {nullptr, nullptr, false},
  };
#else
  static MaskKernel kernels[] = {{"portable", MaskPortable, true}, {nullptr, nullptr, false}};
#endif
  return kernels;
}

const MaskKernel* BestKernel() {
  for (const MaskKernel* k = Kernels(); k->name != nullptr; k++) {
    if (k->supported) return k;
  }
  return nullptr;  // unreachable: "portable" is always supported
}

const MaskKernel* g_kernel = BestKernel();

}  // namespace

void MaskBytes(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t key[4], size_t key_offset) {
  if (len == 0) return;
  const uint8_t k[4] = {key[key_offset & 3], key[(key_offset + 1) & 3], key[(key_offset + 2) & 3],
                        key[(key_offset + 3) & 3]};
  g_kernel->fn(src, dst, len, k);
}

namespace {

using args::Bytes;

// Masks src into dst (same length) at key phase `phase`, with the semantics of the js
// twin for every aliasing case: the key is read before anything is written, and a source
// that partly overlaps the target behaves as if it had been copied first.
void MaskInto(const Bytes& src, uint8_t* dst, const uint8_t* key, size_t phase) {
  if (src.length == 0) return;
  const uint8_t k[4] = {key[0], key[1], key[2], key[3]};
  const uint8_t* s = src.data;
  // Compared as integers: relational operators on pointers into different arrays are unspecified.
  const uintptr_t a = reinterpret_cast<uintptr_t>(s);
  const uintptr_t b = reinterpret_cast<uintptr_t>(dst);
  if (a != b && a < b + src.length && b < a + src.length) {
    std::memmove(dst, s, src.length);
    s = dst;
  }
  MaskBytes(s, dst, src.length, k, phase);
}

// mask(source, key, target, targetOffset, keyOffset): RFC 6455 §5.3 into target.
napi_value JsMask(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes src, key, dst;
  if (!args::GetBytes(env, argv[0], &src)) return args::ThrowType(env, "source must be a Uint8Array");
  if (!args::GetBytes(env, argv[1], &key)) return args::ThrowType(env, "key must be a Uint8Array");
  if (key.length != 4) return args::ThrowType(env, "key must be exactly 4 bytes");
  if (!args::GetBytes(env, argv[2], &dst)) return args::ThrowType(env, "target must be a Uint8Array");
  double at, phase;
  if (!args::GetOffset(env, argv[3], "targetOffset must be a non-negative integer", &at)) return nullptr;
  if (!args::GetOffset(env, argv[4], "keyOffset must be a non-negative integer", &phase)) return nullptr;
  if (at > static_cast<double>(dst.length) || src.length > dst.length - static_cast<size_t>(at)) {
    return args::ThrowRange(env, "source does not fit in target at targetOffset");
  }
  MaskInto(src, dst.data + static_cast<size_t>(at), key.data, args::KeyPhase(phase));
  return nullptr;
}

// unmask(data, key, keyOffset): the same XOR, in place.
napi_value JsUnmask(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes data, key;
  if (!args::GetBytes(env, argv[0], &data)) return args::ThrowType(env, "data must be a Uint8Array");
  if (!args::GetBytes(env, argv[1], &key)) return args::ThrowType(env, "key must be a Uint8Array");
  if (key.length != 4) return args::ThrowType(env, "key must be exactly 4 bytes");
  double phase;
  if (!args::GetOffset(env, argv[2], "keyOffset must be a non-negative integer", &phase)) return nullptr;
  MaskInto(data, data.data, key.data, args::KeyPhase(phase));
  return nullptr;
}

// Test and bench hooks, not part of the Backend API: _maskKernels() lists the kernels this
// CPU can run, best first; _maskKernel() names the active one, _maskKernel(name) selects one
// (so every kernel is tested on a machine that would otherwise only run the widest).
Napi::Value JsMaskKernels(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const MaskKernel* k = Kernels(); k->name != nullptr; k++) {
    if (k->supported) out.Set(n++, Napi::String::New(info.Env(), k->name));
  }
  return out;
}

Napi::Value JsMaskKernel(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) {
      args::ThrowType(info.Env(), "kernel name must be a string");
      return info.Env().Undefined();
    }
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    const MaskKernel* found = nullptr;
    for (const MaskKernel* k = Kernels(); k->name != nullptr; k++) {
      if (k->supported && name == k->name) found = k;
    }
    if (found == nullptr) {
      Napi::Error::New(info.Env(), "no such mask kernel on this CPU: " + name).ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    g_kernel = found;
  }
  return Napi::String::New(info.Env(), g_kernel->name);
}

}  // namespace

void InitMask(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  if (napi_create_function(env, "mask", NAPI_AUTO_LENGTH, JsMask, nullptr, &fn) == napi_ok) exports.Set("mask", fn);
  if (napi_create_function(env, "unmask", NAPI_AUTO_LENGTH, JsUnmask, nullptr, &fn) == napi_ok) {
    exports.Set("unmask", fn);
  }
  exports.Set("_maskKernels", Napi::Function::New(env, JsMaskKernels, "_maskKernels"));
  exports.Set("_maskKernel", Napi::Function::New(env, JsMaskKernel, "_maskKernel"));
}

}  // namespace wscore

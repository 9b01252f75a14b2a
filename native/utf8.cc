// UTF-8 validation (RFC 3629 §4 "Syntax of UTF-8 Byte Sequences"; RFC 6455 §8.1 requires
// it of every text message, fragments included).
//
// Three layers:
//  - a scalar state machine over the Utf8State values (the reference: it alone decides
//    error offsets and exit states, and it is the whole validator on non-x86 hosts);
//  - fast whole-buffer validators (true iff the buffer is complete, valid UTF-8), picked
//    once by CPU detection: AVX-512BW and AVX2 run the "lookup" algorithm of Keiser & Lemire
//    (utf8_lookup.h), SSE2 only skips ASCII 16 bytes at a time around the scalar machine;
//  - Utf8Step, which glues them: scalar for a sequence begun in an earlier piece, the fast
//    validator up to the last character boundary, scalar again for the cut-off tail. The
//    error path reruns the scalar machine to find the exact offset (slow, but only once).
#include "utf8.h"

#include <cstring>
#include <string>

#include "args.h"
#include "modules.h"
#include "utf8_lookup.h"

namespace wscore {
namespace {

// Per state: the range the next byte must fall in, and the state after it (RFC 3629 §4
// table: the second byte of E0, ED, F0, F4 sequences is narrowed to exclude overlongs,
// surrogates U+D800..DFFF and code points above U+10FFFF).
constexpr uint8_t kLo[8] = {0, 0x80, 0x80, 0xA0, 0x80, 0x80, 0x90, 0x80};
constexpr uint8_t kHi[8] = {0, 0xBF, 0xBF, 0xBF, 0x9F, 0xBF, 0xBF, 0x8F};
constexpr int kNext[8] = {kUtf8Accept, kUtf8Accept, kUtf8Need1, kUtf8Need1,
                          kUtf8Need1,  kUtf8Need2,  kUtf8Need2, kUtf8Need2};

// The state after lead byte b, or -1 when b cannot start a character (80..BF continuation,
// C0/C1 overlong 2-byte forms, F5..FF beyond U+10FFFF or the old 5/6-byte forms).
inline int LeadState(uint8_t b) {
  if (b < 0xC2) return -1;
  if (b < 0xE0) return kUtf8Need1;
  if (b == 0xE0) return kUtf8Need2E0;
  if (b == 0xED) return kUtf8Need2ED;
  if (b < 0xF0) return kUtf8Need2;
  if (b == 0xF0) return kUtf8Need3F0;
  if (b < 0xF4) return kUtf8Need3;
  if (b == 0xF4) return kUtf8Need3F4;
  return -1;
}

// The reference machine over d[0..n) from `state`: the final state, or -(i + 1) for the
// first byte i that makes the text invalid. ASCII runs are skipped 8 bytes at a time.
int64_t ScalarRun(const uint8_t* d, size_t n, int state) {
  size_t i = 0;
  while (i < n) {
    if (state == kUtf8Accept) {
      for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, d + i, 8);
        if (w & 0x8080808080808080ULL) break;
      }
      while (i < n && d[i] < 0x80) i++;
      if (i == n) break;
      state = LeadState(d[i]);
      if (state < 0) return -static_cast<int64_t>(i + 1);
    } else {
      if (d[i] < kLo[state] || d[i] > kHi[state]) return -static_cast<int64_t>(i + 1);
      state = kNext[state];
    }
    i++;
  }
  return state;
}

bool ValidatePortable(const uint8_t* d, size_t n) { return ScalarRun(d, n, kUtf8Accept) == kUtf8Accept; }

#if defined(__x86_64__)
// SSE2 has no byte shuffle, so no lookup validator: skip ASCII 16 bytes at a time and hand
// everything else to the scalar machine, one 16-byte stretch at a time.
bool ValidateSse2(const uint8_t* d, size_t n) {
  size_t i = 0;
  int64_t state = kUtf8Accept;
  while (i < n) {
    if (state == kUtf8Accept) {
      while (i + 16 <= n && _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i))) == 0) i += 16;
      if (i == n) break;
    }
    const size_t end = n - i < 16 ? n : i + 16;
    state = ScalarRun(d + i, end - i, static_cast<int>(state));
    if (state < 0) return false;
    i = end;
  }
  return state == kUtf8Accept;
}
#endif

using ValidateFn = bool (*)(const uint8_t* d, size_t n);

struct Utf8Kernel {
  const char* name;
  ValidateFn fn;
  bool supported;
};

Utf8Kernel* Kernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  static Utf8Kernel kernels[] = {
      {"avx512", utf8_lookup::ValidateAvx512, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")},
      {"avx2", utf8_lookup::ValidateAvx2, static_cast<bool>(__builtin_cpu_supports("avx2"))},
      {"sse2", ValidateSse2, true},
      {"portable", ValidatePortable, true},
      {nullptr, nullptr, false},
  };
#else
  static Utf8Kernel kernels[] = {{"portable", ValidatePortable, true}, {nullptr, nullptr, false}};
#endif
  return kernels;
}

const Utf8Kernel* BestKernel() {
  for (const Utf8Kernel* k = Kernels(); k->name != nullptr; k++) {
    if (k->supported) return k;
  }
  return nullptr;  // unreachable: "portable" is always supported
}

const Utf8Kernel* g_kernel = BestKernel();

// The end of the last complete character of d[0..n): n, or the start of a sequence that
// the end of the piece cuts off (a lead byte among the last 3 whose length reaches past n).
size_t CompleteEnd(const uint8_t* d, size_t n) {
  for (size_t back = 1; back <= 3 && back <= n; back++) {
    const uint8_t b = d[n - back];
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: its lead is further back
    if (b >= 0xC0) {
      const size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
      if (need > back) return n - back;
    }
    return n;
  }
  return n;
}

}  // namespace

bool IsUtf8(const uint8_t* data, size_t len) { return len == 0 || g_kernel->fn(data, len); }

int64_t Utf8Step(const uint8_t* d, size_t n, int state) {
  if (state < kUtf8Accept || state > kUtf8Need3F4) return -1;  // callers validate; never index out of the tables
  size_t i = 0;
  // 1. Finish a sequence begun in an earlier piece (at most 3 bytes, scalar).
  for (; state != kUtf8Accept && i < n; i++) {
    if (d[i] < kLo[state] || d[i] > kHi[state]) return -static_cast<int64_t>(i + 1);
    state = kNext[state];
  }
  if (i == n) return state;
  // 2. The fast validator over whole characters.
  const size_t end = i + CompleteEnd(d + i, n - i);
  if (!g_kernel->fn(d + i, end - i)) {
    const int64_t r = ScalarRun(d + i, n - i, kUtf8Accept);  // locate the first bad byte
    return r < 0 ? r - static_cast<int64_t>(i) : r;
  }
  // 3. The cut-off tail (<= 3 bytes) gives the exit state, or an error such as E0 80.
  const int64_t r = ScalarRun(d + end, n - end, kUtf8Accept);
  return r < 0 ? r - static_cast<int64_t>(end) : r;
}

namespace {

using args::Bytes;

// isUtf8(data): boolean.
napi_value JsIsUtf8(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes data;
  if (!args::GetBytes(env, argv[0], &data)) return args::ThrowType(env, "data must be a Uint8Array");
  napi_value result;
  if (napi_get_boolean(env, IsUtf8(data.data, data.length), &result) != napi_ok) return nullptr;
  return result;
}

// utf8Step(data, state): the next state (0..7) or -(i + 1) for the first bad byte i.
napi_value JsUtf8Step(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes data;
  if (!args::GetBytes(env, argv[0], &data)) return args::ThrowType(env, "data must be a Uint8Array");
  double s = -1;
  if (napi_get_value_double(env, argv[1], &s) != napi_ok || !(s >= 0 && s <= 7) || static_cast<int>(s) != s) {
    return args::ThrowRange(env, "state must be an integer from 0 to 7");
  }
  const int64_t r = Utf8Step(data.data, data.length, static_cast<int>(s));
  napi_value result;
  const napi_status st = r >= INT32_MIN ? napi_create_int32(env, static_cast<int32_t>(r), &result)
                                        : napi_create_double(env, static_cast<double>(r), &result);
  return st == napi_ok ? result : nullptr;
}

// Test and bench hooks, as in mask.cc: _utf8Kernels() lists what this CPU runs, best first;
// _utf8Kernel(name?) reads or selects the active whole-buffer validator.
Napi::Value JsUtf8Kernels(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const Utf8Kernel* k = Kernels(); k->name != nullptr; k++) {
    if (k->supported) out.Set(n++, Napi::String::New(info.Env(), k->name));
  }
  return out;
}

Napi::Value JsUtf8Kernel(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) {
      args::ThrowType(info.Env(), "kernel name must be a string");
      return info.Env().Undefined();
    }
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    const Utf8Kernel* found = nullptr;
    for (const Utf8Kernel* k = Kernels(); k->name != nullptr; k++) {
      if (k->supported && name == k->name) found = k;
    }
    if (found == nullptr) {
      Napi::Error::New(info.Env(), "no such utf8 kernel on this CPU: " + name).ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    g_kernel = found;
  }
  return Napi::String::New(info.Env(), g_kernel->name);
}

}  // namespace

void InitUtf8(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  if (napi_create_function(env, "isUtf8", NAPI_AUTO_LENGTH, JsIsUtf8, nullptr, &fn) == napi_ok) {
    exports.Set("isUtf8", fn);
  }
  if (napi_create_function(env, "utf8Step", NAPI_AUTO_LENGTH, JsUtf8Step, nullptr, &fn) == napi_ok) {
    exports.Set("utf8Step", fn);
  }
  exports.Set("_utf8Kernels", Napi::Function::New(env, JsUtf8Kernels, "_utf8Kernels"));
  exports.Set("_utf8Kernel", Napi::Function::New(env, JsUtf8Kernel, "_utf8Kernel"));
}

}  // namespace wscore

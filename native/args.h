// Argument checks for the N-API bindings of mask.cc and utf8.cc: the C++ twin of
// src/backend/js/args.ts. Same error classes, same messages, checked in the same order, so
// a caller sees one behaviour whichever backend is active.
//
// The hot bindings use the raw C API (node_api.h) for reading arguments: a 16-byte mask is
// dominated by the cost of the call itself, and every wrapper layer shows up there.
// Errors are thrown through node-addon-api (built with NAPI_DISABLE_CPP_EXCEPTIONS, so
// ThrowAsJavaScriptException only marks the exception pending and the binding returns).
#pragma once
#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace wscore {
namespace args {

struct Bytes {
  uint8_t* data;
  size_t length;
};

// A Uint8Array (Buffer included; any byteOffset) -> its bytes. A detached buffer reads as
// zero length. False when `value` is anything else (no exception is pending then).
[[gnu::always_inline]] inline bool GetBytes(napi_env env, napi_value value, Bytes* out) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  out->data = static_cast<uint8_t*>(data);
  out->length = data == nullptr ? 0 : length;
  return true;
}

// The throwing helpers are kept out of line (cold): inlined, their std::string and handle
// work made every caller's frame large enough to show up in a 16-byte mask.
[[gnu::cold, gnu::noinline]] inline napi_value ThrowType(napi_env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return nullptr;
}

[[gnu::cold, gnu::noinline]] inline napi_value ThrowRange(napi_env env, const char* message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return nullptr;
}

// GetOffset's slow path: undefined -> 0, anything else that is not a number -> RangeError.
[[gnu::cold, gnu::noinline]] inline bool OffsetNotNumber(napi_env env, napi_value value, const char* message, double* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_undefined) {
    *out = 0;
    return true;
  }
  ThrowRange(env, message);
  return false;
}

// An optional offset: undefined -> 0; otherwise a number that is an integer >= 0 (the js
// twin's `Number.isInteger(v) && v >= 0`; -0 passes as 0). It stays a double because it
// may exceed size_t range; callers compare it with lengths before converting.
// Throws RangeError(message) and returns false otherwise.
[[gnu::always_inline]] inline bool GetOffset(napi_env env, napi_value value, const char* message, double* out) {
  double d = 0;
  if (napi_get_value_double(env, value, &d) != napi_ok) return OffsetNotNumber(env, value, message, out);
  // >= 0 first (NaN fails it; converting NaN or a negative to an integer type is UB), then
  // integral: every double >= 2^53 is an integer, below that a round trip through int64 is
  // exact for integers only. No libm calls: this runs on every mask() call.
  if (!(d >= 0) || !(d >= 0x1p53 ? d != HUGE_VAL : static_cast<double>(static_cast<int64_t>(d)) == d)) {
    ThrowRange(env, message);
    return false;
  }
  *out = d + 0.0;  // -0 -> +0
  return true;
}

// The key phase (offset mod 4) of a valid offset from GetOffset, exactly: every double
// >= 2^63 is a multiple of 4, and below that the conversion to uint64 is exact.
inline size_t KeyPhase(double offset) {
  return offset >= 0x1p63 ? 0 : static_cast<size_t>(static_cast<uint64_t>(offset) & 3);
}

}  // namespace args
}  // namespace wscore

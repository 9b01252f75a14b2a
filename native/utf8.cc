// PLACEHOLDER scalar validator (the SIMD version replaces it).
#include "utf8.h"
#include "modules.h"
namespace wscore {
int64_t Utf8Step(const uint8_t* d, size_t n, int state) {
  for (size_t i = 0; i < n; i++) {
    uint8_t b = d[i];
    if (state == kUtf8Accept) {
      if (b < 0x80) continue;
      if (b < 0xC2) return -(int64_t)(i + 1);
      if (b < 0xE0) state = kUtf8Need1;
      else if (b == 0xE0) state = kUtf8Need2E0;
      else if (b == 0xED) state = kUtf8Need2ED;
      else if (b < 0xF0) state = kUtf8Need2;
      else if (b == 0xF0) state = kUtf8Need3F0;
      else if (b < 0xF4) state = kUtf8Need3;
      else if (b == 0xF4) state = kUtf8Need3F4;
      else return -(int64_t)(i + 1);
    } else {
      uint8_t lo = 0x80, hi = 0xBF;
      if (state == kUtf8Need2E0) lo = 0xA0;
      else if (state == kUtf8Need2ED) hi = 0x9F;
      else if (state == kUtf8Need3F0) lo = 0x90;
      else if (state == kUtf8Need3F4) hi = 0x8F;
      if (b < lo || b > hi) return -(int64_t)(i + 1);
      state = state == kUtf8Need1 ? kUtf8Accept : state <= kUtf8Need2ED ? kUtf8Need1 : kUtf8Need2;
    }
  }
  return state;
}
bool IsUtf8(const uint8_t* d, size_t n) { return Utf8Step(d, n, kUtf8Accept) == kUtf8Accept; }
void InitUtf8(Napi::Env, Napi::Object) {}
}  // namespace wscore

// PLACEHOLDER scalar kernel (the SIMD version replaces it).
#include "mask.h"
#include "modules.h"
namespace wscore {
void MaskBytes(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t key[4], size_t key_offset) {
  for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ key[(key_offset + i) & 3];
}
void InitMask(Napi::Env, Napi::Object) {}
}  // namespace wscore

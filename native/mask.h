// RFC 6455 §5.3 masking kernels, shared by the N-API binding and the frame parser.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wscore {
// dst[i] = src[i] ^ key[(key_offset + i) & 3] for i < len. dst may equal src (in place);
// otherwise the ranges must not overlap.
void MaskBytes(const uint8_t* src, uint8_t* dst, size_t len, const uint8_t key[4], size_t key_offset);
}  // namespace wscore

// mask_fuzzer: native/mask.cc MaskBytes against the one-line definition of RFC 6455 §5.3
// (octet i XOR key[(offset + i) mod 4]) at every key phase, length and alignment, in place
// and into a separate buffer, in one call and in fuzzer-chosen pieces.
//
// Which SIMD kernel MaskBytes uses is fixed per process (CPU detection at load time);
// fuzz/run.js runs this target once per kernel level the machine has, through
// WSCORE_FUZZ_CPU (fuzz/cpu_override.cc).
//
// Input layout (fuzz/README.md):
//   bytes 0-3    the masking key
//   bytes 4-11   key_offset, u64 BE (any value: only its low 2 bits may matter)
//   byte 12      bits 0-5: source lead (alignment); bit 6: in place
//   byte 13      bits 0-5: destination lead
//   byte 14      bits 0-3: k, the number of cut points
//   k x u16 BE   cut points (mod length + 1)
//   rest         the payload
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../native/mask.h"
#include "harness.h"

namespace {

// The reference: RFC 6455 §5.3, byte by byte.
uint8_t Expected(const uint8_t* src, size_t i, const uint8_t key[4], uint64_t offset) {
  return static_cast<uint8_t>(src[i] ^ key[(offset + i) % 4]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  uint8_t key[4];
  for (uint8_t& b : key) b = in.U8();
  const uint64_t offset = in.U64();
  const uint8_t b12 = in.U8();
  const size_t src_lead = b12 & 63;
  const bool in_place = (b12 & 64) != 0;
  const size_t dst_lead = in.U8() & 63;
  const int k = in.U8() & 0x0F;
  std::vector<size_t> cuts;
  for (int i = 0; i < k; i++) cuts.push_back(in.U16());
  const uint8_t* payload = in.rest();
  const size_t n = in.rest_size();
  for (size_t& c : cuts) c %= n + 1;
  std::sort(cuts.begin(), cuts.end());

  // The key is passed through a guarded 4-byte buffer: MaskBytes may read exactly key[0..3].
  fuzz::Guarded key_buf(key, 4, src_lead);

  // 1. One call.
  fuzz::Guarded src(payload, n, src_lead);
  if (in_place) {
    wscore::MaskBytes(src.data(), src.data(), n, key_buf.data(), static_cast<size_t>(offset));
    for (size_t i = 0; i < n; i++) FUZZ_CHECK(src.data()[i] == Expected(payload, i, key, offset));
  } else {
    fuzz::Guarded dst(n, dst_lead);
    std::memset(dst.data(), 0xEE, n);
    wscore::MaskBytes(src.data(), dst.data(), n, key_buf.data(), static_cast<size_t>(offset));
    for (size_t i = 0; i < n; i++) {
      FUZZ_CHECK(dst.data()[i] == Expected(payload, i, key, offset));
      FUZZ_CHECK(src.data()[i] == payload[i]);  // the source is read-only
    }
  }
  FUZZ_CHECK(std::equal(key, key + 4, key_buf.data()));

  // 2. The same payload in pieces, each piece at the key phase of its position: how the
  //    frame parser unmasks a payload that arrives over several socket reads. Each piece
  //    gets its own exact-size buffer so an overrun of the piece is caught.
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size(); i++) {
    const size_t to = i < cuts.size() ? cuts[i] : n;
    fuzz::Guarded piece(payload + from, to - from, src_lead + i);
    wscore::MaskBytes(piece.data(), piece.data(), to - from, key_buf.data(), static_cast<size_t>(offset + from));
    for (size_t j = from; j < to; j++) FUZZ_CHECK(piece.data()[j - from] == Expected(payload, j, key, offset));
    from = to;
  }
  return 0;
}

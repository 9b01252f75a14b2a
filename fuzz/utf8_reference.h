// A deliberately plain UTF-8 decoder used as the oracle for native/utf8.cc. It shares no
// code, table or structure with the validator under test: it decodes code points from the
// definition of RFC 3629 §3/§4 (a character is the shortest encoding of a Unicode scalar
// value, i.e. of 0..10FFFF minus the surrogates D800..DFFF) and nothing more clever.
//
// It answers in the contract of wscore::Utf8Step: the final Utf8State (>= 0), or -(i + 1)
// where byte i is the FIRST byte after which the text can no longer be the beginning of
// valid UTF-8 (so E0 80 fails at the 80, not at the E0 and not at the end of the sequence).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fuzz {
namespace ref {

// Sequence length announced by a lead byte (RFC 3629 §3: 0xxxxxxx, 110xxxxx, 1110xxxx,
// 11110xxx), or 0 for a byte that cannot start a sequence (10xxxxxx, 11111xxx).
inline int SequenceLength(uint8_t b) {
  if (b < 0x80) return 1;
  if (b < 0xC0) return 0;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  if (b < 0xF8) return 4;
  return 0;
}

// Whether k leading bytes of an n-byte sequence, carrying the payload bits `bits`, can be
// completed to the shortest encoding of a scalar value. The completions cover exactly the
// code points [lo, hi] below; the sequence is viable iff that interval meets the range an
// n-byte sequence may encode ([kMin[n], kMax[n]]) somewhere outside the surrogates.
inline bool Viable(uint32_t bits, int k, int n) {
  static const uint32_t kMin[5] = {0, 0x0, 0x80, 0x800, 0x10000};
  static const uint32_t kMax[5] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  const int free_bits = 6 * (n - k);
  const uint32_t lo = bits << free_bits;
  const uint32_t hi = lo | ((uint32_t{1} << free_bits) - 1);
  const uint32_t a = lo > kMin[n] ? lo : kMin[n];
  const uint32_t b = hi < kMax[n] ? hi : kMax[n];
  if (a > b) return false;                       // overlong, or beyond U+10FFFF
  return !(a >= 0xD800 && b <= 0xDFFF);          // only surrogates left
}

// The Utf8State after k bytes of an n-byte sequence that began with `lead` (k < n): the
// meaning of each state as documented in native/utf8.h and src/backend/types.ts.
inline int StateFor(uint8_t lead, int k, int n) {
  const int need = n - k;
  if (need == 1) return 1;                                    // NEED1
  if (need == 2) {
    if (k == 2) return 2;                                     // 4-byte seq, 2 seen: NEED2
    return lead == 0xE0 ? 3 : lead == 0xED ? 4 : 2;           // NEED2_E0 / NEED2_ED / NEED2
  }
  return lead == 0xF0 ? 6 : lead == 0xF4 ? 7 : 5;             // NEED3_F0 / NEED3_F4 / NEED3
}

// A byte string that leaves the decoder in `state` (the inverse of StateFor): continuing
// from a state is the same as decoding this prefix first. State 0 has no prefix.
inline std::vector<uint8_t> PrefixFor(int state) {
  switch (state) {
    case 1: return {0xC2};
    case 2: return {0xE1};
    case 3: return {0xE0};
    case 4: return {0xED};
    case 5: return {0xF1};
    case 6: return {0xF0};
    case 7: return {0xF4};
    default: return {};
  }
}

// Decodes d[0..n) after the prefix of `state`.
inline int64_t Decode(const uint8_t* d, size_t n, int state) {
  std::vector<uint8_t> text = PrefixFor(state);
  const size_t skip = text.size();
  text.insert(text.end(), d, d + n);
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t lead = text[i];
    const int len = SequenceLength(lead);
    if (len == 0) return -static_cast<int64_t>(i - skip + 1);
    uint32_t bits = len == 1 ? lead : len == 2 ? (lead & 0x1Fu) : len == 3 ? (lead & 0x0Fu) : (lead & 0x07u);
    if (!Viable(bits, 1, len)) return -static_cast<int64_t>(i - skip + 1);
    for (int k = 1; k < len; k++) {
      const size_t at = i + static_cast<size_t>(k);
      if (at == text.size()) return StateFor(lead, k, len);  // cut off by the end
      const uint8_t c = text[at];
      if ((c & 0xC0) != 0x80) return -static_cast<int64_t>(at - skip + 1);
      bits = (bits << 6) | (c & 0x3Fu);
      if (!Viable(bits, k + 1, len)) return -static_cast<int64_t>(at - skip + 1);
    }
    i += static_cast<size_t>(len);
  }
  return 0;
}

inline bool IsValid(const uint8_t* d, size_t n) { return Decode(d, n, 0) == 0; }

}  // namespace ref
}  // namespace fuzz

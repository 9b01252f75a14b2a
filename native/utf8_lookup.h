// Whole-buffer UTF-8 validators for AVX2 and AVX-512BW after the "lookup" algorithm of
// J. Keiser and D. Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte"
// (Software: Practice and Experience, 2021). Written for wscore from the paper's
// description; private to utf8.cc. Each returns true iff d[0..n) is complete, valid UTF-8.
//
// The idea: every error of RFC 3629 §4 is visible in a window of at most two bytes
// (prev1, cur), given three nibbles -- the high and low nibble of prev1 and the high nibble
// of cur. Three 16-entry tables map each nibble to the set of error classes it is compatible
// with (one bit per class); the AND of the three lookups is non-zero exactly where a class
// matches all three nibbles. The one class needing a longer window is "continuation where
// none is expected": (cont, cont) pairs raise bit 7, which must coincide with "prev2 is a
// 3/4-byte lead or prev3 is a 4-byte lead"; an XOR of the two catches both a missing and an
// extra continuation. Blocks that are pure ASCII skip all of this, but if the block before
// them ended inside a character, that is an error.
#pragma once
#if defined(__x86_64__)
// GCC 12's avx512fintrin.h initialises "undefined" vectors from themselves, which its own
// -Wuninitialized flags once inlined here; the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wscore {
namespace utf8_lookup {

// Error classes, one bit each. "lead" means 11xxxxxx, "cont" 10xxxxxx.
constexpr uint8_t kTooShort = 1 << 0;   // lead followed by ASCII or by another lead
constexpr uint8_t kTooLong = 1 << 1;    // ASCII followed by cont
constexpr uint8_t kOverlong3 = 1 << 2;  // E0 followed by 80..9F (U+0000..07FF in 3 bytes)
constexpr uint8_t kTooLarge = 1 << 3;   // F4 followed by 90..BF, F5..FF followed by 90..BF
constexpr uint8_t kSurrogate = 1 << 4;  // ED followed by A0..BF (U+D800..DFFF)
constexpr uint8_t kOverlong2 = 1 << 5;  // C0/C1 followed by cont
// F0 followed by 80..8F (overlong 4-byte form) and F5..FF followed by 80..8F (too large)
// both mean "lead with low nibble pattern X, then 80..8F", so they share one bit.
constexpr uint8_t kCont8x = 1 << 6;
constexpr uint8_t kTwoConts = 1 << 7;  // cont followed by cont: checked against the lead 2-3 back
// Classes decided by the high nibbles alone: the low nibble of prev1 must not mask them.
constexpr uint8_t kAnyLow = kTooShort | kTooLong | kTwoConts;

// Indexed by prev1 >> 4.
alignas(16) constexpr uint8_t kPrev1High[16] = {
    kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,  // 0..7 ASCII
    kTwoConts, kTwoConts, kTwoConts, kTwoConts,                                      // 8..B cont
    kTooShort | kOverlong2,                                                          // C
    kTooShort,                                                                       // D
    kTooShort | kOverlong3 | kSurrogate,                                             // E
    kTooShort | kTooLarge | kCont8x,                                                 // F
};
// Indexed by prev1 & 0x0F.
alignas(16) constexpr uint8_t kPrev1Low[16] = {
    kAnyLow | kOverlong3 | kOverlong2 | kCont8x,  // x0: C0, E0, F0 (kCont8x = overlong 4)
    kAnyLow | kOverlong2,                         // x1: C1
    kAnyLow,
    kAnyLow,
    kAnyLow | kTooLarge,                          // x4: F4
    kAnyLow | kTooLarge | kCont8x,                // x5..xF: F5..FF (kCont8x = too large)
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x | kSurrogate,  // xD: ED (and FD)
    kAnyLow | kTooLarge | kCont8x,
    kAnyLow | kTooLarge | kCont8x,
};
// Indexed by cur >> 4.
alignas(16) constexpr uint8_t kCurHigh[16] = {
    kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,  // ASCII
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kCont8x,                                 // 8x
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge,                               // 9x
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                               // Ax
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                               // Bx
    kTooShort, kTooShort, kTooShort, kTooShort,                                               // leads
};
// Saturating-subtracting this from a block leaves a non-zero byte iff the block ends inside
// a character: a lead in the last byte, a 3/4-byte lead in the one before, a 4-byte lead 3
// back. It applies to the last 16 bytes of a block only: the top 128-bit lane, the other
// lanes are compared with 0xFF (never non-zero).
alignas(16) constexpr uint8_t kIncompleteMax[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xEF, 0xDF, 0xBF};

inline __m128i Load16(const uint8_t* p) { return _mm_load_si128(reinterpret_cast<const __m128i*>(p)); }

// ---- AVX2: 32-byte blocks --------------------------------------------------------------

#define WSCORE_AVX2 __attribute__((target("avx2"), always_inline)) inline

struct Avx2Tables {
  __m256i prev1_high, prev1_low, cur_high, incomplete_max, nibble, third, fourth, bit7;
};

// Errors of block `in` given the block before it; accumulated into *error.
WSCORE_AVX2 void CheckAvx2(__m256i in, __m256i prev, const Avx2Tables& t, __m256i* error) {
  // Lane 0 of `spliced` is prev's upper lane, lane 1 is in's lower lane, so a per-lane
  // alignr against `in` yields the block shifted right by N bytes with prev's tail in front.
  const __m256i spliced = _mm256_permute2x128_si256(prev, in, 0x21);
  const __m256i prev1 = _mm256_alignr_epi8(in, spliced, 15);
  const __m256i prev2 = _mm256_alignr_epi8(in, spliced, 14);
  const __m256i prev3 = _mm256_alignr_epi8(in, spliced, 13);
  const __m256i p1h = _mm256_shuffle_epi8(t.prev1_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), t.nibble));
  const __m256i p1l = _mm256_shuffle_epi8(t.prev1_low, _mm256_and_si256(prev1, t.nibble));
  const __m256i ch = _mm256_shuffle_epi8(t.cur_high, _mm256_and_si256(_mm256_srli_epi16(in, 4), t.nibble));
  const __m256i special = _mm256_and_si256(_mm256_and_si256(p1h, p1l), ch);
  // Bit 7 set where a continuation is required: prev2 >= E0 or prev3 >= F0.
  const __m256i must = _mm256_and_si256(_mm256_or_si256(_mm256_subs_epu8(prev2, t.third), _mm256_subs_epu8(prev3, t.fourth)), t.bit7);
  *error = _mm256_or_si256(*error, _mm256_xor_si256(must, special));
}

__attribute__((target("avx2"))) inline bool ValidateAvx2(const uint8_t* d, size_t n) {
  Avx2Tables t;
  t.prev1_high = _mm256_broadcastsi128_si256(Load16(kPrev1High));
  t.prev1_low = _mm256_broadcastsi128_si256(Load16(kPrev1Low));
  t.cur_high = _mm256_broadcastsi128_si256(Load16(kCurHigh));
  t.incomplete_max = _mm256_inserti128_si256(_mm256_set1_epi8(-1), Load16(kIncompleteMax), 1);
  t.nibble = _mm256_set1_epi8(0x0F);
  t.third = _mm256_set1_epi8(static_cast<char>(0xE0 - 0x80));
  t.fourth = _mm256_set1_epi8(static_cast<char>(0xF0 - 0x80));
  t.bit7 = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i prev = _mm256_setzero_si256();
  __m256i incomplete = _mm256_setzero_si256();
  __m256i error = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 64));
    const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 96));
    if (_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, e))) == 0) {
      error = _mm256_or_si256(error, incomplete);  // ASCII after a cut-off character
      incomplete = _mm256_setzero_si256();
    } else {
      CheckAvx2(a, prev, t, &error);
      CheckAvx2(b, a, t, &error);
      CheckAvx2(c, b, t, &error);
      CheckAvx2(e, c, t, &error);
      incomplete = _mm256_subs_epu8(e, t.incomplete_max);
    }
    prev = e;
  }
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i));
    CheckAvx2(a, prev, t, &error);
    incomplete = _mm256_subs_epu8(a, t.incomplete_max);
    prev = a;
  }
  if (i < n) {
    // Zero padding is ASCII: a character cut off by the end meets a zero where it needs a
    // continuation, so the check itself reports it and nothing is left incomplete.
    alignas(32) uint8_t last[32] = {0};
    std::memcpy(last, d + i, n - i);
    CheckAvx2(_mm256_load_si256(reinterpret_cast<const __m256i*>(last)), prev, t, &error);
    incomplete = _mm256_setzero_si256();
  }
  error = _mm256_or_si256(error, incomplete);
  return _mm256_testz_si256(error, error) != 0;
}

#undef WSCORE_AVX2

// ---- AVX-512BW: 64-byte blocks ----------------------------------------------------------

#define WSCORE_AVX512 __attribute__((target("avx512f,avx512bw"), always_inline)) inline

struct Avx512Tables {
  __m512i prev1_high, prev1_low, cur_high, incomplete_max, nibble, third, fourth, bit7;
};

WSCORE_AVX512 void CheckAvx512(__m512i in, __m512i prev, const Avx512Tables& t, __m512i* error) {
  // 128-bit lanes (prev.3, in.0, in.1, in.2): lane j holds the lane before in's lane j, so a
  // per-lane alignr against `in` shifts the whole 64-byte block right by N bytes.
  const __m512i spliced = _mm512_alignr_epi64(in, prev, 6);
  const __m512i prev1 = _mm512_alignr_epi8(in, spliced, 15);
  const __m512i prev2 = _mm512_alignr_epi8(in, spliced, 14);
  const __m512i prev3 = _mm512_alignr_epi8(in, spliced, 13);
  const __m512i p1h = _mm512_shuffle_epi8(t.prev1_high, _mm512_and_si512(_mm512_srli_epi16(prev1, 4), t.nibble));
  const __m512i p1l = _mm512_shuffle_epi8(t.prev1_low, _mm512_and_si512(prev1, t.nibble));
  const __m512i ch = _mm512_shuffle_epi8(t.cur_high, _mm512_and_si512(_mm512_srli_epi16(in, 4), t.nibble));
  const __m512i special = _mm512_and_si512(_mm512_and_si512(p1h, p1l), ch);
  const __m512i must = _mm512_and_si512(_mm512_or_si512(_mm512_subs_epu8(prev2, t.third), _mm512_subs_epu8(prev3, t.fourth)), t.bit7);
  *error = _mm512_or_si512(*error, _mm512_xor_si512(must, special));
}

__attribute__((target("avx512f,avx512bw"))) inline bool ValidateAvx512(const uint8_t* d, size_t n) {
  Avx512Tables t;
  t.prev1_high = _mm512_broadcast_i32x4(Load16(kPrev1High));
  t.prev1_low = _mm512_broadcast_i32x4(Load16(kPrev1Low));
  t.cur_high = _mm512_broadcast_i32x4(Load16(kCurHigh));
  t.incomplete_max = _mm512_inserti32x4(_mm512_set1_epi8(-1), Load16(kIncompleteMax), 3);
  t.nibble = _mm512_set1_epi8(0x0F);
  t.third = _mm512_set1_epi8(static_cast<char>(0xE0 - 0x80));
  t.fourth = _mm512_set1_epi8(static_cast<char>(0xF0 - 0x80));
  t.bit7 = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i prev = _mm512_setzero_si512();
  __m512i incomplete = _mm512_setzero_si512();
  __m512i error = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    const __m512i a = _mm512_loadu_si512(d + i);
    const __m512i b = _mm512_loadu_si512(d + i + 64);
    const __m512i c = _mm512_loadu_si512(d + i + 128);
    const __m512i e = _mm512_loadu_si512(d + i + 192);
    // OR of four blocks via one ternary-logic op (0xFE = a | b | c) plus one OR.
    const __m512i any = _mm512_or_si512(_mm512_ternarylogic_epi32(a, b, c, 0xFE), e);
    if (_mm512_movepi8_mask(any) == 0) {
      error = _mm512_or_si512(error, incomplete);
      incomplete = _mm512_setzero_si512();
    } else {
      CheckAvx512(a, prev, t, &error);
      CheckAvx512(b, a, t, &error);
      CheckAvx512(c, b, t, &error);
      CheckAvx512(e, c, t, &error);
      incomplete = _mm512_subs_epu8(e, t.incomplete_max);
    }
    prev = e;
  }
  for (; i + 64 <= n; i += 64) {
    const __m512i a = _mm512_loadu_si512(d + i);
    CheckAvx512(a, prev, t, &error);
    incomplete = _mm512_subs_epu8(a, t.incomplete_max);
    prev = a;
  }
  if (i < n) {
    // Masked load: lanes past the end read as zero (ASCII) and are never touched in memory.
    const __mmask64 m = (uint64_t{1} << (n - i)) - 1;  // n - i < 64
    CheckAvx512(_mm512_maskz_loadu_epi8(m, d + i), prev, t, &error);
    incomplete = _mm512_setzero_si512();
  }
  error = _mm512_or_si512(error, incomplete);
  return _mm512_test_epi8_mask(error, error) == 0;
}

#undef WSCORE_AVX512

}  // namespace utf8_lookup
}  // namespace wscore
#endif  // __x86_64__

// utf8_fuzzer: native/utf8.cc (IsUtf8, Utf8Step) against the plain decoder of
// utf8_reference.h. Verdicts, exit states and error offsets must be identical, for the
// whole text, from any start state, and when the text is cut into pieces at fuzzer-chosen
// points and validated incrementally (the way the frame parser validates fragments).
//
// Input layout (fuzz/README.md):
//   byte 0       bits 0-2: start state (0..7) of the chained run; bits 3-7: buffer lead
//                (alignment) 0..31
//   byte 1       bits 0-3: k, the number of cut points
//   k x u16 BE   cut points (mod text length + 1)
//   rest         the text
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../native/utf8.h"
#include "harness.h"
#include "utf8_reference.h"

namespace {

// Utf8Step on a private copy of d[0..n) in a guarded buffer, so an over-read by a SIMD
// kernel past the piece (or before it) is an ASan report, not a silent read of neighbours.
int64_t StepGuarded(const uint8_t* d, size_t n, int state, size_t lead) {
  fuzz::Guarded copy(d, n, lead);
  const int64_t r = wscore::Utf8Step(copy.data(), n, state);
  FUZZ_CHECK(std::equal(d, d + n, copy.data()));  // a validator never writes
  return r;
}

void CheckWhole(const uint8_t* text, size_t n, size_t lead) {
  fuzz::Guarded copy(text, n, lead);
  const bool valid = fuzz::ref::IsValid(text, n);
  FUZZ_CHECK(wscore::IsUtf8(copy.data(), n) == valid);
  for (int state = 0; state <= 7; state++) {
    const int64_t want = fuzz::ref::Decode(text, n, state);
    const int64_t got = wscore::Utf8Step(copy.data(), n, state);
    if (got != want) {
      std::fprintf(stderr, "Utf8Step(len %zu, state %d) = %lld, reference %lld\n", n, state,
                   static_cast<long long>(got), static_cast<long long>(want));
      FUZZ_CHECK(got == want);
    }
  }
}

// Validates the pieces in order, carrying the state, and returns what one call over the
// whole text would: the final state or -(global index + 1) of the first bad byte.
int64_t Chained(const uint8_t* text, size_t n, const std::vector<size_t>& cuts, int state, size_t lead) {
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size(); i++) {
    const size_t to = i < cuts.size() ? cuts[i] : n;
    const int64_t r = StepGuarded(text + from, to - from, state, lead + i);
    // Every piece on its own must match the reference from the same state.
    FUZZ_CHECK(r == fuzz::ref::Decode(text + from, to - from, state));
    if (r < 0) return r - static_cast<int64_t>(from);
    FUZZ_CHECK(r <= 7);
    state = static_cast<int>(r);
    from = to;
  }
  return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint8_t b0 = in.U8();
  const int start_state = b0 & 7;
  const size_t lead = b0 >> 3;
  const int k = in.U8() & 0x0F;
  std::vector<uint16_t> raw_cuts;
  for (int i = 0; i < k; i++) raw_cuts.push_back(in.U16());
  const uint8_t* text = in.rest();
  const size_t n = in.rest_size();

  CheckWhole(text, n, lead);

  std::vector<size_t> cuts;
  for (uint16_t c : raw_cuts) cuts.push_back(c % (n + 1));
  std::sort(cuts.begin(), cuts.end());
  const int64_t chained = Chained(text, n, cuts, start_state, lead);
  FUZZ_CHECK(chained == fuzz::ref::Decode(text, n, start_state));

  // Out-of-range states are refused without touching the tables (the binding checks
  // first, but Utf8Step is also called directly by the frame parser).
  FUZZ_CHECK(wscore::Utf8Step(text, n, 8 + (b0 & 0x7F)) == -1);
  FUZZ_CHECK(wscore::Utf8Step(text, n, -1 - (b0 & 0x7F)) == -1);
  return 0;
}

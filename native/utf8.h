// UTF-8 validation (RFC 3629 §4), shared by the N-API binding and the frame parser.
// The incremental states are the Utf8State values of src/backend/types.ts.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wscore {
enum Utf8State : int {
  kUtf8Accept = 0,   // at a character boundary
  kUtf8Need1 = 1,    // one continuation 80..BF needed
  kUtf8Need2 = 2,    // two needed, next 80..BF
  kUtf8Need2E0 = 3,  // after E0: two needed, next A0..BF
  kUtf8Need2ED = 4,  // after ED: two needed, next 80..9F
  kUtf8Need3 = 5,    // three needed, next 80..BF
  kUtf8Need3F0 = 6,  // after F0: three needed, next 90..BF
  kUtf8Need3F4 = 7,  // after F4: three needed, next 80..8F
};

bool IsUtf8(const uint8_t* data, size_t len);

// Continues validation from `state` over data[0..len). Returns the state after the last
// byte (>= 0), or -(i + 1) when byte i is the first that makes the text invalid.
int64_t Utf8Step(const uint8_t* data, size_t len, int state);
}  // namespace wscore

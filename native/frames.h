// The batch frame parser of RFC 6455 §5 (twin: src/backend/js/frames.ts). Pure C++ over
// bytes and a small state array, so the fuzz targets call it without N-API.
//
// The `ctl` array (doubles, exact integers up to 2^53) and the records (int32, 3 per frame)
// have the layout of ParseCtl / ParseRecord in src/backend/types.ts; the constants below
// must stay equal to those.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wscore {
namespace parse {

// ctl slots.
enum CtlSlot : int {
  kFlags = 0,           // config: bit kExpectMask
  kAllowedRsv = 1,      // config: RSV bits the peer may set (RSV1=4, RSV2=2, RSV3=1)
  kMaxPayload = 2,      // config: largest frame / message payload, 0..2^53-1
  kMessage = 3,         // state: kFragmented | kMsgValidate
  kUtf8 = 4,            // state: Utf8State of the text message in progress
  kMessageBytes = 5,    // state: payload bytes of the message so far
  kMessageFragments = 6,  // state: data frames of the message so far
  kFrame = 7,           // state: 0, or header byte 0 | kInProgress | kFrameValidate
  kFrameRemaining = 8,  // state: payload bytes of the frame in progress still to come
  kFrameKey = 9,        // state: its masking key, big-endian uint32
  kFrameKeyPhase = 10,  // state: payload bytes received so far, mod 4
  kConsumed = 11,       // result: index after the last consumed byte
  kError = 12,          // result: 0 or the close code
  kErrorOffset = 13,    // result: index of the offending byte
  kErrorReason = 14,    // result: a Reason
  kMaxFragments = 15,   // config: most data frames per message, 0..2^53-1; 0: no limit
  kCtlSize = 16,
};

constexpr int kExpectMask = 1;
constexpr int kFragmented = 1;
constexpr int kMsgValidate = 2;
constexpr int kInProgress = 0x100;
constexpr int kFrameValidate = 0x200;

constexpr int kRecordSize = 3;
constexpr int32_t kRecStart = 0x100;
constexpr int32_t kRecEnd = 0x200;
constexpr int32_t kRecUtf8 = 0x400;

constexpr uint64_t kMaxSafe = (uint64_t{1} << 53) - 1;

// ParseError of src/backend/types.ts.
enum Reason : int {
  kNone = 0,
  kRsvNotAllowed = 1,
  kReservedOpcode = 2,
  kControlFragmented = 3,
  kControlTooLong = 4,
  kRsv1OnControl = 5,
  kRsv1OnContinuation = 6,
  kUnexpectedContinuation = 7,
  kExpectedContinuation = 8,
  kMaskRequired = 9,
  kMaskForbidden = 10,
  kLengthMsbSet = 11,
  kFrameTooBig = 12,
  kMessageTooBig = 13,
  kTooManyFragments = 14,
  kInvalidUtf8 = 15,
  kIncompleteUtf8 = 16,
  kClosePayloadOneByte = 17,
  kCloseCodeInvalid = 18,
  kCloseReasonInvalidUtf8 = 19,
};

// Returns -1 if `ctl` holds a state the parser could write, else the first bad slot.
int CheckCtl(const double* ctl);

// Parses buf[start..end) (start <= end, end < 2^31; ctl passed CheckCtl; capacity >= 1
// records). Unmasks payloads in place. Returns the number of records written.
size_t ParseFrames(uint8_t* buf, size_t start, size_t end, double* ctl, int32_t* records, size_t capacity);

}  // namespace parse
}  // namespace wscore

// The batch frame parser (RFC 6455 §5.2-§5.7, RFC 7692 §6.1): one call walks every frame in a
// socket chunk, checks the header rules, unmasks payloads in place, validates UTF-8 of
// uncompressed text and close reasons, and writes one int32 record per frame. The per-frame
// loop allocates nothing and checks bounds before every read.
//
// Twin: src/backend/js/frames.ts. Both must produce the same records, state and errors for
// the same input (test/backend/frames-parity.test.ts); change them together.
#include "frames.h"

#include <cmath>
#include <cstring>
#include <string>

#include "args.h"
#include "mask.h"
#include "modules.h"
#include "utf8.h"

namespace wscore {
namespace parse {
namespace {

inline bool IsIntIn(double v, double lo, double hi) {
  return std::isfinite(v) && std::floor(v) == v && v >= lo && v <= hi;
}

// RFC 6455 §7.4.1/§7.4.2 and the IANA registry: codes a peer may put in a close frame.
inline bool IsWireCloseCode(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

inline uint32_t ReadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void KeyBytes(uint32_t key, uint8_t out[4]) {
  out[0] = static_cast<uint8_t>(key >> 24);
  out[1] = static_cast<uint8_t>(key >> 16);
  out[2] = static_cast<uint8_t>(key >> 8);
  out[3] = static_cast<uint8_t>(key);
}

inline void Unmask(uint8_t* p, size_t len, uint32_t key, size_t phase) {
  if (len == 0) return;
  uint8_t k[4];
  KeyBytes(key, k);
  MaskBytes(p, p, len, k, phase);
}

// Small text payloads are mostly ASCII: OR the bytes 8 at a time and skip the validator
// call (its setup costs more than the check at this size). Same result as Utf8Step from the
// Accept state: all bytes < 0x80 leave it in Accept.
constexpr size_t kInlineAsciiMax = 64;
inline bool IsAsciiSmall(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  uint8_t tail = 0;
  for (; i < n; i++) tail |= p[i];
  return (acc & 0x8080808080808080ull) == 0 && (tail & 0x80) == 0;
}

// One validation step over p[0..n) from `state`: Utf8Step's contract.
inline int64_t ValidateStep(const uint8_t* p, size_t n, int state) {
  if (state == kUtf8Accept && n <= kInlineAsciiMax && IsAsciiSmall(p, n)) return kUtf8Accept;
  return Utf8Step(p, n, state);
}

size_t Fail(double* ctl, size_t pos, int code, Reason reason, size_t offset, size_t n) {
  ctl[kConsumed] = static_cast<double>(pos);
  ctl[kError] = code;
  ctl[kErrorOffset] = static_cast<double>(offset);
  ctl[kErrorReason] = reason;
  return n;
}

inline void PutRecord(int32_t* rec, size_t n, int32_t info, size_t offset, size_t length) {
  int32_t* r = rec + n * kRecordSize;
  r[0] = info;
  r[1] = static_cast<int32_t>(offset);  // < 2^31: end is checked by the binding
  r[2] = static_cast<int32_t>(length);
}

}  // namespace

int CheckCtl(const double* ctl) {
  const double max_safe = static_cast<double>(kMaxSafe);
  if (!IsIntIn(ctl[kFlags], 0, 1)) return kFlags;
  if (!IsIntIn(ctl[kAllowedRsv], 0, 7)) return kAllowedRsv;
  if (!IsIntIn(ctl[kMaxPayload], 0, max_safe)) return kMaxPayload;
  if (!IsIntIn(ctl[kMessage], 0, 3)) return kMessage;
  if (!IsIntIn(ctl[kUtf8], 0, 7)) return kUtf8;
  if (!IsIntIn(ctl[kMessageBytes], 0, max_safe)) return kMessageBytes;
  if (!IsIntIn(ctl[kMessageFragments], 0, max_safe)) return kMessageFragments;
  if (!IsIntIn(ctl[kFrame], 0, 0x3ff)) return kFrame;
  const int frame = static_cast<int>(ctl[kFrame]);
  if (frame != 0 && ((frame & kInProgress) == 0 || (frame & 0x0f) > 2)) return kFrame;
  const double remaining = ctl[kFrameRemaining];
  if (!IsIntIn(remaining, 0, max_safe) || (frame != 0) != (remaining > 0)) return kFrameRemaining;
  if (!IsIntIn(ctl[kFrameKey], 0, 4294967295.0)) return kFrameKey;
  if (!IsIntIn(ctl[kFrameKeyPhase], 0, 3)) return kFrameKeyPhase;
  if (!IsIntIn(ctl[kMaxFragments], 0, max_safe)) return kMaxFragments;
  return -1;
}

size_t ParseFrames(uint8_t* buf, size_t start, size_t end, double* ctl, int32_t* rec, size_t capacity) {
  const bool expect_mask = (static_cast<int>(ctl[kFlags]) & kExpectMask) != 0;
  const int allowed_rsv = static_cast<int>(ctl[kAllowedRsv]);
  const uint64_t max_payload = static_cast<uint64_t>(ctl[kMaxPayload]);
  const uint64_t max_fragments = static_cast<uint64_t>(ctl[kMaxFragments]);
  int message = static_cast<int>(ctl[kMessage]);
  int utf8 = static_cast<int>(ctl[kUtf8]);
  size_t pos = start;
  size_t n = 0;
  ctl[kError] = 0;
  ctl[kErrorOffset] = 0;
  ctl[kErrorReason] = kNone;

  // 1. The payload of a data frame begun in an earlier call (streamed, §5.4 allows any
  //    frame size; the reader assembles the pieces).
  const int frame = static_cast<int>(ctl[kFrame]);
  if (frame != 0 && pos < end) {
    const uint64_t remaining = static_cast<uint64_t>(ctl[kFrameRemaining]);
    const size_t avail = end - pos;
    const size_t take = remaining < avail ? static_cast<size_t>(remaining) : avail;
    const size_t phase = static_cast<size_t>(ctl[kFrameKeyPhase]);
    // The frame's mask bit matched the role when its header was checked (§5.1).
    if (expect_mask) Unmask(buf + pos, take, static_cast<uint32_t>(ctl[kFrameKey]), phase);
    const bool validate = (frame & kFrameValidate) != 0;
    if (validate && take > 0) {
      const int64_t r = ValidateStep(buf + pos, take, utf8);
      if (r < 0) return Fail(ctl, pos, 1007, kInvalidUtf8, pos + static_cast<size_t>(-r - 1), n);
      utf8 = static_cast<int>(r);
    }
    const uint64_t left = remaining - take;
    const bool is_end = left == 0;
    if (is_end && (frame & 0x80) != 0 && validate && utf8 != kUtf8Accept) {
      return Fail(ctl, pos, 1007, kIncompleteUtf8, pos + take, n);
    }
    PutRecord(rec, 0, (frame & 0xff) | (is_end ? kRecEnd : 0) | (validate ? kRecUtf8 : 0), pos, take);
    n = 1;
    pos += take;
    ctl[kUtf8] = utf8;
    if (!is_end) {
      ctl[kFrameRemaining] = static_cast<double>(left);
      ctl[kFrameKeyPhase] = static_cast<double>((phase + take) & 3);
      ctl[kConsumed] = static_cast<double>(pos);
      return n;
    }
    ctl[kFrame] = 0;
    ctl[kFrameRemaining] = 0;
    ctl[kFrameKey] = 0;
    ctl[kFrameKeyPhase] = 0;
  }

  // 2. Whole frames, and the start of the last one if it is a data frame.
  while (n < capacity && end - pos >= 2) {
    const uint8_t b0 = buf[pos];
    const uint8_t b1 = buf[pos + 1];
    const int rsv = (b0 >> 4) & 7;
    const int opcode = b0 & 0x0f;
    const bool fin = (b0 & 0x80) != 0;
    // §5.2: RSV bits only with an extension that defines them.
    if ((rsv & ~allowed_rsv) != 0) return Fail(ctl, pos, 1002, kRsvNotAllowed, pos, n);
    const bool control = opcode >= 8;
    if ((opcode > 2 && opcode < 8) || opcode > 10) return Fail(ctl, pos, 1002, kReservedOpcode, pos, n);
    if (control) {
      // §5.5: control frames are never fragmented and carry <= 125 bytes.
      if (!fin) return Fail(ctl, pos, 1002, kControlFragmented, pos, n);
      if ((b1 & 0x7f) > 125) return Fail(ctl, pos, 1002, kControlTooLong, pos, n);
      // RFC 7692 §6.1: RSV1 ("compressed") only on the first frame of a data message.
      if ((rsv & 4) != 0) return Fail(ctl, pos, 1002, kRsv1OnControl, pos, n);
    } else if (opcode == 0) {
      if ((message & kFragmented) == 0) return Fail(ctl, pos, 1002, kUnexpectedContinuation, pos, n);
      if ((rsv & 4) != 0) return Fail(ctl, pos, 1002, kRsv1OnContinuation, pos, n);
    } else if ((message & kFragmented) != 0) {
      // §5.4: fragments of one message are not interleaved with another message.
      return Fail(ctl, pos, 1002, kExpectedContinuation, pos, n);
    }
    const bool masked = (b1 & 0x80) != 0;
    // §5.1: client-to-server frames are masked, server-to-client frames are not.
    if (masked != expect_mask) {
      return Fail(ctl, pos, 1002, expect_mask ? kMaskRequired : kMaskForbidden, pos, n);
    }
    const unsigned len7 = b1 & 0x7f;
    const size_t header_len = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (end - pos < header_len) break;
    uint64_t len;
    if (len7 < 126) {
      len = len7;
    } else if (len7 == 126) {
      len = (uint64_t{buf[pos + 2]} << 8) | buf[pos + 3];
    } else {
      // The 64-bit length as two 32-bit halves (the TS twin must not lose precision either).
      const uint32_t hi = ReadBe32(buf + pos + 2);
      const uint32_t lo = ReadBe32(buf + pos + 6);
      if ((hi & 0x80000000u) != 0) return Fail(ctl, pos, 1002, kLengthMsbSet, pos, n);
      // >= 2^53 exceeds any maxPayload (<= 2^53-1).
      if (hi > 0x1fffffu) return Fail(ctl, pos, 1009, kFrameTooBig, pos, n);
      len = (uint64_t{hi} << 32) | lo;
    }
    if (len > max_payload) return Fail(ctl, pos, 1009, kFrameTooBig, pos, n);
    const uint32_t key = masked ? ReadBe32(buf + pos + header_len - 4) : 0;
    const size_t payload_at = pos + header_len;

    if (control) {
      // Control frames are consumed whole (<= 131 bytes): wait until all of it is here.
      if (end - payload_at < len) break;
      const size_t clen = static_cast<size_t>(len);
      if (masked) Unmask(buf + payload_at, clen, key, 0);
      if (opcode == 8) {
        // §5.5.1: an optional 2-byte code, then a UTF-8 reason.
        if (clen == 1) return Fail(ctl, pos, 1002, kClosePayloadOneByte, payload_at, n);
        if (clen >= 2) {
          const unsigned code = (unsigned{buf[payload_at]} << 8) | buf[payload_at + 1];
          if (!IsWireCloseCode(code)) return Fail(ctl, pos, 1002, kCloseCodeInvalid, payload_at, n);
          const int64_t r = Utf8Step(buf + payload_at + 2, clen - 2, kUtf8Accept);
          if (r < 0) return Fail(ctl, pos, 1007, kCloseReasonInvalidUtf8, payload_at + 2 + static_cast<size_t>(-r - 1), n);
          if (r != kUtf8Accept) return Fail(ctl, pos, 1007, kCloseReasonInvalidUtf8, payload_at + clen, n);
        }
      }
      PutRecord(rec, n, b0 | kRecStart | kRecEnd, payload_at, clen);
      n++;
      pos = payload_at + clen;
      continue;
    }

    // A data frame: the message's limits (bytes, and frames: each costs bookkeeping
    // whatever its size, so a message of 10^6 tiny fragments is refused; 1008 as in ws).
    const uint64_t bytes = (opcode == 0 ? static_cast<uint64_t>(ctl[kMessageBytes]) : 0) + len;  // < 2^54
    if (bytes > max_payload) return Fail(ctl, pos, 1009, kMessageTooBig, pos, n);
    const uint64_t fragments = (opcode == 0 ? static_cast<uint64_t>(ctl[kMessageFragments]) : 0) + 1;
    if (fragments > max_fragments && max_fragments != 0) return Fail(ctl, pos, 1008, kTooManyFragments, pos, n);
    bool validate;
    if (opcode == 0) {
      validate = (message & kMsgValidate) != 0;
    } else {
      // Text is validated here unless an extension transformed it (an RSV bit on its first
      // frame): the TypeScript side then validates the extension's output.
      validate = opcode == 1 && rsv == 0;
      utf8 = kUtf8Accept;
    }
    if (fin) {
      message = 0;
      ctl[kMessageBytes] = 0;
      ctl[kMessageFragments] = 0;
    } else {
      message = kFragmented | (validate ? kMsgValidate : 0);
      ctl[kMessageBytes] = static_cast<double>(bytes);
      ctl[kMessageFragments] = static_cast<double>(fragments);
    }
    ctl[kMessage] = message;

    const size_t avail = end - payload_at;
    const size_t take = len < avail ? static_cast<size_t>(len) : avail;
    if (masked) Unmask(buf + payload_at, take, key, 0);
    if (validate && take > 0) {
      const int64_t r = ValidateStep(buf + payload_at, take, utf8);
      if (r < 0) return Fail(ctl, pos, 1007, kInvalidUtf8, payload_at + static_cast<size_t>(-r - 1), n);
      utf8 = static_cast<int>(r);
    }
    const bool is_end = take == len;
    if (is_end && fin && validate && utf8 != kUtf8Accept) {
      return Fail(ctl, pos, 1007, kIncompleteUtf8, payload_at + take, n);
    }
    PutRecord(rec, n, b0 | kRecStart | (is_end ? kRecEnd : 0) | (validate ? kRecUtf8 : 0), payload_at, take);
    n++;
    pos = payload_at + take;
    if (!is_end) {
      ctl[kFrame] = (b0 & 0xff) | kInProgress | (validate ? kFrameValidate : 0);
      ctl[kFrameRemaining] = static_cast<double>(len - take);
      ctl[kFrameKey] = key;
      ctl[kFrameKeyPhase] = static_cast<double>(take & 3);
      break;
    }
  }
  ctl[kUtf8] = utf8;
  ctl[kConsumed] = static_cast<double>(pos);
  return n;
}

namespace {

// parseFrames(buf, start, end, ctl, records) -> records written. Arguments are checked in
// the order and with the messages of the TS twin.
napi_value ParseFramesBinding(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (size_t i = argc; i < 5; i++) argv[i] = undef;

  args::Bytes buf;
  if (!args::GetBytes(env, argv[0], &buf)) return args::ThrowType(env, "buf must be a Uint8Array");
  double start = 0;
  double end = 0;
  if (napi_get_value_double(env, argv[1], &start) != napi_ok || !IsIntIn(start, 0, 2147483647.0)) {
    return args::ThrowRange(env, "start must be an integer from 0 to 2^31-1");
  }
  if (napi_get_value_double(env, argv[2], &end) != napi_ok || !IsIntIn(end, start, 2147483647.0) ||
      end > static_cast<double>(buf.length)) {
    return args::ThrowRange(env, "end must be an integer from start to buf.length (at most 2^31-1)");
  }
  napi_typedarray_type type;
  size_t ctl_len = 0;
  void* ctl_data = nullptr;
  if (napi_get_typedarray_info(env, argv[3], &type, &ctl_len, &ctl_data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array) {
    return args::ThrowType(env, "ctl must be a Float64Array");
  }
  if (ctl_data == nullptr || ctl_len < static_cast<size_t>(kCtlSize)) {
    return args::ThrowRange(env, "ctl must have at least 16 slots");
  }
  size_t rec_len = 0;
  void* rec_data = nullptr;
  if (napi_get_typedarray_info(env, argv[4], &type, &rec_len, &rec_data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array) {
    return args::ThrowType(env, "records must be an Int32Array");
  }
  if (rec_data == nullptr || rec_len < static_cast<size_t>(kRecordSize)) {
    return args::ThrowRange(env, "records must hold at least one record (3 slots)");
  }
  double* ctl = static_cast<double*>(ctl_data);
  const int bad = CheckCtl(ctl);
  if (bad >= 0) {
    const std::string message = "ctl[" + std::to_string(bad) + "] is out of range";  // error path only
    return args::ThrowRange(env, message.c_str());
  }
  const size_t n = ParseFrames(buf.data, static_cast<size_t>(start), static_cast<size_t>(end), ctl,
                               static_cast<int32_t*>(rec_data), rec_len / kRecordSize);
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(n), &result);
  return result;
}

}  // namespace
}  // namespace parse

void InitFrames(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  if (napi_create_function(env, "parseFrames", NAPI_AUTO_LENGTH, parse::ParseFramesBinding, nullptr, &fn) == napi_ok) {
    exports.Set("parseFrames", Napi::Value(env, fn));
  }
}

}  // namespace wscore

// permessage-deflate (RFC 7692 §7.2) streams over Node's bundled zlib, and their N-API
// classes Inflater and Deflater. Everything is synchronous: a WebSocket message is small
// next to the cost of a thread-pool round trip (docs/benchmarks.md, "permessage-deflate").
#include "deflate.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "args.h"
#include "modules.h"

namespace wscore {
namespace deflate {
namespace {

// zlib counts bytes in uInt; larger inputs and outputs are fed in pieces of this size.
constexpr size_t kMaxIo = size_t{1} << 30;
// RFC 7692 §7.2.1: Z_SYNC_FLUSH ends with an empty stored block whose last 4 octets are
// these; the sender removes them and the receiver appends them (§7.2.2).
constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
// Every block handed to zlib is preceded by its size, so frees can be counted.
constexpr size_t kHeader = alignof(std::max_align_t);

voidpf CountingAlloc(voidpf opaque, uInt items, uInt size) {
  const size_t n = static_cast<size_t>(items) * static_cast<size_t>(size);  // < 2^64: no overflow
  if (n > SIZE_MAX - kHeader) return Z_NULL;
  void* block = std::malloc(n + kHeader);
  if (block == nullptr) return Z_NULL;
  std::memcpy(block, &n, sizeof n);
  static_cast<Allocation*>(opaque)->bytes += n;
  return static_cast<uint8_t*>(block) + kHeader;
}

void CountingFree(voidpf opaque, voidpf address) {
  if (address == Z_NULL) return;
  uint8_t* block = static_cast<uint8_t*>(address) - kHeader;
  size_t n;
  std::memcpy(&n, block, sizeof n);
  static_cast<Allocation*>(opaque)->bytes -= n;
  std::free(block);
}

void PrepareStream(z_stream* strm, Allocation* alloc) {
  *strm = z_stream{};
  strm->zalloc = CountingAlloc;
  strm->zfree = CountingFree;
  strm->opaque = alloc;
}

// One per thread (Node workers each have their own); allocated on first use.
uint8_t* Scratch() {
  thread_local std::unique_ptr<uint8_t[]> scratch(new (std::nothrow) uint8_t[Output::kScratchSize]);
  return scratch.get();
}

}  // namespace

Output::Output() : data_(Scratch()), capacity_(data_ != nullptr ? kScratchSize : 0) {}

Output::~Output() {
  if (heap_) std::free(data_);
}

bool Output::Grow(size_t limit) {
  if (capacity_ >= limit) return false;
  size_t want = capacity_ < kScratchSize ? kScratchSize : (capacity_ > SIZE_MAX / 2 ? SIZE_MAX : capacity_ * 2);
  if (want > limit) want = limit;
  if (heap_) {
    void* grown = std::realloc(data_, want);
    if (grown == nullptr) return false;
    data_ = static_cast<uint8_t*>(grown);
  } else {
    uint8_t* block = static_cast<uint8_t*>(std::malloc(want));
    if (block == nullptr) return false;
    if (size_ != 0) std::memcpy(block, data_, size_);
    data_ = block;
    heap_ = true;
  }
  capacity_ = want;
  return true;
}

uint8_t* Output::ReleaseHeap() {
  if (!heap_) return nullptr;
  uint8_t* block = data_;
  if (capacity_ - size_ > size_ / 8) {  // give back a doubling's slack; keep a near fit
    void* shrunk = std::realloc(block, size_ == 0 ? 1 : size_);
    if (shrunk != nullptr) block = static_cast<uint8_t*>(shrunk);
  }
  heap_ = false;
  data_ = nullptr;
  capacity_ = size_ = 0;
  return block;
}

bool InflateStream::Init(int window_bits, bool reset_each_message) {
  End();
  PrepareStream(&strm_, &alloc_);
  // Negative window bits: raw deflate, no zlib header or checksum (RFC 7692 §7.2).
  if (inflateInit2(&strm_, -window_bits) != Z_OK) return false;
  open_ = true;
  reset_each_message_ = reset_each_message;
  ended_ = false;
  message_in_ = 0;
  return true;
}

Status InflateStream::Run(const uint8_t* data, size_t len, size_t limit, Output* out) {
  size_t done_in = 0;
  for (;;) {
    const size_t in_now = std::min(len - done_in, kMaxIo);
    strm_.next_in = const_cast<Bytef*>(data + done_in);  // zlib only reads through next_in
    strm_.avail_in = static_cast<uInt>(in_now);
    if (out->size() == out->capacity() && !out->Grow(limit)) {
      return out->size() >= limit ? Status::kTooBig : Status::kNoMemory;
    }
    const size_t out_now = std::min({out->capacity() - out->size(), limit - out->size(), kMaxIo});
    strm_.next_out = out->end();
    strm_.avail_out = static_cast<uInt>(out_now);
    const int ret = ::inflate(&strm_, Z_SYNC_FLUSH);
    done_in += in_now - strm_.avail_in;
    out->Commit(out_now - strm_.avail_out);
    // limit is max_output + 1: reaching it means the message passed the cap. Stop here,
    // having allocated at most the cap plus one growth step (the bomb guard).
    if (out->size() >= limit) return Status::kTooBig;
    if (ret == Z_STREAM_END) {
      ended_ = true;
      return Status::kOk;
    }
    if (ret == Z_MEM_ERROR) return Status::kNoMemory;
    // Z_BUF_ERROR only says "no progress possible": all input used and nothing pending.
    if (ret != Z_OK && ret != Z_BUF_ERROR) return Status::kDataError;
    if (done_in == len && strm_.avail_out != 0) return Status::kOk;
  }
}

Status InflateStream::Inflate(const uint8_t* data, size_t len, bool fin, size_t max_output, Output* out) {
  const size_t limit = max_output == SIZE_MAX ? SIZE_MAX : max_output + 1;
  Status status = Status::kOk;
  // After a block with BFINAL set (RFC 7692 §7.2.3.4 allows one) the deflate stream is over:
  // what follows in the message, normally the 4 octets below, is not inflated.
  if (!ended_ && len != 0) status = Run(data, len, limit, out);
  message_in_ += len;
  // §7.2.2: append 00 00 FF FF. Not to a message with no payload at all: that message is
  // empty, and the 4 octets alone would leave the inflater inside a stored block header.
  if (status == Status::kOk && fin && !ended_ && message_in_ != 0) status = Run(kTail, sizeof kTail, limit, out);
  if (status != Status::kOk) {
    Reset();
    return status;
  }
  if (fin) {
    // §7.1.1: without context takeover each message starts from an empty window. A stream
    // ended by BFINAL cannot continue either: the next message starts a new one.
    if (reset_each_message_ || ended_) inflateReset(&strm_);
    ended_ = false;
    message_in_ = 0;
  }
  return Status::kOk;
}

void InflateStream::Reset() {
  if (open_) inflateReset(&strm_);
  ended_ = false;
  message_in_ = 0;
}

void InflateStream::End() {
  if (open_) inflateEnd(&strm_);
  open_ = false;
}

bool DeflateStream::Init(int window_bits, int mem_level, int level, int strategy, bool reset_each_message) {
  End();
  PrepareStream(&strm_, &alloc_);
  // zlib refuses a 256-byte window (8) for raw deflate. It compresses with 9 instead, which
  // still fits a peer limited to 8: zlib's matcher never reaches back further than
  // window size - MIN_LOOKAHEAD (512 - 262 = 250 bytes, below 256), so every distance it
  // emits is valid in a 256-byte window. test/backend/deflate.test.ts checks it against an
  // inflater whose window is 8.
  const int bits = window_bits == 8 ? 9 : window_bits;
  if (deflateInit2(&strm_, level, Z_DEFLATED, -bits, mem_level, strategy) != Z_OK) return false;
  open_ = true;
  reset_each_message_ = reset_each_message;
  return true;
}

bool DeflateStream::Deflate(const uint8_t* data, size_t len, bool fin, Output* out) {
  size_t done_in = 0;
  for (;;) {
    const size_t in_now = std::min(len - done_in, kMaxIo);
    const bool last = done_in + in_now == len;
    strm_.next_in = const_cast<Bytef*>(data + done_in);
    strm_.avail_in = static_cast<uInt>(in_now);
    do {
      if (out->size() == out->capacity() && !out->Grow(SIZE_MAX)) return false;
      const size_t out_now = std::min(out->capacity() - out->size(), kMaxIo);
      strm_.next_out = out->end();
      strm_.avail_out = static_cast<uInt>(out_now);
      // Z_SYNC_FLUSH: the peer can decompress everything sent so far (RFC 7692 §7.2.1).
      const int ret = ::deflate(&strm_, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      out->Commit(out_now - strm_.avail_out);
      if (ret == Z_BUF_ERROR) break;  // no input since the last flush: nothing to write
      if (ret != Z_OK) return false;
    } while (strm_.avail_out == 0 || strm_.avail_in != 0);
    done_in += in_now;
    if (last) break;
  }
  if (fin) {
    const size_t n = out->size();
    if (n >= 4 && std::memcmp(out->data() + n - 4, kTail, 4) == 0) out->Truncate(n - 4);
    // A compressed message is never empty: a bare 0x00 is an empty stored block once the
    // receiver appends 00 00 FF FF (§7.2.3.6). An empty payload would leave the receiver's
    // inflater mid-header. (It happens when the last frame adds no input after a flush.)
    if (out->size() == 0) {
      if (out->capacity() == 0 && !out->Grow(SIZE_MAX)) return false;
      out->data()[0] = 0x00;
      out->Commit(1);
    }
    if (reset_each_message_) deflateReset(&strm_);  // §7.1.1: no context takeover
  }
  return true;
}

void DeflateStream::Reset() {
  if (open_) deflateReset(&strm_);
}

void DeflateStream::End() {
  if (open_) deflateEnd(&strm_);
  open_ = false;
}

}  // namespace deflate

namespace {

using deflate::Output;
using deflate::Status;

bool GetInt(const Napi::Value& v, int lo, int hi, int* out) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || std::floor(d) != d) return false;
  *out = static_cast<int>(d);
  return true;
}

Napi::Value ThrowClosed(Napi::Env env, const char* message) {
  Napi::Error::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// The Output as a JS Buffer: small results are copied out of the scratch buffer; a heap
// block is handed over as is (no copy) and freed with the Buffer.
Napi::Value ToBuffer(Napi::Env env, Output* out) {
  if (!out->owns_heap()) return Napi::Buffer<uint8_t>::Copy(env, out->data(), out->size());
  const size_t n = out->size();
  uint8_t* block = out->ReleaseHeap();
  napi_value result;
  auto free_block = [](napi_env, void* data, void*) { std::free(data); };
  if (napi_create_external_buffer(env, n, block, free_block, nullptr, &result) == napi_ok) return Napi::Value(env, result);
  // Runtimes that forbid external buffers (a V8 sandbox): copy instead.
  Napi::Value copy = env.IsExceptionPending() ? env.Undefined() : Napi::Buffer<uint8_t>::Copy(env, block, n);
  std::free(block);
  return copy;
}

// Keeps V8's count of external memory in step with what zlib holds, so that the garbage
// collector sees the real cost of an abandoned stream.
class Tracked {
 protected:
  void Sync(Napi::Env env, size_t now) {
    const int64_t bytes = static_cast<int64_t>(now);
    if (bytes != reported_) Napi::MemoryManagement::AdjustExternalMemory(env, bytes - reported_);
    reported_ = bytes;
  }
  int64_t reported_ = 0;
};

class Inflater : public Napi::ObjectWrap<Inflater>, Tracked {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Inflater",
                       {InstanceMethod<&Inflater::Inflate>("inflate"), InstanceMethod<&Inflater::Reset>("reset"),
                        InstanceMethod<&Inflater::Close>("close")});
  }

  // new Inflater(windowBits, noContextTakeover). src/backend checks the options first.
  explicit Inflater(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Inflater>(info) {
    Napi::Env env = info.Env();
    int bits = 0;
    if (!GetInt(info[0], 8, 15, &bits)) {
      args::ThrowRange(env, "windowBits must be an integer from 8 to 15");
      return;
    }
    if (!info[1].IsBoolean()) {
      args::ThrowType(env, "noContextTakeover must be a boolean");
      return;
    }
    if (!stream_.Init(bits, info[1].As<Napi::Boolean>().Value())) {
      Napi::Error::New(env, "zlib inflateInit2 failed").ThrowAsJavaScriptException();
      return;
    }
    Sync(env, stream_.allocated());
  }

  ~Inflater() override {
    stream_.End();
    if (reported_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported_);
  }

 private:
  // inflate(data, fin, maxOutput): Buffer, or a Status number (1 data error, 2 too big, 3 no memory).
  Napi::Value Inflate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!stream_.open()) return ThrowClosed(env, "the inflater is closed");
    args::Bytes data{};
    if (!args::GetBytes(env, info[0], &data)) return args::ThrowType(env, "data must be a Uint8Array"), env.Undefined();
    if (!info[1].IsBoolean()) return args::ThrowType(env, "fin must be a boolean"), env.Undefined();
    if (!info[2].IsNumber()) return args::ThrowRange(env, "maxOutput must be a non-negative number"), env.Undefined();
    const double cap = info[2].As<Napi::Number>().DoubleValue();
    if (!(cap >= 0)) return args::ThrowRange(env, "maxOutput must be a non-negative number"), env.Undefined();
    // Doubles past 2^63 (Infinity included) mean "no cap" on any real machine.
    const size_t max_output = cap >= 9.2e18 ? SIZE_MAX : static_cast<size_t>(cap);
    Output out;
    const Status status = stream_.Inflate(data.data, data.length, info[1].As<Napi::Boolean>().Value(), max_output, &out);
    Sync(env, stream_.allocated());  // the window is allocated on first use
    if (status != Status::kOk) return Napi::Number::New(env, static_cast<int>(status));
    return ToBuffer(env, &out);
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    stream_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    stream_.End();
    Sync(info.Env(), 0);
    return info.Env().Undefined();
  }

  deflate::InflateStream stream_;
};

class Deflater : public Napi::ObjectWrap<Deflater>, Tracked {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Deflater",
                       {InstanceMethod<&Deflater::Deflate>("deflate"), InstanceMethod<&Deflater::Reset>("reset"),
                        InstanceMethod<&Deflater::Close>("close")});
  }

  // new Deflater(windowBits, memLevel, level, strategy, noContextTakeover).
  explicit Deflater(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Deflater>(info) {
    Napi::Env env = info.Env();
    int bits = 0, mem_level = 0, level = 0, strategy = 0;
    const char* bad = !GetInt(info[0], 8, 15, &bits)       ? "windowBits must be an integer from 8 to 15"
                      : !GetInt(info[1], 1, 9, &mem_level)  ? "memLevel must be an integer from 1 to 9"
                      : !GetInt(info[2], -1, 9, &level)     ? "level must be an integer from -1 to 9"
                      : !GetInt(info[3], 0, 4, &strategy)   ? "strategy must be an integer from 0 to 4"
                                                            : nullptr;
    if (bad != nullptr) {
      args::ThrowRange(env, bad);
      return;
    }
    if (!info[4].IsBoolean()) {
      args::ThrowType(env, "noContextTakeover must be a boolean");
      return;
    }
    if (!stream_.Init(bits, mem_level, level, strategy, info[4].As<Napi::Boolean>().Value())) {
      Napi::Error::New(env, "zlib deflateInit2 failed").ThrowAsJavaScriptException();
      return;
    }
    Sync(env, stream_.allocated());
  }

  ~Deflater() override {
    stream_.End();
    if (reported_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported_);
  }

 private:
  // deflate(data, fin): Buffer holding the compressed bytes for this piece of the message.
  Napi::Value Deflate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!stream_.open()) return ThrowClosed(env, "the deflater is closed");
    args::Bytes data{};
    if (!args::GetBytes(env, info[0], &data)) return args::ThrowType(env, "data must be a Uint8Array"), env.Undefined();
    if (!info[1].IsBoolean()) return args::ThrowType(env, "fin must be a boolean"), env.Undefined();
    Output out;
    if (!stream_.Deflate(data.data, data.length, info[1].As<Napi::Boolean>().Value(), &out)) {
      stream_.Reset();
      Napi::Error::New(env, "zlib deflate failed (out of memory)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return ToBuffer(env, &out);
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    stream_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    stream_.End();
    Sync(info.Env(), 0);
    return info.Env().Undefined();
  }

  deflate::DeflateStream stream_;
};

}  // namespace

void InitDeflate(Napi::Env env, Napi::Object exports) {
  exports.Set("Inflater", Inflater::Define(env));
  exports.Set("Deflater", Deflater::Define(env));
}

}  // namespace wscore

// permessage-deflate (RFC 7692) compression streams over zlib, free of N-API so that a
// fuzz target can drive them directly. deflate.cc binds them as the JS classes Inflater and
// Deflater (src/backend/types.ts documents the contract; src/backend/js/deflate.ts is the
// pure-TS twin and behaves identically).
//
// zlib comes from Node itself: node-gyp puts Node's include dir (which ships zlib.h, the
// version Node bundles) ahead of the system's, and the node binary exports the symbols, so
// the addon links no zlib of its own and always matches the one node:zlib uses.
#pragma once
#include <zlib.h>

#include <cstddef>
#include <cstdint>

namespace wscore {
namespace deflate {

// Where output goes: first a per-thread 64 KiB scratch buffer (so a small message costs no
// allocation besides its result), then, if more is needed, one heap block grown by doubling
// and clamped to the caller's limit. A bomb therefore allocates at most limit + 64 KiB.
class Output {
 public:
  static constexpr size_t kScratchSize = 64 * 1024;

  Output();
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  uint8_t* end() const { return data_ + size_; }
  void Commit(size_t n) { size_ += n; }
  void Truncate(size_t n) { size_ = n; }
  // Makes capacity > size, growing at most to `limit` bytes. False if out of memory or
  // already at the limit.
  bool Grow(size_t limit);
  // Whether the bytes live in the heap block (true) or in the shared scratch buffer.
  bool owns_heap() const { return heap_; }
  // Gives the heap block to the caller (to free with std::free), shrunk to size().
  uint8_t* ReleaseHeap();

 private:
  uint8_t* data_;
  size_t size_ = 0;
  size_t capacity_;
  bool heap_ = false;
};

enum class Status { kOk = 0, kDataError = 1, kTooBig = 2, kNoMemory = 3 };

// Counts the bytes zlib allocates through it, so the binding can tell V8 how much native
// memory a stream holds (and benchmarks can read it).
struct Allocation {
  size_t bytes = 0;
};

// Raw-deflate decompressor for one direction of one connection.
class InflateStream {
 public:
  InflateStream() = default;
  ~InflateStream() { End(); }
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;

  // window_bits 8..15 (zlib's raw inflate accepts 8). reset_each_message: the peer does not
  // use context takeover (RFC 7692 §7.1.1), so the stream resets after each message.
  bool Init(int window_bits, bool reset_each_message);
  // Inflates `data`, a piece of a compressed message; `fin` ends the message, appending the
  // 00 00 FF FF that the sender removed (RFC 7692 §7.2.2). Output past `max_output` bytes
  // stops it with kTooBig. After any status but kOk the stream has been reset.
  Status Inflate(const uint8_t* data, size_t len, bool fin, size_t max_output, Output* out);
  void Reset();
  void End();
  bool open() const { return open_; }
  size_t allocated() const { return alloc_.bytes; }

 private:
  Status Run(const uint8_t* data, size_t len, size_t limit, Output* out);

  z_stream strm_{};
  Allocation alloc_;
  bool open_ = false;
  bool reset_each_message_ = false;
  bool ended_ = false;        // a block with BFINAL ended the deflate stream of this message
  uint64_t message_in_ = 0;   // compressed bytes of the current message so far
};

// Raw-deflate compressor for one direction of one connection.
class DeflateStream {
 public:
  DeflateStream() = default;
  ~DeflateStream() { End(); }
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;

  // window_bits 8..15 (8 is compressed with 9: see deflate.cc), mem_level 1..9, level -1..9,
  // strategy 0..4. reset_each_message: no context takeover for our side (RFC 7692 §7.1.1).
  bool Init(int window_bits, int mem_level, int level, int strategy, bool reset_each_message);
  // Compresses a piece of a message with Z_SYNC_FLUSH so that everything given so far can be
  // decompressed by the peer; `fin` ends the message: the trailing 00 00 FF FF is removed
  // (RFC 7692 §7.2.1). False only if zlib fails (out of memory).
  bool Deflate(const uint8_t* data, size_t len, bool fin, Output* out);
  void Reset();
  void End();
  bool open() const { return open_; }
  size_t allocated() const { return alloc_.bytes; }

 private:
  z_stream strm_{};
  Allocation alloc_;
  bool open_ = false;
  bool reset_each_message_ = false;
};

}  // namespace deflate
}  // namespace wscore

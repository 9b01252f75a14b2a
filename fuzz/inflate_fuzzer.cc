// inflate_fuzzer: native/deflate.cc (InflateStream, DeflateStream, Output), permessage-deflate
// of RFC 7692, linked against Debian's zlib (fuzz/build.sh compiles deflate.cc against
// /usr/include/zlib.h, not the copy in Node's headers, and links -lz: header and library are
// the same zlib).
//
// Mode 0 (byte 0 bit 7 clear): arbitrary compressed bytes, cut into pieces at fuzzer-chosen
// points with fuzzer-chosen FIN flags and output caps, through InflateStream. Each call is
// compared with a plain reference: the same pieces through a bare zlib raw inflater with no
// cap, applying RFC 7692 §7.2.2 (append 00 00 FF FF at the end of a non-empty message, stop
// at a BFINAL block, reset per message without context takeover). Expected:
//   reference fails before producing more than cap bytes  -> kDataError
//   reference produces more than cap bytes (error or not) -> kTooBig
//   otherwise                                             -> kOk with identical bytes
// and never kNoMemory. The bomb guard is measured with the sanitizer's allocation hooks: the
// output block never exceeds max(64 KiB scratch, cap + 1), and the heap in use during a call
// never grows by more than zlib's own state plus twice that block (a realloc briefly holds
// the old and the new block) plus the one-time 64 KiB scratch.
//
// Mode 1 (bit 7 set): round trip. The input is plaintext, cut into pieces and messages,
// compressed by DeflateStream with fuzzer-chosen window bits (8..15; 8 is compressed with 9,
// see deflate.cc), memLevel, level, strategy and context takeover, then decompressed by an
// InflateStream whose window is no larger than needed (the peer's announced bits, down to 8),
// in two pieces cut at a fuzzer-chosen point. Every message must come back byte for byte,
// also with a cap of exactly its length; a cap one byte short must give kTooBig.
//
// Input layout: fuzz/README.md.
#include <sanitizer/allocator_interface.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../native/deflate.h"
#include "harness.h"

namespace {

using wscore::deflate::DeflateStream;
using wscore::deflate::InflateStream;
using wscore::deflate::Output;
using wscore::deflate::Status;

// ---- heap accounting through the sanitizer's malloc/free hooks ------------------------
// Only allocations made by this thread while `t_tracking` is set count; libFuzzer's own
// threads (the RSS watcher) are left out.
thread_local bool t_tracking = false;
thread_local int64_t t_live = 0;
thread_local int64_t t_peak = 0;

void MallocHook(const volatile void* ptr, size_t size) {
  if (!t_tracking || ptr == nullptr) return;
  t_live += static_cast<int64_t>(size);
  if (t_live > t_peak) t_peak = t_live;
}

void FreeHook(const volatile void* ptr) {
  if (!t_tracking || ptr == nullptr) return;
  t_live -= static_cast<int64_t>(__sanitizer_get_allocated_size(const_cast<const void*>(ptr)));
}

struct Tracking {
  Tracking() {
    t_live = 0;
    t_peak = 0;
    t_tracking = true;
  }
  ~Tracking() { Stop(); }
  void Stop() { t_tracking = false; }
  int64_t peak() const { return t_peak; }
};

constexpr uint8_t kTail[4] = {0x00, 0x00, 0xFF, 0xFF};

const size_t kCaps[16] = {0,     1,     2,      10,     100,       255,        256,      1000,
                          4095,  4096,  65535,  65536,  65537,     1 << 20,    16 << 20, SIZE_MAX};

// ---- the reference: bare zlib, no cap ---------------------------------------------------
class Reference {
 public:
  explicit Reference(int window_bits, bool reset_each_message) : reset_(reset_each_message) {
    FUZZ_CHECK(inflateInit2(&z_, -window_bits) == Z_OK);
  }
  ~Reference() { inflateEnd(&z_); }
  Reference(const Reference&) = delete;
  Reference& operator=(const Reference&) = delete;

  // One piece of a message. Appends all output to *out; false on a zlib data error.
  bool Piece(const uint8_t* data, size_t len, bool fin, std::vector<uint8_t>* out) {
    bool ok = true;
    far_distance_ = false;
    if (!ended_ && len != 0) ok = Feed(data, len, out);
    message_in_ += len;
    if (ok && fin && !ended_ && message_in_ != 0) ok = Feed(kTail, 4, out);
    if (!ok || fin) {
      if (!ok || reset_ || ended_) inflateReset(&z_);
      ended_ = false;
      message_in_ = 0;
    }
    return ok;
  }
  // Whether the last Piece failed on a back-reference beyond the window. zlib checks a
  // distance against the window only for bytes that are not in the current output buffer:
  // a distance up to (bytes already written in this inflate() call + window fill) passes.
  // So whether a peer's slightly-too-far reference (one that breaks the negotiated
  // *_max_window_bits, RFC 7692 §7.1.2) is caught depends on the output buffer sizes, which
  // differ between this reference (4 KiB) and the stream under test (64 KiB and up).
  bool FailedOnFarDistance() const { return far_distance_; }

  // After the stream under test gave up (kTooBig), the reference forgets the message too.
  void Abandon() {
    inflateReset(&z_);
    ended_ = false;
    message_in_ = 0;
  }

 private:
  bool Feed(const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
    z_.next_in = const_cast<Bytef*>(data);  // zlib does not write through next_in
    z_.avail_in = static_cast<uInt>(len);   // fuzz inputs are far below 4 GiB
    uint8_t buf[4096];
    for (;;) {
      z_.next_out = buf;
      z_.avail_out = sizeof buf;
      const int ret = inflate(&z_, Z_SYNC_FLUSH);
      out->insert(out->end(), buf, buf + (sizeof buf - z_.avail_out));
      if (ret == Z_STREAM_END) {
        ended_ = true;  // BFINAL: the rest of the message is not deflate data
        return true;
      }
      if (ret != Z_OK && ret != Z_BUF_ERROR) {
        far_distance_ = ret == Z_DATA_ERROR && z_.msg != nullptr && std::strcmp(z_.msg, "invalid distance too far back") == 0;
        return false;
      }
      if (z_.avail_in == 0 && z_.avail_out != 0) return true;
      if (ret == Z_BUF_ERROR && z_.avail_out != 0) return true;  // no progress possible
    }
  }

  z_stream z_{};
  bool reset_;
  bool far_distance_ = false;
  bool ended_ = false;
  uint64_t message_in_ = 0;
};

std::vector<size_t> Cut(const std::vector<uint16_t>& raw, size_t len) {
  std::vector<size_t> cuts;
  for (uint16_t c : raw) cuts.push_back(c % (len + 1));
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

// Inflates one piece with the bomb-guard measurements; returns the status and copies the
// output (which may live in the shared scratch buffer) to *got.
Status MeasuredInflate(InflateStream* s, const uint8_t* data, size_t len, bool fin, size_t cap,
                       std::vector<uint8_t>* got) {
  // The piece gets its own exact-size buffer: zlib must not read past it.
  fuzz::Guarded in(data, len, len);
  const size_t zlib_before = s->allocated();
  Status st;
  int64_t peak;
  size_t capacity;
  bool heap;
  {
    Tracking track;
    Output out;
    st = s->Inflate(in.data(), len, fin, cap, &out);
    track.Stop();  // the harness's own copy below is not the inflater's memory
    peak = track.peak();
    capacity = out.capacity();
    heap = out.owns_heap();
    got->assign(out.data(), out.data() + out.size());
  }
  const size_t limit = cap == SIZE_MAX ? SIZE_MAX : cap + 1;
  static const bool verbose = std::getenv("WSCORE_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "inflate %zu bytes fin=%d cap=%zu: status %d, output %zu, block %zu (%s), heap peak %lld\n", len,
                 fin ? 1 : 0, cap, static_cast<int>(st), got->size(), capacity, heap ? "heap" : "scratch",
                 static_cast<long long>(peak));
  }
  // The output block: the scratch buffer, or one heap block clamped to the limit.
  FUZZ_CHECK(heap ? capacity <= limit : capacity == Output::kScratchSize);
  if (st == Status::kOk) FUZZ_CHECK(got->size() <= cap);
  if (limit != SIZE_MAX) {
    const int64_t zlib_growth = static_cast<int64_t>(s->allocated() - zlib_before);
    const int64_t bound = zlib_growth + 2 * static_cast<int64_t>(limit) + static_cast<int64_t>(Output::kScratchSize) + 4096;
    if (peak > bound) {
      std::fprintf(stderr, "heap peak %lld during inflate with cap %zu (bound %lld)\n", static_cast<long long>(peak), cap,
                   static_cast<long long>(bound));
      FUZZ_CHECK(peak <= bound);
    }
  }
  return st;
}

void InflateMode(fuzz::Reader* in, uint8_t b0) {
  const int bits = 8 + (b0 & 7);
  const bool reset = (b0 & 8) != 0;
  const uint8_t caps = in->U8();
  const int k = in->U8() & 0x0F;
  const uint16_t fins = in->U16();
  std::vector<uint16_t> raw;
  for (int i = 0; i < k; i++) raw.push_back(in->U16());
  const uint8_t* data = in->rest();
  const size_t len = in->rest_size();
  const std::vector<size_t> cuts = Cut(raw, len);

  InflateStream stream;
  FUZZ_CHECK(stream.Init(bits, reset));
  Reference ref(bits, reset);
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size(); i++) {
    const size_t to = i < cuts.size() ? cuts[i] : len;
    const bool fin = i == cuts.size() || ((fins >> (i & 15)) & 1) != 0;
    const size_t cap = kCaps[(i & 1) ? (caps >> 4) : (caps & 0x0F)];
    std::vector<uint8_t> want;
    const bool ref_ok = ref.Piece(data + from, to - from, fin, &want);
    std::vector<uint8_t> got;
    const Status st = MeasuredInflate(&stream, data + from, to - from, fin, cap, &got);
    FUZZ_CHECK(st != Status::kNoMemory);
    if (want.size() > cap) {
      FUZZ_CHECK(st == Status::kTooBig);
      // The stream under test reset itself; a reference that finished the message may
      // still hold its window (context takeover), so it forgets the message too.
      if (ref_ok) ref.Abandon();
    } else if (!ref_ok) {
      // The stream under test may accept a too-far distance that the reference's smaller
      // output buffer exposed (see FailedOnFarDistance); from there the two legitimately
      // disagree, so the comparison of this input ends (the memory checks above still ran).
      if (st == Status::kOk && ref.FailedOnFarDistance()) return;
      FUZZ_CHECK(st == Status::kDataError);
    } else {
      FUZZ_CHECK(st == Status::kOk);
      FUZZ_CHECK(got == want);
    }
    from = to;
  }
}

void RoundTripMode(fuzz::Reader* in, uint8_t b0) {
  const int dbits = 8 + (b0 & 7);
  const bool dreset = (b0 & 8) != 0;
  // Without context takeover on the sender the receiver may still keep its window; the
  // reverse would lose back-references, so the receiver resets only if the sender does.
  const bool ireset = dreset && (b0 & 16) != 0;
  const bool exact_cap = (b0 & 32) != 0;
  const int mem_level = 1 + in->U8() % 9;
  const int level = static_cast<int>(in->U8() % 11) - 1;
  const uint8_t b3 = in->U8();
  const int strategy = b3 % 5;
  const int ibits = std::min(15, dbits + (b3 >> 4));  // any window >= the sender's
  const int k = in->U8() & 0x0F;
  const uint16_t fins = in->U16();
  std::vector<uint16_t> raw;
  for (int i = 0; i < k; i++) raw.push_back(in->U16());
  const uint8_t split = in->U8();
  const uint8_t* data = in->rest();
  const size_t len = in->rest_size();
  const std::vector<size_t> cuts = Cut(raw, len);

  DeflateStream deflater;
  FUZZ_CHECK(deflater.Init(dbits, mem_level, level, strategy, dreset));
  InflateStream inflater;
  FUZZ_CHECK(inflater.Init(ibits, ireset));
  bool first_message = true;
  std::vector<uint8_t> message;     // plaintext of the message being built
  std::vector<uint8_t> compressed;  // its compressed form
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size(); i++) {
    const size_t to = i < cuts.size() ? cuts[i] : len;
    const bool fin = i == cuts.size() || ((fins >> (i & 15)) & 1) != 0;
    {
      Output out;
      FUZZ_CHECK(deflater.Deflate(data + from, to - from, fin, &out));
      compressed.insert(compressed.end(), out.data(), out.data() + out.size());
    }
    message.insert(message.end(), data + from, data + to);
    from = to;
    if (!fin) continue;
    FUZZ_CHECK(!compressed.empty());  // §7.2.3.6: a compressed message is never empty
    const size_t at = compressed.size() * split / 256;
    const size_t cap = exact_cap ? message.size() : SIZE_MAX;
    if (first_message && !message.empty()) {
      // A cap one byte short of the message fails, on a fresh stream of the same kind.
      InflateStream probe;
      FUZZ_CHECK(probe.Init(ibits, ireset));
      std::vector<uint8_t> got;
      FUZZ_CHECK(MeasuredInflate(&probe, compressed.data(), compressed.size(), true, message.size() - 1, &got) ==
                 Status::kTooBig);
    }
    std::vector<uint8_t> got;
    std::vector<uint8_t> piece;
    FUZZ_CHECK(MeasuredInflate(&inflater, compressed.data(), at, false, cap, &piece) == Status::kOk);
    got.insert(got.end(), piece.begin(), piece.end());
    // The cap is per call: what the first piece produced is spent.
    const size_t cap2 = cap == SIZE_MAX ? cap : cap - piece.size();
    FUZZ_CHECK(MeasuredInflate(&inflater, compressed.data() + at, compressed.size() - at, true, cap2, &piece) ==
               Status::kOk);
    got.insert(got.end(), piece.begin(), piece.end());
    FUZZ_CHECK(got == message);
    message.clear();
    compressed.clear();
    first_message = false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Fail early and loudly if the zlib this was compiled against is not the one linked.
  FUZZ_CHECK(zlibVersion()[0] == ZLIB_VERSION[0] && std::strcmp(zlibVersion(), ZLIB_VERSION) == 0);
  FUZZ_CHECK(__sanitizer_install_malloc_and_free_hooks(MallocHook, FreeHook) != 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint8_t b0 = in.U8();
  if (b0 & 0x80) {
    RoundTripMode(&in, b0);
  } else {
    InflateMode(&in, b0);
  }
  return 0;
}

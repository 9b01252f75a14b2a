// Helpers shared by the libFuzzer targets in fuzz/. Nothing here is part of the addon.
#pragma once
#include <sanitizer/asan_interface.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fuzz {

// A broken invariant is a bug in native/: print what and where, then abort so libFuzzer
// saves the input as a crash artifact (abort() is a deadly signal to it, like an ASan report).
[[noreturn]] inline void Violation(const char* file, int line, const char* what) {
  std::fprintf(stderr, "\n%s:%d: invariant violated: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                       \
  do {                                                         \
    if (!(cond)) ::fuzz::Violation(__FILE__, __LINE__, #cond); \
  } while (0)

// Reads the fuzzer's bytes front to back. Past the end every read yields 0 (and Ok() turns
// false), so a short input is still a well-defined input rather than a reason to bail out.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() {
    if (pos_ >= size_) {
      ok_ = false;
      return 0;
    }
    return data_[pos_++];
  }
  uint16_t U16() {
    const uint16_t hi = U8();
    return static_cast<uint16_t>((hi << 8) | U8());
  }
  uint32_t U32() {
    const uint32_t hi = U16();
    return (hi << 16) | U16();
  }
  uint64_t U64() {
    const uint64_t hi = U32();
    return (hi << 32) | U32();
  }
  // The unread rest of the input.
  const uint8_t* rest() const { return data_ + (pos_ < size_ ? pos_ : size_); }
  size_t rest_size() const { return pos_ < size_ ? size_ - pos_ : 0; }
  bool Ok() const { return ok_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// A heap block whose `size` usable bytes END exactly at the end of the allocation and begin
// `lead` bytes into it (lead < 64, to vary alignment). The lead bytes are poisoned, so ASan
// reports any access before data() as well as after data() + size: a kernel that over-reads
// or over-writes its range, even by one byte, aborts the run.
class Guarded {
 public:
  Guarded(size_t size, size_t lead) : size_(size), lead_(lead % 64) {
    // +1 so a zero-size buffer still has a distinct address; that byte is poisoned too.
    base_ = static_cast<uint8_t*>(std::malloc(lead_ + size_ + (size_ == 0 ? 1 : 0)));
    if (base_ == nullptr) std::abort();
    ASAN_POISON_MEMORY_REGION(base_, lead_);
    if (size_ == 0) ASAN_POISON_MEMORY_REGION(base_ + lead_, 1);
  }
  Guarded(const uint8_t* src, size_t size, size_t lead) : Guarded(size, lead) {
    if (size != 0) std::memcpy(data(), src, size);
  }
  ~Guarded() {
    // Unpoison exactly what the constructor poisoned, never past the allocation.
    ASAN_UNPOISON_MEMORY_REGION(base_, lead_ + (size_ == 0 ? 1 : 0));
    std::free(base_);
  }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;

  uint8_t* data() const { return base_ + lead_; }
  size_t size() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
  size_t lead_;
};

}  // namespace fuzz

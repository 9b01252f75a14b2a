// The write queue of the native transport (transport.h): portable, no N-API, no libuv.
#include <cstdlib>
#include <cstring>

#include "transport.h"

namespace wscore {
namespace transport {

bool WriteQueue::Append(const uint8_t* bytes, size_t len) {
  if (len == 0) return true;
  if (capacity_ - tail_ < len) {
    const size_t used = size();
    if (len > SIZE_MAX - used) return false;
    const size_t need = used + len;
    if (head_ != 0 && need <= capacity_) {
      // Room enough once the written prefix is dropped.
      std::memmove(data_, data_ + head_, used);
    } else {
      size_t want = capacity_ < 16384 ? 16384 : capacity_;
      while (want < need) want = want > SIZE_MAX / 2 ? need : want * 2;
      uint8_t* block = static_cast<uint8_t*>(std::malloc(want));
      if (block == nullptr) return false;
      if (used != 0) std::memcpy(block, data_ + head_, used);
      std::free(data_);
      data_ = block;
      capacity_ = want;
    }
    head_ = 0;
    tail_ = used;
  }
  std::memcpy(data_ + tail_, bytes, len);
  tail_ += len;
  return true;
}

void WriteQueue::Consume(size_t n) {
  head_ += n < size() ? n : size();
  if (head_ == tail_) Clear();
}

void WriteQueue::Clear() {
  std::free(data_);
  data_ = nullptr;
  capacity_ = head_ = tail_ = 0;
}

}  // namespace transport
}  // namespace wscore

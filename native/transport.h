// The native socket transport (issue 14): a TCP connection's file descriptor, owned by the
// addon and polled with a uv_poll_t on Node's own libuv loop, with no net.Socket per
// connection. The JS side is src/io/native-transport.ts (through src/backend/transport.ts).
//
// Linux only (MSG_NOSIGNAL, F_DUPFD_CLOEXEC, Linux's epoll semantics for dup()ed fds); on
// other platforms the module exports nothing and the TS side falls back to Node's sockets.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wscore {
namespace transport {

// The bytes a connection could not hand to the kernel yet (EAGAIN on a write): a copy of
// the unsent tail of each batch, in order, in one contiguous block. Copying (rather than
// keeping references to the JS chunks) keeps the JS objects free to be reused or collected
// at once, and costs nothing when the kernel takes everything, which is the common case.
// The block is freed whenever the queue empties, so an idle connection holds none.
class WriteQueue {
 public:
  WriteQueue() = default;
  ~WriteQueue() { Clear(); }
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  size_t size() const { return tail_ - head_; }
  bool empty() const { return tail_ == head_; }
  const uint8_t* data() const { return data_ + head_; }

  // Appends len bytes. False when memory cannot be had (the queue is unchanged then).
  bool Append(const uint8_t* bytes, size_t len);
  // Drops the first n <= size() bytes (they were written).
  void Consume(size_t n);
  // Drops everything and frees the block.
  void Clear();

 private:
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace transport
}  // namespace wscore

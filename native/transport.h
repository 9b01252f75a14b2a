// The native socket transport (issue 14): a TCP connection's file descriptor, owned by the
// addon and polled with a uv_poll_t on Node's own libuv loop, with no net.Socket per
// connection. The JS side is src/io/native-transport.ts (through src/backend/socket-binding.ts).
//
//   write-queue.cc  the bytes the kernel did not take yet (portable)
//   socket.cc       one connection: polling, reads, writes, end, close (Linux)
//   transport.cc    the N-API surface: NativeSocket, transportSetup, per-environment state
//
// Linux only (MSG_NOSIGNAL, F_DUPFD_CLOEXEC, Linux's epoll semantics for dup()ed fds); on
// other platforms the addon exports no transport and the TS side keeps Node's sockets.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <node_api.h>
#include <sys/uio.h>
#include <uv.h>
#endif

namespace wscore {
namespace transport {

// The bytes a connection could not hand to the kernel yet (EAGAIN on a write): a copy of
// the unsent tail of each batch, in order, in one contiguous block. Copying (rather than
// keeping references to the JS chunks) leaves the JS objects free to be reused or collected
// at once, and costs nothing when the kernel takes everything, the common case. The block
// is freed whenever the queue empties, so an idle connection holds none.
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

#if defined(__linux__)
// One read() per readable event, into one buffer per environment (uSockets reads the same
// way): a connection with more pending bytes is readable again on the next loop turn.
constexpr size_t kReadBufferSize = 64 * 1024;

struct LoopState;

struct Socket {
  uv_poll_t poll;  // poll.data == this
  LoopState* state = nullptr;
  napi_ref owner = nullptr;  // strong until closed: callbacks reach the owner through it
  Socket** wrap_slot = nullptr;  // the JS wrapper's pointer to this, nulled when this is freed
  Socket* prev = nullptr;
  Socket* next = nullptr;
  WriteQueue queue;
  size_t max_queued = 0;
  int fd = -1;
  int events = 0;  // what the poll handle watches now
  int close_errno = 0;
  bool paused = false;
  bool eof = false;  // the peer's FIN was read
  bool end_requested = false;
  bool shut_wr = false;  // shutdown(SHUT_WR) done
  bool closing = false;  // uv_close called; nothing but the close callback follows
};

// Per environment (each worker thread has its own, with its own loop). Freed when the
// environment is gone and its last socket's close callback has run.
struct LoopState {
  napi_env env = nullptr;
  uv_loop_t* loop = nullptr;
  napi_ref on_data = nullptr;
  napi_ref on_flush = nullptr;
  napi_ref on_end = nullptr;
  napi_ref on_close = nullptr;
  napi_ref read_buffer = nullptr;
  uint8_t* read_data = nullptr;  // kReadBufferSize bytes, kept alive by read_buffer
  napi_async_context async_context = nullptr;
  Socket* sockets = nullptr;  // every socket not yet closed (for teardown)
  size_t live = 0;  // sockets not yet freed
  iovec* iov = nullptr;  // scratch for write(): grows to the largest batch
  size_t iov_capacity = 0;
  bool tearing_down = false;  // no N-API calls from here on
  bool finalized = false;
};

// socket.cc
// Starts polling `fd` (already dup()ed, owned by the socket from now on). uv error code.
int Open(LoopState* state, Socket* s, int fd);
// Makes the poll handle watch what the socket needs now (reads unless paused or at EOF,
// writability only while the queue is non-empty).
void UpdateEvents(Socket* s);
// Starts closing: stops polling, drops the queue; the fd is closed and JS told (onClose) in
// the uv_close callback. Idempotent.
void Close(Socket* s, int err);
// end(): shutdown(SHUT_WR) once the queue is empty.
void End(Socket* s);
// Writes a batch (count iovecs, none empty): queued bytes after the call, or -errno (the
// socket is then closing).
double Send(Socket* s, const iovec* iov, size_t count);
// Frees the state once the environment is gone and no socket remains.
void FreeStateIfDone(LoopState* state);
#endif

}  // namespace transport
}  // namespace wscore

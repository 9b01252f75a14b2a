// The native socket transport (issue 14), see transport.h. What JS sees:
//
//   transportSetup(onData, onFlush, onEnd, onClose) -> ArrayBuffer
//     Once per environment (main thread or worker): the four functions every connection
//     reports through (called with `this` = the connection's owner object), and the shared
//     read buffer they receive bytes in. onData(n): bytes [0, n) of the buffer are new;
//     they are only valid during the call (the next read of any connection reuses them).
//     onFlush(queued): a queued write made progress; `queued` bytes are still waiting.
//     onEnd(): the peer's FIN. onClose(errno): last call, 0 or the errno that ended it.
//   new NativeSocket(fd, owner, maxQueued)
//     Takes over a connected TCP socket: dup()s fd (the caller then closes its own copy:
//     closing one fd of a dup pair sends no FIN) and polls the dup for reading.
//     write(chunks) -> queued bytes after the call, or -errno (the socket then closes,
//       onClose follows). pause() / resume() reading; end(): FIN once the queue is empty;
//     destroy(): close now, dropping the queue.
//
// libuv rules kept here (docs.libuv.org, "uv_poll_t"; libuv#1148, #2387): one poll handle
// per fd (the dup is a fresh fd number); the fd is closed only in the uv_close callback,
// never while the handle polls it; readiness may be spurious, so EAGAIN is normal; epoll is
// level-triggered, so UV_WRITABLE is on only while the write queue is non-empty and
// UV_READABLE goes off once EOF was read.
#include "transport.h"

#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "modules.h"

#if defined(__linux__)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>
#endif

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

#if defined(__linux__)
namespace {

// One read() per readable event, into one buffer per environment (uSockets reads the same
// way): a connection with more pending bytes is readable again on the next loop turn.
constexpr size_t kReadBufferSize = 64 * 1024;
// Chunks passed to one sendmsg (Linux's UIO_MAXIOV is 1024); larger batches take several.
constexpr size_t kMaxIov = 1024;

class SocketWrap;
struct LoopState;

struct Socket {
  uv_poll_t poll;  // poll.data == this
  LoopState* state = nullptr;
  napi_ref owner = nullptr;  // strong until closed: callbacks reach the owner through it
  SocketWrap* wrap = nullptr;  // the JS object, until it is collected
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
// environment is torn down and its last socket's close callback has run.
struct LoopState {
  napi_env env = nullptr;
  uv_loop_t* loop = nullptr;
  napi_ref on_data = nullptr;
  napi_ref on_flush = nullptr;
  napi_ref on_end = nullptr;
  napi_ref on_close = nullptr;
  napi_ref read_buffer = nullptr;
  uint8_t* read_data = nullptr;
  napi_async_context async_context = nullptr;
  Socket* sockets = nullptr;  // every socket not yet closed (for teardown)
  size_t live = 0;  // sockets not yet freed
  iovec* iov = nullptr;  // scratch for write(); grows to the largest batch, up to kMaxIov
  size_t iov_capacity = 0;
  bool tearing_down = false;  // no N-API calls from here on
  bool finalized = false;
};

void FreeStateIfDone(LoopState* state) {
  if (state->finalized && state->live == 0) {
    std::free(state->iov);
    delete state;
  }
}

void ReleaseRef(napi_env env, napi_ref* ref) {
  if (*ref != nullptr) napi_delete_reference(env, *ref);
  *ref = nullptr;
}

// Calls fn with `this` = the socket's owner. MakeCallback (not call_function): this runs
// from the loop, so the nextTick queue and microtasks must run after it, as after a
// net.Socket 'data' event. An exception from JS is reported as uncaught, as Node does for a
// throwing socket listener.
void CallOwner(Socket* s, napi_ref fn_ref, size_t argc, const napi_value* argv) {
  LoopState* state = s->state;
  if (state->tearing_down || fn_ref == nullptr || s->owner == nullptr) return;
  napi_env env = state->env;
  napi_value fn, owner, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == nullptr) return;
  if (napi_get_reference_value(env, s->owner, &owner) != napi_ok || owner == nullptr) return;
  if (napi_make_callback(env, state->async_context, owner, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
}

void CallOwnerWithNumber(Socket* s, napi_ref fn_ref, double value) {
  if (s->state->tearing_down) return;
  napi_value arg;
  if (napi_create_double(s->state->env, value, &arg) != napi_ok) return;
  CallOwner(s, fn_ref, 1, &arg);
}

void OnPoll(uv_poll_t* handle, int status, int events);

// Makes the poll handle watch what the socket needs now (see the file comment).
void UpdateEvents(Socket* s) {
  if (s->closing) return;
  int want = 0;
  if (!s->paused && !s->eof) want |= UV_READABLE;
  if (!s->queue.empty()) want |= UV_WRITABLE;
  if (want == s->events) return;
  const int rc = want == 0 ? uv_poll_stop(&s->poll) : uv_poll_start(&s->poll, want, OnPoll);
  if (rc == 0) s->events = want;
}

void OnClosed(uv_handle_t* handle);

// Starts closing: stops polling, drops the queue; the fd is closed and JS is told in
// OnClosed, once libuv let go of the handle.
void Close(Socket* s, int err) {
  if (s->closing) return;
  s->closing = true;
  s->close_errno = err;
  s->queue.Clear();
  uv_poll_stop(&s->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), OnClosed);
}

class SocketWrap : public Napi::ObjectWrap<SocketWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeSocket",
                       {
                           InstanceMethod<&SocketWrap::Write>("write"),
                           InstanceMethod<&SocketWrap::Pause>("pause"),
                           InstanceMethod<&SocketWrap::Resume>("resume"),
                           InstanceMethod<&SocketWrap::End>("end"),
                           InstanceMethod<&SocketWrap::Destroy>("destroy"),
                       });
  }

  SocketWrap(const Napi::CallbackInfo& info);
  ~SocketWrap() override {
    // Collected while still open: only possible when the environment is torn down (the
    // owner reference keeps an open socket's owner, and through it this object, alive).
    if (socket_ != nullptr) {
      socket_->wrap = nullptr;
      Close(socket_, 0);
      socket_ = nullptr;
    }
  }

  void Detach() { socket_ = nullptr; }

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  void Pause(const Napi::CallbackInfo&) { SetPaused(true); }
  void Resume(const Napi::CallbackInfo&) { SetPaused(false); }
  void End(const Napi::CallbackInfo& info);
  void Destroy(const Napi::CallbackInfo&) {
    if (socket_ != nullptr) Close(socket_, 0);
  }
  void SetPaused(bool paused) {
    if (socket_ == nullptr || socket_->closing) return;
    socket_->paused = paused;
    UpdateEvents(socket_);
  }

  Socket* socket_ = nullptr;
};

void OnClosed(uv_handle_t* handle) {
  Socket* s = static_cast<Socket*>(handle->data);
  LoopState* state = s->state;
  // Only now: a closed fd number may be reused at once, and libuv must not poll it then.
  if (s->fd >= 0) close(s->fd);  // Linux closes the fd even when close() fails (EINTR)
  s->fd = -1;
  if (s->prev != nullptr) s->prev->next = s->next;
  else if (state->sockets == s) state->sockets = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  if (s->wrap != nullptr) s->wrap->Detach();
  if (!state->tearing_down) {
    Napi::HandleScope scope(state->env);
    CallOwnerWithNumber(s, state->on_close, s->close_errno);
    ReleaseRef(state->env, &s->owner);
  }
  delete s;
  state->live -= 1;
  FreeStateIfDone(state);
}

// shutdown(SHUT_WR) once end() was asked for and the queue is empty; closes when the peer
// has ended too.
void MaybeShutdown(Socket* s) {
  if (s->closing || !s->end_requested || s->shut_wr || !s->queue.empty()) return;
  s->shut_wr = true;
  if (shutdown(s->fd, SHUT_WR) != 0 && errno != ENOTCONN) {
    Close(s, errno);
    return;
  }
  if (s->eof) Close(s, 0);
}

// A writable event: hands the queue to the kernel.
void Flush(Socket* s) {
  if (s->queue.empty()) {
    UpdateEvents(s);  // spurious: nothing to write
    return;
  }
  ssize_t n;
  do n = send(s->fd, s->queue.data(), s->queue.size(), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) Close(s, errno);
    return;
  }
  s->queue.Consume(static_cast<size_t>(n));
  UpdateEvents(s);
  MaybeShutdown(s);
  if (s->closing) return;
  CallOwnerWithNumber(s, s->state->on_flush, static_cast<double>(s->queue.size()));
}

void Read(Socket* s) {
  LoopState* state = s->state;
  ssize_t n;
  do n = read(s->fd, state->read_data, kReadBufferSize);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) Close(s, errno);
    return;
  }
  if (n == 0) {
    s->eof = true;
    UpdateEvents(s);
    napi_value none = nullptr;
    CallOwner(s, state->on_end, 0, &none);
    if (s->shut_wr) Close(s, 0);
    return;
  }
  CallOwnerWithNumber(s, state->on_data, static_cast<double>(n));
}

void OnPoll(uv_poll_t* handle, int status, int events) {
  Socket* s = static_cast<Socket*>(handle->data);
  if (s->closing) return;
  if (status < 0) {
    // libuv reports EPOLLERR (a reset, for one) as UV_EBADF: the socket's own pending error
    // says what happened. libuv's codes are negated errnos on Unix.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
    Close(s, err);
    return;
  }
  // One scope for the JS calls of this event; Read/Flush may close the socket (and JS may
  // destroy it from a callback), but the Socket lives until OnClosed, a later loop phase.
  Napi::HandleScope scope(s->state->env);
  if ((events & UV_WRITABLE) != 0) Flush(s);
  if (s->closing) return;
  if ((events & UV_READABLE) != 0 && !s->paused && !s->eof) Read(s);
}

SocketWrap::SocketWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SocketWrap>(info) {
  Napi::Env env = info.Env();
  LoopState* state = env.GetInstanceData<LoopState>();
  if (state == nullptr || state->read_data == nullptr) {
    Napi::Error::New(env, "transportSetup() must be called first").ThrowAsJavaScriptException();
    return;
  }
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsObject() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "NativeSocket(fd, owner, maxQueued)").ThrowAsJavaScriptException();
    return;
  }
  const double fd_arg = info[0].As<Napi::Number>().DoubleValue();
  const double max_queued = info[2].As<Napi::Number>().DoubleValue();
  if (!(fd_arg >= 0 && fd_arg <= INT_MAX) || static_cast<double>(static_cast<int>(fd_arg)) != fd_arg) {
    Napi::RangeError::New(env, "fd must be an integer >= 0").ThrowAsJavaScriptException();
    return;
  }
  if (!(max_queued >= 1 && max_queued <= 0x1p53)) {
    Napi::RangeError::New(env, "maxQueued must be a positive safe integer").ThrowAsJavaScriptException();
    return;
  }
  const int source = static_cast<int>(fd_arg);
  struct stat st;
  if (fstat(source, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    Napi::Error::New(env, "fd is not a socket").ThrowAsJavaScriptException();
    return;
  }
  // A fresh fd number: the caller's handle may still be registered with the loop on its own.
  const int fd = fcntl(source, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    Napi::Error::New(env, std::string("dup failed: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return;
  }
  Socket* s = new (std::nothrow) Socket();
  if (s == nullptr) {
    close(fd);
    Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
    return;
  }
  const int rc = uv_poll_init(state->loop, &s->poll, fd);  // also sets O_NONBLOCK
  if (rc != 0) {
    delete s;
    close(fd);
    Napi::Error::New(env, std::string("uv_poll_init failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return;
  }
  s->poll.data = s;
  s->state = state;
  s->fd = fd;
  s->max_queued = static_cast<size_t>(max_queued);
  s->wrap = this;
  s->next = state->sockets;
  if (state->sockets != nullptr) state->sockets->prev = s;
  state->sockets = s;
  state->live += 1;
  socket_ = s;
  if (napi_create_reference(env, info[1], 1, &s->owner) != napi_ok) {
    Close(s, ENOMEM);
    return;
  }
  UpdateEvents(s);
}

// Appends the batch's bytes from iov[i] + offset on to the queue. Returns 0, or the errno
// that closes the socket: ENOBUFS past max_queued (the caller kept writing after write()
// said the buffer was full: only bytes the kernel did not take count), ENOMEM.
int QueueRest(Socket* s, const iovec* iov, size_t count, size_t i, size_t offset) {
  size_t rest = 0;
  for (size_t j = i; j < count; j++) rest += iov[j].iov_len;  // chunks in memory: no wrap
  rest -= offset;
  if (rest > s->max_queued || s->queue.size() > s->max_queued - rest) return ENOBUFS;
  for (; i < count; i++, offset = 0) {
    if (!s->queue.Append(static_cast<const uint8_t*>(iov[i].iov_base) + offset, iov[i].iov_len - offset)) return ENOMEM;
  }
  return 0;
}

Napi::Value SocketWrap::Write(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  LoopState* state = Napi::Env(env).GetInstanceData<LoopState>();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "write(chunks: Uint8Array[])").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Socket* s = socket_;
  if (s == nullptr || s->closing || s->end_requested) return Napi::Number::New(env, -EPIPE);
  napi_value chunks = info[0];
  uint32_t count = 0;
  napi_get_array_length(env, chunks, &count);
  if (count > state->iov_capacity) {
    iovec* grown = static_cast<iovec*>(std::realloc(state->iov, sizeof(iovec) * count));
    if (grown == nullptr) {
      Close(s, ENOMEM);
      return Napi::Number::New(env, -ENOMEM);
    }
    state->iov = grown;
    state->iov_capacity = count;
  }
  // Every chunk is checked before any byte is written: a bad batch writes nothing.
  iovec* iov = state->iov;
  size_t used = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_element(env, chunks, i, &element) != napi_ok ||
        napi_get_typedarray_info(env, element, &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array) {
      Napi::TypeError::New(env, "every chunk must be a Uint8Array").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    if (data == nullptr || length == 0) continue;  // empty or detached: nothing to send
    iov[used].iov_base = data;
    iov[used].iov_len = length;
    used++;
  }
  if (!s->queue.empty()) {
    // Order: behind what is already waiting; the writable event sends it.
    if (const int err = QueueRest(s, iov, used, 0, 0)) {
      Close(s, err);
      return Napi::Number::New(env, -err);
    }
    return Napi::Number::New(env, static_cast<double>(s->queue.size()));
  }
  size_t i = 0;
  while (i < used) {
    const size_t batch = used - i < kMaxIov ? used - i : kMaxIov;
    msghdr msg{};
    msg.msg_iov = iov + i;
    msg.msg_iovlen = batch;
    ssize_t n;
    do n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int err = errno;
        Close(s, err);
        return Napi::Number::New(env, -err);
      }
      n = 0;
    }
    // Skip the chunks sent whole; a partial write leaves i inside a chunk at `offset`.
    size_t sent = static_cast<size_t>(n);
    const size_t end = i + batch;
    while (i < end && sent >= iov[i].iov_len) sent -= iov[i++].iov_len;
    if (i < end) {
      if (const int err = QueueRest(s, iov, used, i, sent)) {
        Close(s, err);
        return Napi::Number::New(env, -err);
      }
      UpdateEvents(s);
      break;
    }
  }
  return Napi::Number::New(env, static_cast<double>(s->queue.size()));
}

void SocketWrap::End(const Napi::CallbackInfo&) {
  if (socket_ == nullptr || socket_->closing) return;
  socket_->end_requested = true;
  MaybeShutdown(socket_);
}

// Environment teardown (process exit, worker termination): close every socket without
// calling into JS, which is going away.
void Teardown(void* data) {
  LoopState* state = static_cast<LoopState*>(data);
  state->tearing_down = true;
  for (Socket* s = state->sockets; s != nullptr; s = s->next) Close(s, 0);
  if (state->async_context != nullptr) napi_async_destroy(state->env, state->async_context);
  state->async_context = nullptr;
}

void FinalizeState(napi_env, void* data, void*) {
  LoopState* state = static_cast<LoopState*>(data);
  state->tearing_down = true;
  state->finalized = true;
  FreeStateIfDone(state);
}

Napi::Value Setup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (size_t i = 0; i < 4; i++) {
    if (i >= info.Length() || !info[i].IsFunction()) {
      Napi::TypeError::New(env, "transportSetup(onData, onFlush, onEnd, onClose)").ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }
  LoopState* state = env.GetInstanceData<LoopState>();
  if (state == nullptr) {
    Napi::Error::New(env, "transport state missing").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  ReleaseRef(env, &state->on_data);
  ReleaseRef(env, &state->on_flush);
  ReleaseRef(env, &state->on_end);
  ReleaseRef(env, &state->on_close);
  napi_create_reference(env, info[0], 1, &state->on_data);
  napi_create_reference(env, info[1], 1, &state->on_flush);
  napi_create_reference(env, info[2], 1, &state->on_end);
  napi_create_reference(env, info[3], 1, &state->on_close);
  if (state->read_buffer == nullptr) {
    napi_value buffer;
    void* data = nullptr;
    if (napi_create_arraybuffer(env, kReadBufferSize, &data, &buffer) != napi_ok || data == nullptr) {
      Napi::Error::New(env, "cannot allocate the read buffer").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    // The ArrayBuffer stays referenced for the environment's life, so `data` stays valid;
    // it is never handed to user code, so nothing can transfer (detach) it.
    napi_create_reference(env, buffer, 1, &state->read_buffer);
    state->read_data = static_cast<uint8_t*>(data);
  }
  napi_value buffer;
  napi_get_reference_value(env, state->read_buffer, &buffer);
  return Napi::Value(env, buffer);
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  LoopState* state = new (std::nothrow) LoopState();
  if (state == nullptr) return;  // no transport exports: the TS side falls back to Node's sockets
  state->env = env;
  napi_value name;
  if (napi_get_uv_event_loop(env, &state->loop) != napi_ok ||
      napi_create_string_utf8(env, "wscore:NativeSocket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, Napi::Object::New(env), name, &state->async_context) != napi_ok ||
      napi_set_instance_data(env, state, FinalizeState, nullptr) != napi_ok) {
    delete state;
    return;
  }
  napi_add_env_cleanup_hook(env, Teardown, state);
  exports.Set("transportSetup", Napi::Function::New(env, Setup, "transportSetup"));
  exports.Set("NativeSocket", SocketWrap::Define(env));
}
#else
void Init(Napi::Env, Napi::Object) {}
#endif

}  // namespace transport

void InitTransport(Napi::Env env, Napi::Object exports) { transport::Init(env, exports); }

}  // namespace wscore

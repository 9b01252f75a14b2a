// The N-API surface of the native socket transport (issue 14, transport.h). What JS sees:
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
// Lifetimes: the Socket (socket.cc) lives until its uv_close callback; the JS wrapper may
// outlive it (its pointer is nulled then) or, at environment teardown only, die first (the
// Socket is closed then). An open socket's owner is strongly referenced, so neither is
// collected while the connection is open.
#include "transport.h"

#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "modules.h"

#if defined(__linux__)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace wscore {
namespace transport {

#if defined(__linux__)
namespace {

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

  explicit SocketWrap(const Napi::CallbackInfo& info);
  ~SocketWrap() override {
    if (socket_ != nullptr) {
      socket_->wrap_slot = nullptr;
      Close(socket_, 0);
    }
  }

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  void Pause(const Napi::CallbackInfo&) { SetPaused(true); }
  void Resume(const Napi::CallbackInfo&) { SetPaused(false); }
  void End(const Napi::CallbackInfo&) {
    if (socket_ != nullptr) transport::End(socket_);
  }
  void Destroy(const Napi::CallbackInfo&) {
    if (socket_ != nullptr) Close(socket_, 0);
  }
  void SetPaused(bool paused) {
    if (socket_ == nullptr || socket_->closing) return;
    socket_->paused = paused;
    UpdateEvents(socket_);
  }

  Socket* socket_ = nullptr;  // null once the socket is freed (socket.cc, OnClosed)
};

void ReleaseRef(napi_env env, napi_ref* ref) {
  if (*ref != nullptr) napi_delete_reference(env, *ref);
  *ref = nullptr;
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
  // Range first: converting a NaN or out-of-range double to int is UB.
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
  // The sender batches frames already: Nagle would only delay them (as the Node transport's
  // setNoDelay). Best effort: a socket that refuses it still works.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Socket* s = new (std::nothrow) Socket();
  if (s == nullptr) {
    close(fd);
    Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
    return;
  }
  s->max_queued = static_cast<size_t>(max_queued);
  if (napi_create_reference(env, info[1], 1, &s->owner) != napi_ok) {
    delete s;
    close(fd);
    Napi::Error::New(env, "cannot reference the owner").ThrowAsJavaScriptException();
    return;
  }
  const int rc = Open(state, s, fd);
  if (rc != 0) {
    napi_delete_reference(env, s->owner);
    delete s;
    close(fd);
    Napi::Error::New(env, std::string("uv_poll_init failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return;
  }
  s->wrap_slot = &socket_;
  socket_ = s;
  // The caller closes its fd next. epoll registrations belong to the open file description,
  // which the dup keeps open: if the caller's handle is still registered when its fd is
  // closed, that registration outlives the fd and keeps reporting events under a dead (or
  // reused) fd number. libuv deletes it before closing, except when the deletion is batched
  // through io_uring (UV_USE_IO_URING=1, inside a poll callback): then it runs after the
  // close, fails, and the stale entry stays. So it is deleted here, while the fd is open.
  // libuv ignores failed deletions, so its own later one is harmless; done last, because a
  // takeover that failed leaves the caller's socket in use.
  epoll_event unused{};
  epoll_ctl(uv_backend_fd(state->loop), EPOLL_CTL_DEL, source, &unused);
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
  return Napi::Number::New(env, Send(s, iov, used));
}

// Environment teardown (process exit, worker termination): close every socket without
// calling into JS, which is going away. Registered after N-API's own teardown hook, so it
// runs before it (hooks run in reverse order).
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
  if (state->read_buffer == nullptr) {
    napi_value buffer;
    void* data = nullptr;
    if (napi_create_arraybuffer(env, kReadBufferSize, &data, &buffer) != napi_ok || data == nullptr ||
        napi_create_reference(env, buffer, 1, &state->read_buffer) != napi_ok) {
      Napi::Error::New(env, "cannot allocate the read buffer").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    // Referenced for the environment's life, so `data` stays valid; src/backend never hands
    // the ArrayBuffer itself to user code, so nothing can transfer (detach) it.
    state->read_data = static_cast<uint8_t*>(data);
  }
  // A second call (a second copy of the JS module) replaces the callbacks.
  napi_ref* refs[4] = {&state->on_data, &state->on_flush, &state->on_end, &state->on_close};
  for (size_t i = 0; i < 4; i++) {
    ReleaseRef(env, refs[i]);
    napi_create_reference(env, info[i], 1, refs[i]);
  }
  napi_value buffer;
  napi_get_reference_value(env, state->read_buffer, &buffer);
  return Napi::Value(env, buffer);
}

// Test hook: sockets of this environment not yet freed (their close callback has not run).
Napi::Value Live(const Napi::CallbackInfo& info) {
  LoopState* state = info.Env().GetInstanceData<LoopState>();
  return Napi::Number::New(info.Env(), state == nullptr ? 0 : static_cast<double>(state->live));
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  LoopState* state = new (std::nothrow) LoopState();
  if (state == nullptr) return;  // no transport exports: the TS side keeps Node's sockets
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
  exports.Set("_transportLive", Napi::Function::New(env, Live, "_transportLive"));
}
#else
void Init(Napi::Env, Napi::Object) {}
#endif

}  // namespace transport

void InitTransport(Napi::Env env, Napi::Object exports) { transport::Init(env, exports); }

}  // namespace wscore

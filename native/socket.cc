// One connection of the native transport (transport.h): polling, reads, writes, end and
// close. The N-API surface is in transport.cc; this file calls into JS only through
// CallOwner (the four functions of transportSetup, `this` = the connection's owner).
//
// libuv rules kept here (docs.libuv.org, "uv_poll_t"; libuv#1148, #2387): one poll handle
// per fd (the dup is a fresh fd number); the fd is closed only in the uv_close callback,
// never while the handle polls it; readiness may be spurious, so EAGAIN is normal; epoll is
// level-triggered, so UV_WRITABLE is on only while the write queue is non-empty and
// UV_READABLE goes off at EOF and while paused.
#include "transport.h"

#if defined(__linux__)
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace wscore {
namespace transport {
namespace {

// Chunks passed to one sendmsg (Linux's UIO_MAXIOV is 1024); larger batches take several.
constexpr size_t kMaxIov = 1024;

// Calls fn with `this` = the socket's owner. MakeCallback (not call_function): this runs
// from the loop, so the nextTick queue and microtasks must run after it, as after a
// net.Socket 'data' event. An exception from JS is reported as uncaught, as Node does for a
// throwing socket listener. The caller holds a handle scope.
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

void OnClosed(uv_handle_t* handle) {
  Socket* s = static_cast<Socket*>(handle->data);
  LoopState* state = s->state;
  // Only now: a closed fd number may be reused at once, and libuv must not poll it then.
  if (s->fd >= 0) close(s->fd);  // Linux frees the fd even when close() fails (EINTR)
  s->fd = -1;
  if (s->prev != nullptr) s->prev->next = s->next;
  else if (state->sockets == s) state->sockets = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  // Before JS runs: a destroy() from the onClose callback must find no socket.
  if (s->wrap_slot != nullptr) *s->wrap_slot = nullptr;
  if (!state->tearing_down) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(state->env, &scope) == napi_ok) {
      CallOwnerWithNumber(s, state->on_close, s->close_errno);
      napi_close_handle_scope(state->env, scope);
    }
    napi_delete_reference(state->env, s->owner);
    s->owner = nullptr;
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
  if (s->closing) return;
  // JS first: the shutdown below may close the socket, and the writes that just completed
  // must be reported as written, not failed.
  CallOwnerWithNumber(s, s->state->on_flush, static_cast<double>(s->queue.size()));
  MaybeShutdown(s);
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
  // One scope for the JS calls of this event. Read/Flush may close the socket (and JS may
  // destroy it from a callback), but the Socket lives until OnClosed, a later loop phase.
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->state->env, &scope) != napi_ok) return;
  if ((events & UV_WRITABLE) != 0) Flush(s);
  if (!s->closing && (events & UV_READABLE) != 0 && !s->paused && !s->eof) Read(s);
  napi_close_handle_scope(s->state->env, scope);
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

}  // namespace

int Open(LoopState* state, Socket* s, int fd) {
  const int rc = uv_poll_init(state->loop, &s->poll, fd);  // also sets O_NONBLOCK
  if (rc != 0) return rc;
  s->poll.data = s;
  s->state = state;
  s->fd = fd;
  s->next = state->sockets;
  if (state->sockets != nullptr) state->sockets->prev = s;
  state->sockets = s;
  state->live += 1;
  UpdateEvents(s);
  return 0;
}

void UpdateEvents(Socket* s) {
  if (s->closing) return;
  int want = 0;
  if (!s->paused && !s->eof) want |= UV_READABLE;
  if (!s->queue.empty()) want |= UV_WRITABLE;
  if (want == s->events) return;
  const int rc = want == 0 ? uv_poll_stop(&s->poll) : uv_poll_start(&s->poll, want, OnPoll);
  if (rc == 0) s->events = want;
  else Close(s, -rc);  // unwatched, the socket would hang: fail it instead
}

void Close(Socket* s, int err) {
  if (s->closing) return;
  s->closing = true;
  s->close_errno = err;
  s->queue.Clear();
  uv_poll_stop(&s->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), OnClosed);
}

void End(Socket* s) {
  if (s->closing) return;
  s->end_requested = true;
  MaybeShutdown(s);
}

double Send(Socket* s, const iovec* iov, size_t count) {
  if (!s->queue.empty()) {
    // Order: behind what is already waiting; the writable event sends it.
    if (const int err = QueueRest(s, iov, count, 0, 0)) {
      Close(s, err);
      return -err;
    }
    return static_cast<double>(s->queue.size());
  }
  size_t i = 0;
  while (i < count) {
    const size_t batch = count - i < kMaxIov ? count - i : kMaxIov;
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov + i);  // sendmsg only reads through it
    msg.msg_iovlen = batch;
    ssize_t n;
    do n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int err = errno;
        Close(s, err);
        return -err;
      }
      n = 0;
    }
    // Skip the chunks sent whole; a partial write leaves i inside a chunk at `sent`.
    size_t sent = static_cast<size_t>(n);
    const size_t end = i + batch;
    while (i < end && sent >= iov[i].iov_len) sent -= iov[i++].iov_len;
    if (i < end) {
      if (const int err = QueueRest(s, iov, count, i, sent)) {
        Close(s, err);
        return -err;
      }
      UpdateEvents(s);
      break;
    }
  }
  return static_cast<double>(s->queue.size());
}

void FreeStateIfDone(LoopState* state) {
  if (state->finalized && state->live == 0) {
    std::free(state->iov);
    delete state;
  }
}

}  // namespace transport
}  // namespace wscore
#endif

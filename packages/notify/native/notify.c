/*
 * The native half of @node-systemd/notify: AF_UNIX datagram sockets, which Node
 * core lacks. One C function per JS export. No libsystemd, no C++ runtime.
 *
 * Conventions:
 * - Every fd is created with CLOEXEC and NONBLOCK; nothing here ever blocks.
 * - No libuv handle is held, so an open socket never keeps the process alive.
 * - No global state: the module is context-aware and safe in worker threads.
 * - Failures are returned as negative errno numbers (never thrown, never
 *   asserted); the JS side turns them into errors with Node-style codes.
 *   Only a misuse of the binding itself (wrong argument types) throws.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>

/* memfd and sealing constants, spelled out for C libraries whose headers predate
 * them (memfd_create(2) and F_ADD_SEALS came with Linux 3.17). */
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef SO_SNDBUFFORCE
#define SO_SNDBUFFORCE 32
#endif

#define MAX_FDS 253 /* SCM_MAX_FD in the kernel */
#define RECV_BUFFER_SIZE (128 * 1024)

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) return throw_last(env);                         \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, "ERR_NOTIFY_NATIVE",
                     info && info->error_message ? info->error_message
                                                 : "Node-API call failed");
  }
  return NULL;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  if (napi_create_int64(env, value, &result) != napi_ok) return throw_last(env);
  return result;
}

static napi_value fail(napi_env env) { return make_int(env, -errno); }

static bool get_args(napi_env env, napi_callback_info info, size_t want,
                     napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_NOTIFY_NATIVE", "missing argument");
    return false;
  }
  return true;
}

static bool get_fd(napi_env env, napi_value value, int *fd) {
  if (napi_get_value_int32(env, value, fd) != napi_ok) {
    napi_throw_type_error(env, "ERR_NOTIFY_NATIVE", "fd must be a number");
    return false;
  }
  return true;
}

/* addr is the raw sun_path: a leading NUL byte for an abstract name. Its exact
 * length is used: abstract names are not padded to sizeof(sun_path). */
static bool get_address(napi_env env, napi_value value, struct sockaddr_un *sa,
                        socklen_t *len) {
  void *data = NULL;
  size_t size = 0;
  if (napi_get_buffer_info(env, value, &data, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_NOTIFY_NATIVE", "address must be a Buffer");
    return false;
  }
  if (size == 0 || size > sizeof(sa->sun_path)) {
    napi_throw_range_error(env, "ERR_NOTIFY_NATIVE", "address length out of range");
    return false;
  }
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, data, size);
  /* A path gets its terminating NUL counted; an abstract name must not. */
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + size +
                     (((char *)data)[0] != '\0' && size < sizeof(sa->sun_path)));
  return true;
}

/* socket(): a new AF_UNIX SOCK_DGRAM socket. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  return fd < 0 ? fail(env) : make_int(env, fd);
}

/* connect(fd, address) */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  struct sockaddr_un sa;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_address(env, argv[1], &sa, &len))
    return NULL;
  return connect(fd, (struct sockaddr *)&sa, len) < 0 ? fail(env) : make_int(env, 0);
}

/* bind(fd, address): also turns on SO_PASSCRED so recvmsg sees the sender. */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, one = 1;
  struct sockaddr_un sa;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_address(env, argv[1], &sa, &len))
    return NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) return fail(env);
  return bind(fd, (struct sockaddr *)&sa, len) < 0 ? fail(env) : make_int(env, 0);
}

/* send(fd, address | null, data, fds | null): one datagram, optional SCM_RIGHTS. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  napi_valuetype type;
  int fd;
  struct sockaddr_un sa;
  socklen_t sa_len = 0;
  void *data = NULL;
  size_t size = 0;
  uint32_t nfds = 0;
  int fds[MAX_FDS];
  /* A union, so the buffer is aligned for struct cmsghdr (CMSG_FIRSTHDR casts it). */
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov;
  struct msghdr msg;

  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_typeof(env, argv[1], &type));
  if (type != napi_null && type != napi_undefined &&
      !get_address(env, argv[1], &sa, &sa_len))
    return NULL;
  if (napi_get_buffer_info(env, argv[2], &data, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_NOTIFY_NATIVE", "data must be a Buffer");
    return NULL;
  }
  CHECK(napi_typeof(env, argv[3], &type));
  if (type != napi_null && type != napi_undefined) {
    CHECK(napi_get_array_length(env, argv[3], &nfds));
    if (nfds > MAX_FDS) {
      napi_throw_range_error(env, "ERR_NOTIFY_NATIVE", "too many fds");
      return NULL;
    }
    for (uint32_t i = 0; i < nfds; i++) {
      napi_value item;
      CHECK(napi_get_element(env, argv[3], i, &item));
      if (!get_fd(env, item, &fds[i])) return NULL;
    }
  }

  memset(&msg, 0, sizeof(msg));
  iov.iov_base = data;
  iov.iov_len = size;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (sa_len > 0) {
    msg.msg_name = &sa;
    msg.msg_namelen = sa_len;
  }
  if (nfds > 0) {
    struct cmsghdr *cmsg;
    memset(&control, 0, sizeof(control));
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
  }
  ssize_t sent;
  do {
    sent = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? fail(env) : make_int(env, sent);
}

static bool set_named_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value value;
  return napi_create_int64(env, v, &value) == napi_ok &&
         napi_set_named_property(env, obj, name, value) == napi_ok;
}

/* recv(fd, maxBytes?): one datagram as { data, pid, uid, gid, fds, truncated },
 * or -errno (-EAGAIN when the queue is empty). Received fds arrive with CLOEXEC
 * set. maxBytes (default 128 KiB) bounds the datagram read; more is truncated. */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, buffer, fd_array;
  int fd;
  union {
    char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov;
  struct msghdr msg;
  struct ucred cred = {0, (uid_t)-1, (gid_t)-1};
  uint32_t nfds = 0;
  void *copy = NULL;

  size_t argc = 2, capacity = RECV_BUFFER_SIZE;
  napi_value args[2];
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok) return throw_last(env);
  if (argc >= 2) {
    int wanted;
    napi_valuetype type;
    CHECK(napi_typeof(env, args[1], &type));
    if (type != napi_undefined) {
      if (!get_fd(env, args[1], &wanted)) return NULL;
      if (wanted > 0) capacity = (size_t)wanted;
    }
  }
  char *data = malloc(capacity);
  if (data == NULL) return make_int(env, -ENOMEM);
  memset(&msg, 0, sizeof(msg));
  iov.iov_base = data;
  iov.iov_len = capacity;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  ssize_t got;
  do {
    got = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    int saved = errno;
    free(data);
    return make_int(env, -saved);
  }

  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_array(env, &fd_array) != napi_ok) {
    free(data);
    return throw_last(env);
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
      memcpy(&cred, CMSG_DATA(c), sizeof(cred));
    } else if (c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int *received = (int *)CMSG_DATA(c);
      for (size_t i = 0; i < n; i++) {
        napi_value item;
        int one;
        memcpy(&one, &received[i], sizeof(int));
        if (napi_create_int32(env, one, &item) != napi_ok ||
            napi_set_element(env, fd_array, nfds++, item) != napi_ok) {
          free(data);
          return throw_last(env);
        }
      }
    }
  }
  napi_status status = napi_create_buffer_copy(env, (size_t)got, data, &copy, &buffer);
  free(data);
  if (status != napi_ok) return throw_last(env);
  napi_value truncated;
  if (napi_set_named_property(env, result, "data", buffer) != napi_ok ||
      napi_set_named_property(env, result, "fds", fd_array) != napi_ok ||
      !set_named_int(env, result, "pid", cred.pid) ||
      !set_named_int(env, result, "uid", (int64_t)(int32_t)cred.uid) ||
      !set_named_int(env, result, "gid", (int64_t)(int32_t)cred.gid) ||
      napi_get_boolean(env, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0,
                       &truncated) != napi_ok ||
      napi_set_named_property(env, result, "truncated", truncated) != napi_ok)
    return throw_last(env);
  return result;
}

/* close(fd) */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  /* On Linux the fd is released even when close() reports EINTR: never retry. */
  return close(fd) < 0 && errno != EINTR ? fail(env) : make_int(env, 0);
}

/* pipe(): [readFd, writeFd], both CLOEXEC and NONBLOCK (for BARRIER=1). */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  napi_value result, item;
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) return fail(env);
  CHECK(napi_create_array_with_length(env, 2, &result));
  for (uint32_t i = 0; i < 2; i++) {
    CHECK(napi_create_int32(env, fds[i], &item));
    CHECK(napi_set_element(env, result, i, item));
  }
  return result;
}

/* setCloexec(fd): for fds inherited through LISTEN_FDS. */
static napi_value js_set_cloexec(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd, flags;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return fail(env);
  return make_int(env, 0);
}

/* socketInfo(fd): { family, type, listening } of a socket, or -ENOTSOCK (what
 * getsockopt() answers for any other fd; no fstat(), whose unversioned symbol
 * only glibc 2.33 and later export). */
static napi_value js_socket_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, listening;
  int fd, family = 0, type = 0, accepting = 0;
  socklen_t len;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  len = sizeof(family);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) return fail(env);
  len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return fail(env);
  len = sizeof(accepting);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0) accepting = 0;
  CHECK(napi_create_object(env, &result));
  if (!set_named_int(env, result, "family", family) ||
      !set_named_int(env, result, "type", type))
    return throw_last(env);
  CHECK(napi_get_boolean(env, accepting != 0, &listening));
  CHECK(napi_set_named_property(env, result, "listening", listening));
  return result;
}

/* socketAddress(fd): { family, port, address } from getsockname(2), for
 * matching a passed listening socket against the address an app asks for.
 * `address` holds the raw 4 (AF_INET) or 16 (AF_INET6) bytes, or the sun_path
 * bytes for AF_UNIX; `port` is in host byte order (0 for AF_UNIX). */
static napi_value js_socket_address(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, bytes;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  const unsigned char *raw = NULL;
  size_t size = 0;
  int fd, port = 0;
  void *copy = NULL;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  memset(&ss, 0, sizeof(ss));
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return fail(env);
  if (ss.ss_family == AF_INET) {
    const unsigned char *in = (const unsigned char *)&ss;
    /* sockaddr_in: family (2), port (2, network order), addr (4) */
    port = (in[2] << 8) | in[3];
    raw = in + 4;
    size = 4;
  } else if (ss.ss_family == AF_INET6) {
    const unsigned char *in6 = (const unsigned char *)&ss;
    /* sockaddr_in6: family (2), port (2), flowinfo (4), addr (16) */
    port = (in6[2] << 8) | in6[3];
    raw = in6 + 8;
    size = 16;
  } else if (ss.ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
    raw = (const unsigned char *)((struct sockaddr_un *)&ss)->sun_path;
    size = len - offsetof(struct sockaddr_un, sun_path);
  }
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_buffer(env, size, &copy, &bytes));
  if (size > 0) memcpy(copy, raw, size);
  if (!set_named_int(env, result, "family", ss.ss_family) ||
      !set_named_int(env, result, "port", port))
    return throw_last(env);
  CHECK(napi_set_named_property(env, result, "address", bytes));
  return result;
}

/* setReceiveBuffer(fd, bytes): lets tests fill a receive queue quickly. */
static napi_value js_set_receive_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, bytes;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_fd(env, argv[1], &bytes))
    return NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0) return fail(env);
  return make_int(env, 0);
}

/* setSendBuffer(fd, bytes): the largest datagram a socket can send is bounded by
 * its send buffer. Privileged processes may go past net.core.wmem_max with
 * SO_SNDBUFFORCE; everyone else gets what SO_SNDBUF allows (the kernel caps it).
 * Returns the size the kernel settled on. */
static napi_value js_set_send_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, bytes, actual = 0;
  socklen_t len = sizeof(actual);
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_fd(env, argv[1], &bytes))
    return NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
    return fail(env);
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &actual, &len) < 0) return fail(env);
  return make_int(env, actual);
}

/* sealedMemfd(data): an anonymous file holding exactly `data`, sealed against
 * any change (shrink, grow, write, and further sealing), as journald requires of
 * an entry passed by fd. Returns the fd (CLOEXEC) or -errno. memfd_create is
 * called through syscall(2): older C libraries have no wrapper for it. */
static napi_value js_sealed_memfd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *data = NULL;
  size_t size = 0, done = 0;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_buffer_info(env, argv[0], &data, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_NOTIFY_NATIVE", "data must be a Buffer");
    return NULL;
  }
  int fd = (int)syscall(SYS_memfd_create, "journal-entry",
                        MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fail(env);
  while (done < size) {
    ssize_t wrote = write(fd, (const char *)data + done, size - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      int saved = wrote < 0 ? errno : EIO;
      close(fd);
      return make_int(env, -saved);
    }
    done += (size_t)wrote;
  }
  if (fcntl(fd, F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    int saved = errno;
    close(fd);
    return make_int(env, -saved);
  }
  return make_int(env, fd);
}

/* fileSeals(fd): the F_GET_SEALS bits of a memfd, or -errno (tests check what a
 * journal receiver would see). */
static napi_value js_file_seals(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  int seals = fcntl(fd, F_GET_SEALS);
  return seals < 0 ? fail(env) : make_int(env, seals);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor exports_list[] = {
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pipe", NULL, js_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setCloexec", NULL, js_set_cloexec, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketInfo", NULL, js_socket_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketAddress", NULL, js_socket_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setReceiveBuffer", NULL, js_set_receive_buffer, NULL, NULL, NULL,
       napi_enumerable, NULL},
      {"setSendBuffer", NULL, js_set_send_buffer, NULL, NULL, NULL, napi_enumerable,
       NULL},
      {"sealedMemfd", NULL, js_sealed_memfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fileSeals", NULL, js_file_seals, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports,
                             sizeof(exports_list) / sizeof(exports_list[0]),
                             exports_list) != napi_ok)
    return throw_last(env);
  return exports;
}

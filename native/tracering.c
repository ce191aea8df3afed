// tracering native layer: the few syscalls Node lacks.
//
// Everything here is generic glue (mmap, munmap, ioctl, batched read, fd
// readiness on the event loop, flock, futex, thread affinity). Ring-buffer
// ABI knowledge (offsets, ioctl numbers) lives in TypeScript, in one place;
// the one exception is stage-pages.c, the capture thread's per-page path.
//
// Errors are thrown as Error objects shaped like Node's system errors:
// { code: 'EBUSY', errno: -16, syscall: 'mmap', message: 'EBUSY: ..., mmap' }.

#define _GNU_SOURCE
#include "napi-helpers.h"
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(env, call)                                    \
  do {                                                      \
    if ((call) != napi_ok) {                                \
      throw_napi_error(env, #call);                         \
      return NULL;                                          \
    }                                                       \
  } while (0)

static void throw_napi_error(napi_env env, const char* what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  const char* msg = info && info->error_message ? info->error_message : what;
  napi_throw_error(env, "ERR_NATIVE", msg);
}

// Throws a Node-style system error for errno `err` raised by `syscall_name`.
napi_value throw_errno(napi_env env, int err, const char* syscall_name) {
  const char* code = uv_err_name(-err);
  char message[256];
  snprintf(message, sizeof message, "%s: %s, %s", code, strerror(err), syscall_name);
  napi_value msg, code_v, errno_v, syscall_v, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_int32(env, -err, &errno_v);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_v);
  napi_create_error(env, code_v, msg, &error);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  napi_throw(env, error);
  return NULL;
}

napi_value throw_type_error(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

bool get_int64(napi_env env, napi_value v, int64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return false;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

napi_value make_int64(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

// Resolves a TypedArray/DataView/ArrayBuffer argument to a byte pointer and length.
bool get_bytes(napi_env env, napi_value v, uint8_t** data, size_t* length) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value ab;
    void* base;
    if (napi_get_typedarray_info(env, v, &type, &count, &base, &ab, &offset) != napi_ok) return false;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *data = base;  // already points at byte_offset
    *length = count * elem;
    return true;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    size_t len, offset;
    void* base;
    napi_value ab;
    if (napi_get_dataview_info(env, v, &len, &base, &ab, &offset) != napi_ok) return false;
    *data = base;
    *length = len;
    return true;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    void* base;
    if (napi_get_arraybuffer_info(env, v, &base, length) != napi_ok) return false;
    *data = base;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Mappings. Each mapping is an external ArrayBuffer. munmap() detaches the
// buffer first, so every view over it becomes zero-length instead of pointing
// at unmapped memory. The registry is process-wide (workers included) and
// keyed by address, which is unique while a mapping lives.

typedef struct mapping {
  void* addr;
  size_t length;
  bool unmapped;
  struct mapping* next;
} mapping_t;

static pthread_mutex_t mappings_lock = PTHREAD_MUTEX_INITIALIZER;
static mapping_t* mappings = NULL;

static void mapping_unlink(mapping_t* m) {
  pthread_mutex_lock(&mappings_lock);
  for (mapping_t** p = &mappings; *p; p = &(*p)->next) {
    if (*p == m) {
      *p = m->next;
      break;
    }
  }
  pthread_mutex_unlock(&mappings_lock);
}

static mapping_t* mapping_find(void* addr) {
  pthread_mutex_lock(&mappings_lock);
  mapping_t* m = mappings;
  while (m && m->addr != addr) m = m->next;
  pthread_mutex_unlock(&mappings_lock);
  return m;
}

// Runs when the ArrayBuffer is collected (or the environment ends). An
// explicit munmap() already released the memory; otherwise release it here.
static void mapping_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  mapping_t* m = hint;
  mapping_unlink(m);
  if (!m->unmapped) munmap(m->addr, m->length);
  free(m);
}

// mmap(fd, length, offset, writable) -> ArrayBuffer over a MAP_SHARED mapping.
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd, length, offset;
  bool writable = false;
  if (argc < 3 || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &length) ||
      !get_int64(env, argv[2], &offset))
    return throw_type_error(env, "mmap(fd, length, offset, writable?) expects numbers");
  if (argc > 3) napi_get_value_bool(env, argv[3], &writable);
  if (length <= 0 || offset < 0) return throw_errno(env, EINVAL, "mmap");

  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* addr = mmap(NULL, (size_t)length, prot, MAP_SHARED, (int)fd, (off_t)offset);
  if (addr == MAP_FAILED) return throw_errno(env, errno, "mmap");

  mapping_t* m = calloc(1, sizeof *m);
  if (!m) {
    munmap(addr, (size_t)length);
    return throw_errno(env, ENOMEM, "mmap");
  }
  m->addr = addr;
  m->length = (size_t)length;

  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, mapping_finalize, m, &ab) != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    throw_napi_error(env, "napi_create_external_arraybuffer");
    return NULL;
  }
  pthread_mutex_lock(&mappings_lock);
  m->next = mappings;
  mappings = m;
  pthread_mutex_unlock(&mappings_lock);
  return ab;
}

// munmap(arrayBuffer): detach every view, then unmap exactly what was mapped.
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_ab = false;
  if (argc < 1 || napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab)
    return throw_type_error(env, "munmap(buffer) expects the ArrayBuffer returned by mmap");
  void* data = NULL;
  size_t length = 0;
  CHECK(env, napi_get_arraybuffer_info(env, argv[0], &data, &length));
  mapping_t* m = data ? mapping_find(data) : NULL;
  if (!m || m->unmapped || m->length != length) {
    napi_throw_error(env, "ERR_NOT_MAPPED", "buffer is not a live mapping (already unmapped?)");
    return NULL;
  }
  CHECK(env, napi_detach_arraybuffer(env, argv[0]));
  if (munmap(m->addr, m->length) != 0) return throw_errno(env, errno, "munmap");
  m->unmapped = true;
  return NULL;
}

// isMapped(arrayBuffer) -> boolean
static napi_value js_is_mapped(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_ab = false, result = false;
  if (argc >= 1 && napi_is_arraybuffer(env, argv[0], &is_ab) == napi_ok && is_ab) {
    void* data = NULL;
    size_t length = 0;
    napi_get_arraybuffer_info(env, argv[0], &data, &length);
    mapping_t* m = data ? mapping_find(data) : NULL;
    result = m && !m->unmapped;
  }
  napi_value out;
  napi_get_boolean(env, result, &out);
  return out;
}

// ---------------------------------------------------------------------------
// ioctl(fd, request) -> int (argument-less requests only, which is all the
// tracefs mapping interface defines).
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd, request;
  if (argc < 2 || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &request))
    return throw_type_error(env, "ioctl(fd, request) expects numbers");
  int r;
  do r = ioctl((int)fd, (unsigned long)request, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "ioctl");
  return make_int64(env, r);
}

// readPages(fd, bytes, pageSize, maxPages[, stopBelow, longSize]) -> pages read.
// Reads page-sized chunks back to back until the fd would block, reaches
// end of file, or maxPages were read: one crossing into native code per batch
// instead of per page. A short read is zero-filled to the full page so page
// slots keep a fixed stride. An error after at least one page is deferred to
// the next call.
//
// stopBelow > 0 also ends the batch after a sub-buffer, other than the
// first, whose commit (the long at offset 8, longSize bytes) holds fewer
// data bytes than that: the reader has reached the page the writer is on.
// Reading on would chase the writer a few events per read() (the kernel
// copies a page in use event by event), at full syscall cost each.
static napi_value js_read_pages(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd, page_size, max_pages, stop_below = 0, long_size = 8;
  uint8_t* data;
  size_t length;
  if (argc < 4 || !get_int64(env, argv[0], &fd) || !get_bytes(env, argv[1], &data, &length) ||
      !get_int64(env, argv[2], &page_size) || !get_int64(env, argv[3], &max_pages) ||
      (argc > 4 && !get_int64(env, argv[4], &stop_below)) || (argc > 5 && !get_int64(env, argv[5], &long_size)))
    return throw_type_error(env, "readPages(fd, bytes, pageSize, maxPages[, stopBelow, longSize])");
  if (page_size <= 0 || max_pages < 0 || (uint64_t)page_size * (uint64_t)max_pages > length ||
      (long_size != 4 && long_size != 8) || (stop_below > 0 && page_size < 8 + long_size))
    return throw_errno(env, EINVAL, "read");
  int64_t pages = 0;
  while (pages < max_pages) {
    uint8_t* dst = data + pages * page_size;
    ssize_t n = read((int)fd, dst, (size_t)page_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (pages == 0) return throw_errno(env, errno, "read");
      break;
    }
    if (n == 0) break;
    if (n < page_size) memset(dst + n, 0, (size_t)(page_size - n));
    pages++;
    if (stop_below > 0 && pages > 1) {
      uint32_t commit;  // the low word holds the size and the MISSED flags (host order: a live buffer)
      if (long_size == 8) {
        uint64_t c64;
        memcpy(&c64, dst + 8, 8);
        commit = (uint32_t)c64;
      } else {
        memcpy(&commit, dst + 8, 4);
      }
      if ((int64_t)(commit & 0x3fffffffu) < stop_below) break;
    }
  }
  return make_int64(env, pages);
}

// flock(fd, exclusive, wait) -> true if the lock was taken, false if it is
// held elsewhere (only when wait is false).
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd;
  bool exclusive = true, wait = false;
  if (argc < 1 || !get_int64(env, argv[0], &fd)) return throw_type_error(env, "flock(fd, exclusive, wait)");
  if (argc > 1) napi_get_value_bool(env, argv[1], &exclusive);
  if (argc > 2) napi_get_value_bool(env, argv[2], &wait);
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  int r;
  do r = flock((int)fd, op);
  while (r < 0 && errno == EINTR);
  napi_value out;
  if (r < 0) {
    if (errno == EWOULDBLOCK) {
      napi_get_boolean(env, false, &out);
      return out;
    }
    return throw_errno(env, errno, "flock");
  }
  napi_get_boolean(env, true, &out);
  return out;
}

// ---------------------------------------------------------------------------
// Thread affinity of the calling thread (a worker pins itself to write
// events on a chosen CPU).

static napi_value js_set_thread_affinity(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return throw_type_error(env, "setThreadAffinity(cpus: number[])");
  uint32_t n;
  CHECK(env, napi_get_array_length(env, argv[0], &n));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    int64_t cpu;
    CHECK(env, napi_get_element(env, argv[0], i, &el));
    if (!get_int64(env, el, &cpu) || cpu < 0 || cpu >= CPU_SETSIZE) return throw_errno(env, EINVAL, "sched_setaffinity");
    CPU_SET((int)cpu, &set);
  }
  if (sched_setaffinity(0, sizeof set, &set) != 0) return throw_errno(env, errno, "sched_setaffinity");
  return NULL;
}

static napi_value js_get_thread_affinity(napi_env env, napi_callback_info info) {
  (void)info;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return throw_errno(env, errno, "sched_getaffinity");
  napi_value arr;
  CHECK(env, napi_create_array(env, &arr));
  uint32_t k = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &set)) napi_set_element(env, arr, k++, make_int64(env, cpu));
  }
  return arr;
}

static napi_value js_current_cpu(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int64(env, sched_getcpu());
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int64(env, (int64_t)syscall(SYS_gettid));
}

// ---------------------------------------------------------------------------
// Futex on a shared mapping (not FUTEX_PRIVATE: the other side may be another
// process mapping the same file).

static int32_t* futex_word(napi_env env, napi_value arr, napi_value index_v) {
  bool is;
  napi_typedarray_type type;
  size_t count, offset;
  void* base;
  napi_value ab;
  int64_t index;
  if (napi_is_typedarray(env, arr, &is) != napi_ok || !is) return NULL;
  if (napi_get_typedarray_info(env, arr, &type, &count, &base, &ab, &offset) != napi_ok) return NULL;
  if (type != napi_int32_array || !get_int64(env, index_v, &index) || index < 0 || (size_t)index >= count) return NULL;
  return (int32_t*)base + index;
}

// futexWake(int32Array, index, count) -> number of waiters woken
static napi_value js_futex_wake(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t count = INT32_MAX;
  int32_t* word = argc >= 2 ? futex_word(env, argv[0], argv[1]) : NULL;
  if (!word) return throw_type_error(env, "futexWake(int32Array, index, count)");
  if (argc > 2) get_int64(env, argv[2], &count);
  long r = syscall(SYS_futex, word, FUTEX_WAKE, (int)count, NULL, NULL, 0);
  if (r < 0) return throw_errno(env, errno, "futex");
  return make_int64(env, r);
}

static int futex_wait_ms(int32_t* word, int32_t expected, double timeout_ms) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ms >= 0 && timeout_ms < 1e15) {
    ts.tv_sec = (time_t)(timeout_ms / 1000);
    ts.tv_nsec = (long)((timeout_ms - (double)ts.tv_sec * 1000) * 1e6);
    tsp = &ts;
  }
  long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
  if (r == 0) return 0;
  return errno;
}

static napi_value futex_result(napi_env env, int err) {
  const char* s = err == 0 ? "ok" : err == EAGAIN ? "not-equal" : err == ETIMEDOUT ? "timed-out" : NULL;
  if (!s) {
    if (err == EINTR) s = "ok";  // a signal: callers re-check their condition
    else return throw_errno(env, err, "futex");
  }
  napi_value out;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
  return out;
}

// futexWait(int32Array, index, expected, timeoutMs) -> 'ok' | 'not-equal' | 'timed-out'
// Blocks the calling thread: for workers; the event loop uses futexWaitAsync.
static napi_value js_futex_wait(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t* word = argc >= 3 ? futex_word(env, argv[0], argv[1]) : NULL;
  int32_t expected;
  double timeout = -1;
  if (!word || napi_get_value_int32(env, argv[2], &expected) != napi_ok)
    return throw_type_error(env, "futexWait(int32Array, index, expected, timeoutMs)");
  if (argc > 3) napi_get_value_double(env, argv[3], &timeout);
  return futex_result(env, futex_wait_ms(word, expected, timeout));
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref array_ref;  // keeps the memory alive while a pool thread waits on it
  int32_t* word;
  int32_t expected;
  double timeout;
  int result;
} futex_wait_t;

static void futex_wait_execute(napi_env env, void* data) {
  (void)env;
  futex_wait_t* w = data;
  w->result = futex_wait_ms(w->word, w->expected, w->timeout);
}

static void futex_wait_complete(napi_env env, napi_status status, void* data) {
  futex_wait_t* w = data;
  napi_value value;
  if (status == napi_cancelled) {
    napi_create_string_utf8(env, "timed-out", NAPI_AUTO_LENGTH, &value);
    napi_resolve_deferred(env, w->deferred, value);
  } else {
    int err = w->result;
    if (err == 0 || err == EAGAIN || err == ETIMEDOUT || err == EINTR) {
      const char* s = err == EAGAIN ? "not-equal" : err == ETIMEDOUT ? "timed-out" : "ok";
      napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &value);
      napi_resolve_deferred(env, w->deferred, value);
    } else {
      napi_value msg;
      napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &value);
      napi_reject_deferred(env, w->deferred, value);
    }
  }
  napi_delete_reference(env, w->array_ref);
  napi_delete_async_work(env, w->work);
  free(w);
}

// futexWaitAsync(int32Array, index, expected, timeoutMs) -> Promise<result>
// Waits on a libuv pool thread; always pass a finite timeout so a lost wake-up
// cannot hold a pool thread forever.
static napi_value js_futex_wait_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t* word = argc >= 4 ? futex_word(env, argv[0], argv[1]) : NULL;
  int32_t expected;
  double timeout;
  if (!word || napi_get_value_int32(env, argv[2], &expected) != napi_ok ||
      napi_get_value_double(env, argv[3], &timeout) != napi_ok || !(timeout >= 0))
    return throw_type_error(env, "futexWaitAsync(int32Array, index, expected, timeoutMs >= 0)");
  futex_wait_t* w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "futex");
  w->word = word;
  w->expected = expected;
  w->timeout = timeout;
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &w->deferred, &promise));
  CHECK(env, napi_create_reference(env, argv[0], 1, &w->array_ref));
  napi_create_string_utf8(env, "tracering.futexWait", NAPI_AUTO_LENGTH, &name);
  CHECK(env, napi_create_async_work(env, NULL, name, futex_wait_execute, futex_wait_complete, w, &w->work));
  CHECK(env, napi_queue_async_work(env, w->work));
  return promise;
}

// monotonicNs() -> bigint nanoseconds of CLOCK_MONOTONIC, the clock the
// kernel's `mono` trace_clock reads (BigInt: exact past 2^53 ns of uptime).
static napi_value js_clock_monotonic(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  napi_value out;
  napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec, &out);
  return out;
}

// clockNs(id) -> bigint nanoseconds of clock `id` (CLOCK_REALTIME 0,
// MONOTONIC 1, MONOTONIC_RAW 4, BOOTTIME 7, TAI 11: the clocks a trace
// clock is mapped to; PROCESS_CPUTIME_ID 2 and THREAD_CPUTIME_ID 3: the
// CPU time benchmarks measure on a shared machine). Node has no BOOTTIME
// or per-thread CPU time of its own (before 23.9).
static napi_value js_clock_ns(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t id = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &id) != napi_ok) return throw_type_error(env, "clockNs(id): id must be an integer");
  if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_MONOTONIC_RAW && id != CLOCK_BOOTTIME && id != CLOCK_TAI &&
      id != CLOCK_PROCESS_CPUTIME_ID && id != CLOCK_THREAD_CPUTIME_ID) {
    return throw_type_error(env, "clockNs(id): id must be CLOCK_REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME, TAI, PROCESS_CPUTIME_ID or THREAD_CPUTIME_ID");
  }
  struct timespec ts;
  if (clock_gettime((clockid_t)id, &ts) != 0) return throw_errno(env, errno, "clock_gettime");
  napi_value out;
  napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec, &out);
  return out;
}

// ---------------------------------------------------------------------------
// Poller: fd readiness on the event loop of the calling environment (main
// thread or worker). The handle is closed by close(), by the garbage
// collector, or by the environment's async cleanup hook at worker teardown,
// whichever comes first; the struct is freed once the handle is closed and
// the JS wrapper is gone.

typedef struct poller {
  uv_poll_t handle;
  napi_env env;
  napi_ref self_ref;  // weak normally, strong while started
  napi_ref callback_ref;
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup_hook;
  bool started;
  bool closing;
  bool handle_closed;
  bool wrapper_gone;
} poller_t;

static void poller_maybe_free(poller_t* p) {
  if (p->handle_closed && p->wrapper_gone) free(p);
}

static void poller_on_closed(uv_handle_t* handle) {
  poller_t* p = handle->data;
  if (p->cleanup_hook) {
    napi_remove_async_cleanup_hook(p->cleanup_hook);
    p->cleanup_hook = NULL;
  }
  p->handle_closed = true;
  poller_maybe_free(p);
}

// Releases JS-side resources; safe to call more than once.
static void poller_release_js(poller_t* p) {
  if (p->callback_ref) {
    napi_delete_reference(p->env, p->callback_ref);
    p->callback_ref = NULL;
  }
  if (p->async_context) {
    napi_async_destroy(p->env, p->async_context);
    p->async_context = NULL;
  }
}

static void poller_close_handle(poller_t* p) {
  if (p->closing) return;
  p->closing = true;
  uv_poll_stop(&p->handle);
  uv_close((uv_handle_t*)&p->handle, poller_on_closed);
}

static void poller_cleanup_hook(napi_async_cleanup_hook_handle handle, void* arg) {
  (void)handle;
  poller_t* p = arg;
  if (p->closing) return;  // poller_on_closed removes the hook
  poller_close_handle(p);
}

static void poller_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  poller_t* p = data;
  poller_release_js(p);
  if (p->self_ref) {
    napi_delete_reference(p->env, p->self_ref);
    p->self_ref = NULL;
  }
  p->wrapper_gone = true;
  if (!p->closing) poller_close_handle(p);
  poller_maybe_free(p);
}

static void poller_on_event(uv_poll_t* handle, int status, int events) {
  poller_t* p = handle->data;
  if (!p->started || p->closing || !p->callback_ref) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self, callback, argv[2], result;
  if (napi_get_reference_value(env, p->self_ref, &self) == napi_ok && self &&
      napi_get_reference_value(env, p->callback_ref, &callback) == napi_ok && callback) {
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    napi_status s = napi_make_callback(env, p->async_context, self, callback, 2, argv, &result);
    if (s == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

static poller_t* poller_unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || !data) {
    napi_throw_error(env, "ERR_INVALID_THIS", "not a Poller");
    return NULL;
  }
  return data;
}

// new Poller(fd, callback(status, events))
static napi_value poller_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self, target;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  CHECK(env, napi_get_new_target(env, info, &target));
  if (!target) return throw_type_error(env, "Poller must be called with new");
  int64_t fd;
  napi_valuetype t;
  if (argc < 2 || !get_int64(env, argv[0], &fd) || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
    return throw_type_error(env, "new Poller(fd, callback)");

  uv_loop_t* loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  poller_t* p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, ENOMEM, "uv_poll_init");
  p->env = env;
  int r = uv_poll_init(loop, &p->handle, (int)fd);
  if (r != 0) {
    free(p);
    return throw_errno(env, -r, "uv_poll_init");
  }
  p->handle.data = p;
  napi_value name;
  napi_create_string_utf8(env, "tracering.Poller", NAPI_AUTO_LENGTH, &name);
  if (napi_async_init(env, self, name, &p->async_context) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &p->callback_ref) != napi_ok ||
      napi_wrap(env, self, p, poller_finalize, NULL, &p->self_ref) != napi_ok) {
    poller_release_js(p);
    p->wrapper_gone = true;
    poller_close_handle(p);
    throw_napi_error(env, "Poller");
    return NULL;
  }
  napi_add_async_cleanup_hook(env, poller_cleanup_hook, p, &p->cleanup_hook);
  return self;
}

// poller.start(events): UV_READABLE = 1, UV_WRITABLE = 2, UV_DISCONNECT = 4, UV_PRIORITIZED = 8
static napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  poller_t* p = poller_unwrap(env, info, &argc, argv);
  if (!p) return NULL;
  if (p->closing) {
    napi_throw_error(env, "ERR_POLLER_CLOSED", "poller is closed");
    return NULL;
  }
  int64_t events = UV_READABLE;
  if (argc >= 1) get_int64(env, argv[0], &events);
  int r = uv_poll_start(&p->handle, (int)events, poller_on_event);
  if (r != 0) return throw_errno(env, -r, "uv_poll_start");
  if (!p->started) {
    uint32_t count;
    napi_reference_ref(env, p->self_ref, &count);
    p->started = true;
  }
  return NULL;
}

static void poller_do_stop(napi_env env, poller_t* p) {
  if (!p->started) return;
  uv_poll_stop(&p->handle);
  uint32_t count;
  napi_reference_unref(env, p->self_ref, &count);
  p->started = false;
}

static napi_value poller_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  poller_t* p = poller_unwrap(env, info, &argc, NULL);
  if (!p) return NULL;
  if (!p->closing) poller_do_stop(env, p);
  return NULL;
}

static napi_value poller_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  poller_t* p = poller_unwrap(env, info, &argc, NULL);
  if (!p) return NULL;
  if (p->closing) return NULL;
  poller_do_stop(env, p);
  poller_release_js(p);
  poller_close_handle(p);
  return NULL;
}

// ---------------------------------------------------------------------------
// copyFileRange(fdIn, offIn, fdOut, offOut, length) -> bytes copied.
// Loops on short copies until `length` bytes are copied or fdIn ends; an
// error after some bytes were copied is deferred to the next call (the
// caller sees a short count and calls again), so a fallback to read/write
// on EXDEV/ENOSYS/EINVAL knows exactly where to resume.
static napi_value js_copy_file_range(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd_in, off_in, fd_out, off_out, length;
  if (argc < 5 || !get_int64(env, argv[0], &fd_in) || !get_int64(env, argv[1], &off_in) ||
      !get_int64(env, argv[2], &fd_out) || !get_int64(env, argv[3], &off_out) || !get_int64(env, argv[4], &length))
    return throw_type_error(env, "copyFileRange(fdIn, offIn, fdOut, offOut, length) expects numbers");
  if (off_in < 0 || off_out < 0 || length < 0) return throw_errno(env, EINVAL, "copy_file_range");
  loff_t in = (loff_t)off_in, out = (loff_t)off_out;
  int64_t done = 0;
  while (done < length) {
    int64_t want = length - done;
    if (want > ((int64_t)1 << 30)) want = (int64_t)1 << 30;
    ssize_t n = copy_file_range((int)fd_in, &in, (int)fd_out, &out, (size_t)want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (done == 0) return throw_errno(env, errno, "copy_file_range");
      break;
    }
    if (n == 0) break;
    done += n;
  }
  return make_int64(env, done);
}

// ---------------------------------------------------------------------------

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"mmap", NULL, js_mmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"munmap", NULL, js_munmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isMapped", NULL, js_is_mapped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioctl", NULL, js_ioctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readPages", NULL, js_read_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stagePages", NULL, js_stage_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreadAffinity", NULL, js_set_thread_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreadAffinity", NULL, js_get_thread_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
      {"currentCpu", NULL, js_current_cpu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gettid", NULL, js_gettid, NULL, NULL, NULL, napi_enumerable, NULL},
      {"futexWake", NULL, js_futex_wake, NULL, NULL, NULL, napi_enumerable, NULL},
      {"futexWait", NULL, js_futex_wait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"futexWaitAsync", NULL, js_futex_wait_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"monotonicNs", NULL, js_clock_monotonic, NULL, NULL, NULL, napi_enumerable, NULL},
      {"clockNs", NULL, js_clock_ns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyFileRange", NULL, js_copy_file_range, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));

  napi_property_descriptor methods[] = {
      {"start", NULL, poller_start, NULL, NULL, NULL, napi_default_method, NULL},
      {"stop", NULL, poller_stop, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, poller_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value poller_class;
  CHECK(env, napi_define_class(env, "Poller", NAPI_AUTO_LENGTH, poller_new, NULL, 3, methods, &poller_class));
  CHECK(env, napi_set_named_property(env, exports, "Poller", poller_class));

  napi_value page_size;
  napi_create_int64(env, sysconf(_SC_PAGESIZE), &page_size);
  napi_set_named_property(env, exports, "pageSize", page_size);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

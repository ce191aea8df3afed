// LD_PRELOAD shim for the recording benchmark (bench/record.ts): makes the
// function tracer's control files look absent to trace-cmd, so that
// `trace-cmd record` starts on a machine where the function tracer is
// forbidden. trace-cmd record always writes 1 to
// /proc/sys/kernel/ftrace_enabled (EPERM here: "Can't enable ftrace"), but
// checks with stat() first and skips a file that does not exist; so the
// shim answers ENOENT for those paths in every call that names a path
// (stat/lstat/fstatat/statx, open/openat/fopen, access/faccessat), and
// forwards everything else to libc untouched.
//
//   cc -O2 -shared -fPIC -o noftrace-shim.so noftrace-shim.c -ldl
//   LD_PRELOAD=./noftrace-shim.so trace-cmd record ...
//
// TRBENCH_SHIM_HIDE: the paths to hide, colon-separated (default: see
// DEFAULT_HIDE); an entry starting with "*/" hides every
// path ending in the rest (e.g. "*/options/function-trace" in any instance).
// TRBENCH_SHIM_LOG: a file to append "hid CALL PATH" lines to.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Found with strace -f: trace-cmd record writes 1 to ftrace_enabled (EPERM:
 * "Can't enable ftrace"); its traced-command child opens set_ftrace_pid
 * (EPERM, then a NULL dereference); at exit it truncates set_ftrace_filter
 * (EPERM: it dies before writing the file). Each is skipped when stat()
 * says it is absent. */
#define DEFAULT_HIDE                                                                          \
  "/proc/sys/kernel/ftrace_enabled:*/set_ftrace_pid:*/set_ftrace_notrace_pid:*/set_ftrace_filter:" \
  "*/set_ftrace_notrace"

static int hidden(const char* call, const char* path) {
  if (!path) return 0;
  const char* list = getenv("TRBENCH_SHIM_HIDE");
  if (!list || !*list) list = DEFAULT_HIDE;
  size_t plen = strlen(path);
  int hit = 0;
  for (const char* p = list; *p && !hit;) {
    const char* end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 1 && p[0] == '*' && p[1] == '/') {
      size_t s = n - 1; /* "/suffix" */
      hit = plen >= s && memcmp(path + plen - s, p + 1, s) == 0;
    } else {
      hit = n == plen && memcmp(path, p, n) == 0;
    }
    p += n + (end ? 1 : 0);
  }
  if (hit) {
    const char* log = getenv("TRBENCH_SHIM_LOG");
    if (log && *log) {
      int (*real_open)(const char*, int, ...) = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open");
      int fd = real_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) {
        char line[4200];
        int len = snprintf(line, sizeof line, "hid %s %s\n", call, path);
        if (len > 0 && write(fd, line, (size_t)len) < 0) { /* best effort */
        }
        close(fd);
      }
    }
    errno = ENOENT;
  }
  return hit;
}

int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);

/* The next definition of `name` (libc's), looked up once. */
#define REAL(name)                     \
  static __typeof__(&name) real_##name; \
  if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* open(2) family: the mode argument is there only with O_CREAT/O_TMPFILE. */
#define OPEN_MODE(flags, mode)                        \
  mode_t mode = 0;                                    \
  if ((flags) & (O_CREAT | O_TMPFILE)) {              \
    va_list ap;                                       \
    va_start(ap, flags);                              \
    mode = (mode_t)va_arg(ap, int);                   \
    va_end(ap);                                       \
  }

int open(const char* path, int flags, ...) {
  OPEN_MODE(flags, mode);
  if (hidden("open", path)) return -1;
  REAL(open);
  return real_open(path, flags, mode);
}
int open64(const char* path, int flags, ...) {
  OPEN_MODE(flags, mode);
  if (hidden("open64", path)) return -1;
  REAL(open64);
  return real_open64(path, flags, mode);
}
int __open_2(const char* path, int flags) {
  if (hidden("__open_2", path)) return -1;
  REAL(__open_2);
  return real___open_2(path, flags);
}
int __open64_2(const char* path, int flags) {
  if (hidden("__open64_2", path)) return -1;
  REAL(__open64_2);
  return real___open64_2(path, flags);
}
int openat(int dirfd, const char* path, int flags, ...) {
  OPEN_MODE(flags, mode);
  if (hidden("openat", path)) return -1;
  REAL(openat);
  return real_openat(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char* path, int flags, ...) {
  OPEN_MODE(flags, mode);
  if (hidden("openat64", path)) return -1;
  REAL(openat64);
  return real_openat64(dirfd, path, flags, mode);
}
FILE* fopen(const char* path, const char* how) {
  if (hidden("fopen", path)) return NULL;
  REAL(fopen);
  return real_fopen(path, how);
}
FILE* fopen64(const char* path, const char* how) {
  if (hidden("fopen64", path)) return NULL;
  REAL(fopen64);
  return real_fopen64(path, how);
}
int stat(const char* path, struct stat* st) {
  if (hidden("stat", path)) return -1;
  REAL(stat);
  return real_stat(path, st);
}
int stat64(const char* path, struct stat64* st) {
  if (hidden("stat64", path)) return -1;
  REAL(stat64);
  return real_stat64(path, st);
}
int lstat(const char* path, struct stat* st) {
  if (hidden("lstat", path)) return -1;
  REAL(lstat);
  return real_lstat(path, st);
}
int lstat64(const char* path, struct stat64* st) {
  if (hidden("lstat64", path)) return -1;
  REAL(lstat64);
  return real_lstat64(path, st);
}
int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  if (hidden("fstatat", path)) return -1;
  REAL(fstatat);
  return real_fstatat(dirfd, path, st, flags);
}
int fstatat64(int dirfd, const char* path, struct stat64* st, int flags) {
  if (hidden("fstatat64", path)) return -1;
  REAL(fstatat64);
  return real_fstatat64(dirfd, path, st, flags);
}
int statx(int dirfd, const char* path, int flags, unsigned int mask, struct statx* st) {
  if (hidden("statx", path)) return -1;
  REAL(statx);
  return real_statx(dirfd, path, flags, mask, st);
}
int access(const char* path, int how) {
  if (hidden("access", path)) return -1;
  REAL(access);
  return real_access(path, how);
}
int faccessat(int dirfd, const char* path, int how, int flags) {
  if (hidden("faccessat", path)) return -1;
  REAL(faccessat);
  return real_faccessat(dirfd, path, how, flags);
}

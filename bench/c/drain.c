// Reference consumer for the drain benchmark (bench/drain.ts): drains one
// per-CPU tracefs ring buffer the way tracering does, with no library in the
// way, so tracering's cost can be quoted as a ratio to it.
//
//   drain --dir TRACE_ARRAY --cpu N --mode mmap|read [--pin CPU] [--max-ms T]
//
// mmap: map per_cpu/cpuN/trace_pipe_raw, then GET_READER until the reader
//       stops moving (kernel-abi.md §4.5).
// read: read() one sub-buffer at a time until EAGAIN (§10.1).
// Both walk every record header of the consumed range, reconstruct
// timestamps (§6.3) and count data records. Only the drain loop is timed
// (not open/mmap/munmap), by the wall clock and by this thread's CPU time
// (user + system: the kernel's side of GET_READER and read() included).
// Prints one JSON line.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GET_READER 0x5220 /* _IO('R', 0x20) */
#define DATA_OFFSET 16    /* 64-bit kernel: u64 time_stamp, long commit */

struct meta { /* struct trace_buffer_meta, 6.10+ */
  uint32_t meta_page_size, meta_struct_len, subbuf_size, nr_subbufs;
  uint64_t reader_lost_events;
  uint32_t reader_id, reader_read;
  uint64_t flags, entries, overrun, read, reserved1, reserved2;
};

struct totals {
  uint64_t events, bytes, subbufs, calls, corrupt, ts_sum;
};

static void die(const char* what) {
  fprintf(stderr, "drain: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint32_t u32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// Walks the records of data area `data` from offset `from` to `end`, starting
// with timestamp *ts. Counts data records at offsets >= emit. Same checks as
// tracering's walker: a record overrunning `end` drops the rest.
static void walk(const uint8_t* data, uint32_t from, uint32_t end, uint32_t emit, uint64_t* ts,
                 struct totals* t) {
  uint32_t pos = from;
  while (pos < end) {
    if (end - pos < 4) goto bad;
    uint32_t w = u32(data + pos), type = w & 31, delta = w >> 5, len;
    if (type >= 1 && type <= 28) {
      len = 4 + type * 4;
      if (pos + len > end) goto bad;
      *ts += delta;
      if (pos >= emit) { t->events++; t->ts_sum += *ts; }
      pos += len;
      continue;
    }
    if (end - pos < 8) goto bad;
    uint32_t arg = u32(data + pos + 4);
    if (type == 0) { /* large data record: arg = payload length + 4 */
      if (arg < 4 || (arg & 3) || pos + 4 + arg > end) goto bad;
      *ts += delta;
      if (pos >= emit) { t->events++; t->ts_sum += *ts; }
      pos += 4 + arg;
    } else if (type == 30) { /* TIME_EXTEND */
      *ts += ((uint64_t)arg << 27) + delta;
      pos += 8;
    } else if (type == 31) { /* TIME_STAMP (absolute, 59 bits) */
      uint64_t v = ((uint64_t)arg << 27) + delta;
      *ts = v; /* TS_MSB fix-up omitted: clocks below 2^59 */
      pos += 8;
    } else { /* padding: delta 0 = nothing more on this page */
      if (delta == 0) break;
      if ((arg & 3) || pos + 4 + arg > end) goto bad;
      pos += 4 + arg;
    }
  }
  t->bytes += end - from;
  return;
bad:
  t->corrupt++;
  t->bytes += end - from;
}

static int pipe_raw(const char* dir, int cpu) {
  char path[4096];
  snprintf(path, sizeof path, "%s/per_cpu/cpu%d/trace_pipe_raw", dir, cpu);
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) die(path);
  return fd;
}

static uint64_t drain_mmap(int fd, uint64_t max_ns, struct totals* t) {
  long page = sysconf(_SC_PAGESIZE);
  const struct meta* head = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
  if (head == MAP_FAILED) die("mmap meta page");
  size_t msz = head->meta_page_size, ssz = head->subbuf_size, n = head->nr_subbufs;
  size_t length = msz + n * ssz;
  const uint8_t* map = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap buffer");
  munmap((void*)head, (size_t)page);
  const volatile struct meta* meta = (const void*)map;
  uint32_t cur = meta->reader_id, pos = meta->reader_read, skip = pos;
  uint64_t ts = 0;
  int begun = 0;

  uint64_t start = now_ns(), limit = 2 * n + 8;
  for (uint64_t i = 0; i < limit; i++) {
    if (ioctl(fd, GET_READER) < 0) die("GET_READER");
    t->calls++;
    uint32_t id = __atomic_load_n(&meta->reader_id, __ATOMIC_ACQUIRE);
    uint32_t end = __atomic_load_n(&meta->reader_read, __ATOMIC_ACQUIRE);
    if (id >= n || end > ssz - DATA_OFFSET) { errno = ERANGE; die("meta page out of range"); }
    const uint8_t* sb = map + msz + (size_t)id * ssz;
    uint32_t from = pos;
    if (id != cur || !begun) {
      // A new sub-buffer (or the one found at map time): timestamps are
      // cumulative deltas, so walk from its start and count from `skip`.
      if (id != cur) { cur = id; skip = 0; }
      memcpy(&ts, sb, 8);
      begun = 1;
      from = 0;
      if (end > 0) t->subbufs++;
    } else if (end <= pos) {
      break; /* the reader did not move: the buffer is empty */
    }
    walk(sb + DATA_OFFSET, from, end, skip, &ts, t);
    pos = end;
    if ((i & 63) == 63 && now_ns() - start > max_ns) break;
  }
  uint64_t elapsed = now_ns() - start;
  munmap((void*)map, length);
  return elapsed;
}

static uint64_t drain_read(int fd, size_t ssz, uint64_t max_ns, struct totals* t) {
  uint8_t* buf = aligned_alloc(4096, ssz);
  if (!buf) die("alloc");
  uint64_t start = now_ns();
  for (;;) {
    ssize_t got = read(fd, buf, ssz);
    t->calls++;
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      die("read");
    }
    if (got == 0) break;
    if ((size_t)got < DATA_OFFSET) { t->corrupt++; continue; }
    uint32_t commit = u32(buf + 8) & 0x3fffffff; /* low 32 bits; flags above */
    if (commit > (size_t)got - DATA_OFFSET) { t->corrupt++; continue; }
    uint64_t ts;
    memcpy(&ts, buf, 8);
    t->subbufs++;
    walk(buf + DATA_OFFSET, 0, commit, 0, &ts, t);
    if ((t->subbufs & 63) == 0 && now_ns() - start > max_ns) break;
  }
  uint64_t elapsed = now_ns() - start;
  free(buf);
  return elapsed;
}

static long read_long(const char* dir, const char* rel) {
  char path[4096], text[64] = {0};
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  if (read(fd, text, sizeof text - 1) < 0) die(path);
  close(fd);
  return strtol(text, NULL, 10);
}

int main(int argc, char** argv) {
  const char *dir = NULL, *mode = NULL;
  int cpu = -1, pin = -1;
  long max_ms = 60000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
    else if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--pin")) pin = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--max-ms")) max_ms = atol(argv[i + 1]);
  }
  if (!dir || !mode || cpu < 0 || (strcmp(mode, "mmap") && strcmp(mode, "read"))) {
    fprintf(stderr, "usage: drain --dir TRACE_ARRAY --cpu N --mode mmap|read [--pin CPU] [--max-ms T]\n");
    return 2;
  }
  if (pin < 0) pin = cpu;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(pin, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) die("sched_setaffinity");

  struct totals t = {0};
  int fd = pipe_raw(dir, cpu);
  uint64_t max_ns = (uint64_t)max_ms * 1000000u, elapsed;
  size_t subbuf = !strcmp(mode, "mmap") ? 0 : (size_t)read_long(dir, "buffer_subbuf_size_kb") * 1024;
  uint64_t cpu0 = cpu_ns();
  if (!strcmp(mode, "mmap")) elapsed = drain_mmap(fd, max_ns, &t);
  else elapsed = drain_read(fd, subbuf, max_ns, &t);
  uint64_t spent = cpu_ns() - cpu0;
  close(fd);
  printf("{\"mode\":\"%s\",\"cpu\":%d,\"events\":%llu,\"bytes\":%llu,\"subbufs\":%llu,\"calls\":%llu,"
         "\"corrupt\":%llu,\"ts_sum\":\"%llu\",\"elapsed_ns\":%llu,\"cpu_ns\":%llu}\n",
         mode, cpu, (unsigned long long)t.events, (unsigned long long)t.bytes,
         (unsigned long long)t.subbufs, (unsigned long long)t.calls, (unsigned long long)t.corrupt,
         (unsigned long long)t.ts_sum, (unsigned long long)elapsed, (unsigned long long)spent);
  return t.corrupt ? 3 : 0;
}

// Bounded load generator for the drain benchmark (bench/drain.ts): writes
// trace_marker_raw records from one pinned CPU, as fast as write() goes.
//
//   fill --file INSTANCE/trace_marker_raw --cpu N --count C --size B [--max-ms T]
//
// Each write() is one raw_data event: a u32 id, then B-4 bytes (B >= 4), so
// the event payload is 8 (common header) + B bytes. Stops after C writes, T
// milliseconds (default 30000), or the first refused write (a full buffer
// in non-overwrite mode answers EBADF). Prints one JSON line.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 100000000L
#define MAX_SIZE 4000

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char** argv) {
  const char* file = NULL;
  long cpu = -1, count = -1, size = 16, max_ms = 30000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--file")) file = argv[i + 1];
    else if (!strcmp(argv[i], "--cpu")) cpu = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--count")) count = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) size = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--max-ms")) max_ms = atol(argv[i + 1]);
  }
  if (!file || cpu < 0 || count < 0 || count > MAX_COUNT || size < 4 || size > MAX_SIZE || max_ms <= 0 ||
      max_ms > 600000) {
    fprintf(stderr, "usage: fill --file PATH --cpu N --count C(<=%ld) --size 4..%d [--max-ms 1..600000]\n",
            MAX_COUNT, MAX_SIZE);
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((int)cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) {
    perror("fill: sched_setaffinity");
    return 1;
  }
  int fd = open(file, O_WRONLY);
  if (fd < 0) {
    perror(file);
    return 1;
  }
  uint8_t buf[MAX_SIZE];
  memset(buf, 0xa5, sizeof buf);
  uint32_t id = 0x7462; /* "bt" */
  memcpy(buf, &id, 4);

  const char* stop = "count";
  long written = 0;
  int err = 0;
  uint64_t start = now_ns(), deadline = start + (uint64_t)max_ms * 1000000u;
  while (written < count) {
    memcpy(buf + 4, &written, size >= 12 ? 8 : (size_t)size - 4); /* a sequence number */
    ssize_t n = write(fd, buf, (size_t)size);
    if (n != size) {
      if (n < 0 && errno == EINTR) continue;
      err = n < 0 ? errno : EIO;
      stop = err == EBADF ? "full" : "error";
      break;
    }
    written++;
    if ((written & 1023) == 0 && now_ns() > deadline) {
      stop = "time";
      break;
    }
  }
  uint64_t elapsed = now_ns() - start;
  close(fd);
  printf("{\"written\":%ld,\"stop\":\"%s\",\"errno\":%d,\"elapsed_ns\":%llu}\n", written, stop, err,
         (unsigned long long)elapsed);
  return strcmp(stop, "error") == 0 ? 1 : 0;
}

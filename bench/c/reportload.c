// Bounded, varied load generator for the report benchmark (bench/report.ts):
// makes a traced instance record a realistic mix of events quickly.
//
//   reportload --dir SCRATCH --array INSTANCE_DIR --events N [--max-ms T] [--max-iters I]
//
// Each iteration of the main loop:
//   - pipe ping-pong with a forked helper (sched_switch/wakeup, syscalls);
//   - a small file write, with fsync now and then (ext4, block, writeback);
//   - a loopback TCP send, received on the peer socket (net, sock, tcp, skb);
//   - a 1 MiB allocation touched and freed (mmap/munmap, page faults, kmem);
//   - a trace_marker and a trace_marker_raw write (ftrace print, raw_data);
//   - now and then a fork+exec of /bin/true, a short nanosleep (timers), a
//     getdents/stat pass over the scratch directory.
// Stops at the first of: the instance's per-CPU stats summing to N entries
// (checked every few iterations), T milliseconds (default 3000), I
// iterations (default 1000000). Every child is killed and reaped before
// exit. Prints one JSON line.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 256

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

/* Per-CPU stats files of the instance, opened once (re-read with pread at offset 0). */
static int stats_fds[MAX_CPUS];
static int stats_count;

static void open_stats(const char* array) {
  char path[4096];
  for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
    snprintf(path, sizeof path, "%s/per_cpu/cpu%d/stats", array, cpu);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) stats_fds[stats_count++] = fd;
  }
}

/* Sum of "entries:" over the per-CPU stats; -1 on error. */
static long entries(void) {
  char buf[4096];
  long total = 0;
  for (int i = 0; i < stats_count; i++) {
    ssize_t n = pread(stats_fds[i], buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    char* e = strstr(buf, "entries:");
    if (!e) return -1;
    total += atol(e + 8);
  }
  return stats_count ? total : -1;
}

/* Helper child: echoes bytes from `in` to `out` until EOF. */
static void echo_child(int in, int out) {
  char c;
  while (read(in, &c, 1) == 1)
    if (write(out, &c, 1) != 1) break;
  _exit(0);
}

int main(int argc, char** argv) {
  const char *dir = NULL, *array = NULL;
  long target = -1, max_ms = 3000, max_iters = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!strcmp(argv[i], "--array")) array = argv[i + 1];
    else if (!strcmp(argv[i], "--events")) target = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--max-ms")) max_ms = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--max-iters")) max_iters = atol(argv[i + 1]);
  }
  if (!dir || !array || target < 1 || target > 100000000L || max_ms < 1 || max_ms > 60000 || max_iters < 1 ||
      max_iters > 100000000L) {
    fprintf(stderr,
            "usage: reportload --dir SCRATCH --array INSTANCE --events 1..1e8 [--max-ms 1..60000] "
            "[--max-iters 1..1e8]\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/trace_marker", array);
  int marker = open(path, O_WRONLY);
  snprintf(path, sizeof path, "%s/trace_marker_raw", array);
  int marker_raw = open(path, O_WRONLY);
  if (marker < 0 || marker_raw < 0) die("reportload: open trace_marker");
  open_stats(array);
  if (stats_count == 0) die("reportload: no per_cpu stats");

  /* The echo helper (pipe ping-pong partner). */
  int to_child[2], from_child[2];
  if (pipe(to_child) < 0 || pipe(from_child) < 0) die("reportload: pipe");
  pid_t echo = fork();
  if (echo < 0) die("reportload: fork");
  if (echo == 0) {
    close(to_child[1]);
    close(from_child[0]);
    alarm((unsigned)(max_ms / 1000 + 5)); /* a bound of its own, should the parent die */
    echo_child(to_child[0], from_child[1]);
  }
  close(to_child[0]);
  close(from_child[1]);

  /* A loopback TCP connection: client -> accepted peer. */
  int lsock = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
  socklen_t alen = sizeof addr;
  if (lsock < 0 || bind(lsock, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lsock, 1) < 0 ||
      getsockname(lsock, (struct sockaddr*)&addr, &alen) < 0)
    die("reportload: listen");
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || connect(client, (struct sockaddr*)&addr, sizeof addr) < 0) die("reportload: connect");
  int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int peer = accept(lsock, NULL, NULL);
  if (peer < 0) die("reportload: accept");

  snprintf(path, sizeof path, "%s/reportload.dat", dir);
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (file < 0) die("reportload: open scratch file");

  char buf[16384], net[2048];
  memset(buf, 'r', sizeof buf);
  memset(net, 'n', sizeof net);
  uint8_t raw[16];
  const char* stop = "iters";
  long it = 0, forks = 0, fsyncs = 0;
  uint64_t start = now_ns(), deadline = start + (uint64_t)max_ms * 1000000u;
  for (; it < max_iters; it++) {
    if ((it & 15) == 0) {
      if (now_ns() > deadline) {
        stop = "time";
        break;
      }
      long n = entries();
      if (n < 0) {
        stop = "stats-error";
        break;
      }
      if (n >= target) {
        stop = "events";
        break;
      }
    }
    /* Pipe ping-pong: a wakeup and a switch each way. */
    for (int k = 0; k < 4; k++) {
      char c = (char)k;
      if (write(to_child[1], &c, 1) != 1 || read(from_child[0], &c, 1) != 1) die("reportload: ping-pong");
    }
    /* File I/O. */
    if (pwrite(file, buf, 4096, (off_t)((it & 63) * 4096)) != 4096) die("reportload: pwrite");
    if ((it & 63) == 63) {
      if (fdatasync(file) < 0) die("reportload: fdatasync");
      fsyncs++;
    }
    if (pread(file, buf, 4096, 0) != 4096) die("reportload: pread");
    /* Loopback TCP. */
    size_t len = 256 + (size_t)(it & 7) * 128;
    if (send(client, net, len, 0) != (ssize_t)len) die("reportload: send");
    size_t got = 0;
    while (got < len) {
      ssize_t n = recv(peer, net, len - got, 0);
      if (n <= 0) die("reportload: recv");
      got += (size_t)n;
    }
    /* A large allocation: mmap, faults, munmap. */
    if ((it & 3) == 0) {
      char* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) die("reportload: mmap");
      for (int off = 0; off < (1 << 20); off += 65536) p[off] = (char)it;
      munmap(p, 1 << 20);
    }
    /* Markers (EBADF: a full non-overwrite buffer refuses them; the stats check stops us). */
    char text[64];
    int tl = snprintf(text, sizeof text, "reportload iteration %ld", it);
    if (write(marker, text, (size_t)tl) < 0 && errno != EBADF) die("reportload: trace_marker");
    uint32_t id = 0x7270; /* "rp" */
    memcpy(raw, &id, 4);
    memcpy(raw + 4, &it, 8);
    memset(raw + 12, 0x5a, 4);
    if (write(marker_raw, raw, sizeof raw) < 0 && errno != EBADF) die("reportload: trace_marker_raw");
    /* Now and then: timers, directory walks, fork+exec. */
    if ((it & 7) == 0) {
      struct timespec ts = {0, 20000};
      nanosleep(&ts, NULL);
    }
    if ((it & 31) == 0) {
      DIR* d = opendir(dir);
      if (d) {
        struct dirent* e;
        struct stat st;
        while ((e = readdir(d)) != NULL) fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW);
        closedir(d);
      }
    }
    if ((it & 127) == 0) {
      pid_t pid = fork();
      if (pid < 0) die("reportload: fork");
      if (pid == 0) {
        execl("/bin/true", "true", (char*)NULL);
        _exit(127);
      }
      int status;
      waitpid(pid, &status, 0);
      forks++;
    }
  }
  uint64_t elapsed = now_ns() - start;
  close(to_child[1]); /* the helper sees EOF and exits */
  close(from_child[0]);
  int status;
  if (waitpid(echo, &status, WNOHANG) == 0) {
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    if (waitpid(echo, &status, WNOHANG) == 0) {
      kill(echo, SIGKILL);
      waitpid(echo, &status, 0);
    }
  }
  close(client);
  close(peer);
  close(lsock);
  close(file);
  unlink(path);
  printf("{\"iterations\":%ld,\"forks\":%ld,\"fsyncs\":%ld,\"stop\":\"%s\",\"elapsed_ns\":%llu}\n", it, forks, fsyncs,
         stop, (unsigned long long)elapsed);
  return 0;
}

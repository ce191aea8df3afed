// Rate-controlled, pinned load generator for the recording benchmark
// (bench/record.ts): getppid() in a loop (two raw_syscalls events each,
// sys_enter and sys_exit), paced by clock_gettime (vDSO: no syscall, so
// pacing adds no events), pinned to one CPU, bounded in time and count.
//
//   syscall-load --cpu N --duration-ms T [--rate R] [--count C] [--burst B]
//                [--slot-us S] [--nice N] [--wait-stdin] [--no-sleep]
//
// --rate R      syscalls per second (0 = as fast as the CPU goes; default 0)
// --slot-us S   pacing slot (default 1000): the R*S/1e6 syscalls of a slot
//               run as a burst at its start, then it sleeps to the next slot
//               (clock_nanosleep: two events more each, counted in
//               "sleeps"; --no-sleep spins instead)
// --burst B     at most B syscalls between two clock reads (1024)
// --nice N      run at niceness N, in a session (and so a scheduler
//               autogroup) of its own at that niceness: the benchmark raises
//               both sides alike on a shared machine
// --wait-stdin  read one byte from stdin before starting (the bench learns
//               the pid first, to filter on it, then says go)
// Stops after T ms (at most 600000) or C syscalls (at most 1e10). Prints one
// JSON line: what it did, the rate achieved, its worst lag behind schedule
// and its own CPU time.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 10000000000LL
#define MAX_MS 600000L

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void usage(void) {
  fprintf(stderr,
          "usage: syscall-load --cpu N --duration-ms 1..%ld [--rate R] [--count C] [--burst B] "
          "[--slot-us S] [--nice N] [--wait-stdin] [--no-sleep]\n",
          MAX_MS);
  exit(2);
}

int main(int argc, char** argv) {
  long cpu = -1, max_ms = -1, burst = 1024, slot_us = 1000;
  long long count = MAX_COUNT;
  double rate = 0;
  int wait_stdin = 0, may_sleep = 1, nice_set = 0, nice_value = 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--wait-stdin")) wait_stdin = 1;
    else if (!strcmp(a, "--no-sleep")) may_sleep = 0;
    else if (!v) usage();
    else if (!strcmp(a, "--cpu")) cpu = atol(v), i++;
    else if (!strcmp(a, "--duration-ms")) max_ms = atol(v), i++;
    else if (!strcmp(a, "--rate")) rate = atof(v), i++;
    else if (!strcmp(a, "--count")) count = atoll(v), i++;
    else if (!strcmp(a, "--burst")) burst = atol(v), i++;
    else if (!strcmp(a, "--slot-us")) slot_us = atol(v), i++;
    else if (!strcmp(a, "--nice")) nice_set = 1, nice_value = atoi(v), i++;
    else usage();
  }
  if (cpu < 0 || max_ms <= 0 || max_ms > MAX_MS || rate < 0 || count <= 0 || count > MAX_COUNT || burst <= 0 ||
      burst > 1000000 || slot_us < 10 || slot_us > 1000000)
    usage();
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* the benchmark died: stop at once */
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((int)cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) {
    perror("syscall-load: sched_setaffinity");
    return 1;
  }
  if (nice_set) {
    setsid(); /* fails only for a group leader: then the caller's session it is */
    if (setpriority(PRIO_PROCESS, 0, nice_value) < 0) {
      perror("syscall-load: setpriority");
      return 1;
    }
    int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      char text[32];
      int n = snprintf(text, sizeof text, "%d", nice_value);
      if (write(fd, text, (size_t)n) < 0) { /* without autogroup: nothing to do */
      }
      close(fd);
    }
  }
  if (wait_stdin) {
    char go;
    if (read(0, &go, 1) != 1) {
      fprintf(stderr, "syscall-load: stdin closed before go\n");
      return 1;
    }
  }

  long long done = 0, sleeps = 0;
  uint64_t worst_lag = 0;
  const char* stop = "count";
  const uint64_t slot = (uint64_t)slot_us * 1000u;
  const double per_ns = rate / 1e9;
  uint64_t start = now_ns(), deadline = start + (uint64_t)max_ms * 1000000u;
  while (done < count) {
    uint64_t t = now_ns();
    if (t >= deadline) {
      stop = "time";
      break;
    }
    long long n = burst;
    if (rate > 0) {
      // Every syscall of the current slot is due at the slot's start.
      uint64_t slot_end = ((t - start) / slot + 1) * slot;
      long long due = (long long)((double)slot_end * per_ns);
      if (due > count) due = count;
      if (done >= due) {
        uint64_t wake = start + slot_end;
        if (wake > deadline) wake = deadline;
        if (may_sleep) {
          struct timespec w = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &w, NULL);
          sleeps++;
        }
        continue;
      }
      // Behind by more than the current slot: the CPU was taken from us.
      uint64_t lag = (uint64_t)((double)(due - done) / per_ns);
      if (lag > slot && lag - slot > worst_lag) worst_lag = lag - slot;
      if (due - done < n) n = due - done;
    }
    if (count - done < n) n = count - done;
    for (long long i = 0; i < n; i++) syscall(SYS_getppid);
    done += n;
  }
  uint64_t elapsed = now_ns() - start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long long cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  printf("{\"pid\":%d,\"cpu_us\":%lld,\"cpu\":%ld,\"syscalls\":%lld,\"sleeps\":%lld,\"rate_target\":%.0f,\"rate\":%.0f,"
         "\"elapsed_ns\":%llu,\"worst_lag_ns\":%llu,\"stop\":\"%s\"}\n",
         (int)getpid(), cpu_us, cpu, done, sleeps, rate, (double)done * 1e9 / (double)(elapsed ? elapsed : 1),
         (unsigned long long)elapsed, (unsigned long long)worst_lag, stop);
  return 0;
}

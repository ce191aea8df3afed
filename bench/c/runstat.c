// Runs a consumer for the recording benchmark (bench/record.ts) and
// measures it: CPU time of it and every descendant it waited for (getrusage
// RUSAGE_CHILDREN: trace-cmd's per-CPU recorders included), wall time, and
// the stop time (first forwarded signal to exit: Ctrl-C to a complete file).
//
//   runstat --out FILE [--cpu N] [--nice N] [--stdout FILE] [--stderr FILE] [--max-ms T] -- CMD ARGS...
//
// CMD runs in a process group of its own, pinned to CPU N if given. With
// --nice N it runs in a session of its own at niceness N, and that
// session's scheduler autogroup too: with sched_autogroup_enabled (as
// here), a process's nice value only counts within its session's group,
// and every other session on the machine weighs as much as all of ours. SIGINT
// or SIGTERM sent to runstat is forwarded to the whole group, as a
// terminal's Ctrl-C reaches a foreground job. After T ms (default 120000)
// the group gets SIGKILL. FILE receives one JSON line when CMD has exited.
// When the benchmark dies, runstat gets SIGTERM and forwards it; when
// runstat dies, CMD gets SIGINT (parent-death signals).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t pending_signal = 0;
static pid_t child = -1;
static uint64_t first_signal_ns = 0;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void on_signal(int sig) {
  if (child > 0) kill(-child, sig);
  if (first_signal_ns == 0) first_signal_ns = now_ns();
  pending_signal = sig;
}

/* The calling session's autogroup weight (absent without CONFIG_SCHED_AUTOGROUP: ignored). */
static void set_autogroup_nice(int value) {
  int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  char text[32];
  int n = snprintf(text, sizeof text, "%d", value);
  if (write(fd, text, (size_t)n) < 0) { /* best effort */
  }
  close(fd);
}

static int redirect(const char* path, int fd) {
  int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f < 0 || dup2(f, fd) < 0) return -1;
  close(f);
  return 0;
}

int main(int argc, char** argv) {
  const char *out = NULL, *out_stdout = NULL, *out_stderr = NULL;
  int cpu = -1, cmd = -1, nice_set = 0, nice_value = 0;
  long max_ms = 120000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) {
      cmd = i + 1;
      break;
    }
    if (i + 1 >= argc) break;
    if (!strcmp(argv[i], "--out")) out = argv[++i];
    else if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--nice")) nice_set = 1, nice_value = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--stdout")) out_stdout = argv[++i];
    else if (!strcmp(argv[i], "--stderr")) out_stderr = argv[++i];
    else if (!strcmp(argv[i], "--max-ms")) max_ms = atol(argv[++i]);
  }
  if (!out || cmd < 0 || cmd >= argc || max_ms <= 0 || max_ms > 3600000) {
    fprintf(stderr, "usage: runstat --out FILE [--cpu N] [--nice N] [--stdout F] [--stderr F] [--max-ms T] -- CMD ARGS...\n");
    return 2;
  }
  /* If the benchmark dies (SIGKILL), stop the consumer as Ctrl-C would: nothing outlives it unbounded. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  uint64_t start = now_ns();
  child = fork();
  if (child < 0) {
    perror("runstat: fork");
    return 1;
  }
  if (child == 0) {
    if (!nice_set || setsid() < 0) setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGINT); /* runstat gone: Ctrl-C */
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) < 0) _exit(126);
    }
    if (nice_set) {
      if (setpriority(PRIO_PROCESS, 0, nice_value) < 0) _exit(126);
      set_autogroup_nice(nice_value);
    }
    if ((out_stdout && redirect(out_stdout, 1) < 0) || (out_stderr && redirect(out_stderr, 2) < 0)) _exit(126);
    execvp(argv[cmd], argv + cmd);
    _exit(127);
  }
  if (!nice_set) setpgid(child, child); /* also here: no race with a signal forwarded early */
  if (pending_signal) kill(-child, pending_signal);

  int status = 0, killed = 0;
  uint64_t deadline = start + (uint64_t)max_ms * 1000000u;
  for (;;) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) {
      perror("runstat: waitpid");
      return 1;
    }
    if (now_ns() > deadline && !killed) {
      kill(-child, SIGKILL);
      killed = 1;
    }
    struct timespec d = {0, 2000000}; /* 2 ms: stop time resolution */
    nanosleep(&d, NULL);
  }
  uint64_t end = now_ns();
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  FILE* f = fopen(out, "w");
  if (!f) {
    perror(out);
    return 1;
  }
  fprintf(f,
          "{\"pid\":%d,\"exit\":%d,\"signal\":%d,\"timeout\":%s,\"wall_ns\":%llu,\"stop_ns\":%lld,"
          "\"user_us\":%lld,\"sys_us\":%lld,\"maxrss_kb\":%ld}\n",
          (int)child, WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
          killed ? "true" : "false", (unsigned long long)(end - start),
          first_signal_ns ? (long long)(end - first_signal_ns) : -1LL,
          (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
          (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
  fclose(f);
  return 0;
}

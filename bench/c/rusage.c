// What one command costs, for benchmarks that compare whole programs
// (bench/lib/common.ts runCosted): wall time, user and system CPU time and
// peak resident memory of the command (wait4's rusage), its stdout sent to
// /dev/null, its stderr passed through.
//
//   rusage [--timeout-ms T] -- COMMAND [ARGS...]
//
// Prints one JSON line: {"status","signal","wall_ns","user_ns","sys_ns","maxrss_kb"}.
// The command is killed (SIGKILL) after T ms (default 120000).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static volatile sig_atomic_t child_pid = 0;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

static void expire(int sig) {
  (void)sig;
  if (child_pid > 0) kill(child_pid, SIGKILL);
}

int main(int argc, char** argv) {
  long timeout_ms = 120000;
  int i = 1;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) timeout_ms = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: rusage [--timeout-ms T] -- COMMAND [ARGS...]\n");
      return 2;
    }
  }
  if (i >= argc || timeout_ms < 1) {
    fprintf(stderr, "usage: rusage [--timeout-ms T] -- COMMAND [ARGS...]\n");
    return 2;
  }
  uint64_t start = now_ns();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0) _exit(126);
    close(null);
    execvp(argv[i], argv + i);
    fprintf(stderr, "rusage: %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  child_pid = pid;
  signal(SIGINT, forward);
  signal(SIGTERM, forward);
  int status = 0;
  struct rusage ru;
  // The timeout as a timer signal: wait4 blocks, so the end is seen at once.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = expire;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {timeout_ms / 1000, (timeout_ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("wait4");
      return 1;
    }
  }
  uint64_t wall = now_ns() - start;
  printf("{\"status\":%d,\"signal\":%d,\"wall_ns\":%llu,\"user_ns\":%llu,\"sys_ns\":%llu,\"maxrss_kb\":%ld}\n",
         WIFEXITED(status) ? WEXITSTATUS(status) : 0, WIFSIGNALED(status) ? WTERMSIG(status) : 0, (unsigned long long)wall,
         (unsigned long long)ru.ru_utime.tv_sec * 1000000000ull + (unsigned long long)ru.ru_utime.tv_usec * 1000ull,
         (unsigned long long)ru.ru_stime.tv_sec * 1000000000ull + (unsigned long long)ru.ru_stime.tv_usec * 1000ull,
         ru.ru_maxrss);
  return 0;
}

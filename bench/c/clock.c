// Physical limit of a per-event timestamp for the ring benchmark
// (bench/ring.ts): the cost of one clock_gettime(CLOCK_MONOTONIC) from C
// (vDSO), on a pinned CPU.
//
//   clock --cpu N --count C [--rounds R]
//
// Runs R rounds of C calls and prints one JSON line with the median and the
// minimum ns per call.
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COUNT 100000000L
#define MAX_ROUNDS 50

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  long cpu = -1, count = 5000000, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--cpu")) cpu = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--count")) count = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) rounds = atol(argv[i + 1]);
  }
  if (count < 1 || count > MAX_COUNT || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "usage: clock [--cpu N] [--count 1..%ld] [--rounds 1..%d]\n", MAX_COUNT, MAX_ROUNDS);
    return 2;
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) {
      perror("clock: sched_setaffinity");
      return 1;
    }
  }
  double ns[MAX_ROUNDS];
  volatile uint64_t sink = 0;
  for (long r = 0; r < rounds; r++) {
    struct timespec t;
    uint64_t sum = 0, start = now_ns();
    for (long i = 0; i < count; i++) {
      clock_gettime(CLOCK_MONOTONIC, &t);
      sum += (uint64_t)t.tv_nsec; /* use the result, as a timestamp would be */
    }
    ns[r] = (double)(now_ns() - start) / (double)count;
    sink += sum;
  }
  qsort(ns, (size_t)rounds, sizeof ns[0], cmp);
  printf("{\"count\":%ld,\"rounds\":%ld,\"median_ns\":%.3f,\"min_ns\":%.3f,\"max_ns\":%.3f,\"sink\":%llu}\n", count, rounds,
         rounds % 2 ? ns[rounds / 2] : (ns[rounds / 2 - 1] + ns[rounds / 2]) / 2, ns[0], ns[rounds - 1],
         (unsigned long long)(sink & 1));
  return 0;
}

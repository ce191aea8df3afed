// The typed-decode peer of the report benchmark (bench/report.ts):
// libtraceevent (Debian's libtraceevent-dev) parsing every field of every
// event of a recording (a tracering snapshot directory).
//
//   tepdecode --dir RECORDING [--rounds R] [--subbuf BYTES] [--modes walk,lean,api,print]
//             [--kallsyms PLAIN_FILE] [--events DIR] [--raw FILE]...
//
// --events DIR and --raw FILE (repeatable) name the formats (DIR/events/...)
// and the files of raw sub-buffers when they are not laid out as a
// recording.
//
// Set-up (untimed): every events/*/*/format and events/header_page parsed
// with tep_parse_event / tep_parse_header_page; each CPU's trace_pipe_raw
// read into memory.
// Timed, R rounds, on this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and
// wall time:
//   walk:  kbuffer over every sub-buffer, every record (kbuffer_read_event,
//          kbuffer_next_event), its type read with tep_data_type;
//   lean:  walk + tep_find_event + every field: tep_read_number_field for
//          scalars, the __data_loc word with tep_read_number for dynamic
//          fields (what tep_get_field_raw resolves) and the array's address
//          for fixed arrays: libtraceevent's fastest field parse;
//   api:   walk + tep_find_event + tep_read_number_field for scalars and
//          tep_get_field_raw (by name, as its API takes them) for strings,
//          arrays and dynamic fields;
//   print: walk + tep_print_event(TEP_PRINT_INFO): the event's text as
//          trace-cmd report prints it (print fmt, no plugins; kallsyms and
//          printk_formats loaded).
// Each mode sums what it read into a checksum (kept, so nothing is
// optimised away). Prints one JSON line.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>

#define MAX_ROUNDS 50
#define MAX_CPUS 4096
#define MAX_FILE (64L << 20)
#define MAX_RAW (4L << 30)

static void die(const char* what) {
  perror(what);
  exit(1);
}

static char* slurp(const char* path, size_t* size, long max) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, len = 0;
  char* buf = malloc(cap + 1);
  if (!buf) die("malloc");
  for (;;) {
    if (len == cap) {
      if ((long)cap > max) { fprintf(stderr, "%s: too large\n", path); exit(1); }
      cap *= 2;
      buf = realloc(buf, cap + 1);
      if (!buf) die("realloc");
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) die(path);
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  *size = len;
  return buf;
}

static uint64_t ns_of(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct cpu_data {
  char* pages;
  size_t size;
};

enum mode { WALK, LEAN, API, PRINT, MODES };

static uint64_t run(struct tep_handle* tep, struct kbuffer* kbuf, struct cpu_data* cpus, int ncpu, size_t subbuf,
                    enum mode mode, uint64_t* events, uint64_t* unknown) {
  uint64_t sum = 0, n = 0, miss = 0;
  struct trace_seq seq;
  trace_seq_init(&seq);
  struct tep_record rec;
  memset(&rec, 0, sizeof rec);
  for (int c = 0; c < ncpu; c++) {
    for (size_t at = 0; at + subbuf <= cpus[c].size; at += subbuf) {
      if (kbuffer_load_subbuffer(kbuf, cpus[c].pages + at) < 0) continue;
      unsigned long long ts;
      for (void* data = kbuffer_read_event(kbuf, &ts); data; data = kbuffer_next_event(kbuf, &ts)) {
        n++;
        rec.data = data;
        rec.size = kbuffer_event_size(kbuf);
        rec.ts = ts;
        int type = tep_data_type(tep, &rec);
        sum += (uint64_t)type + ts;
        if (mode == WALK) continue;
        if (mode == PRINT) {
          trace_seq_reset(&seq);
          tep_print_event(tep, &seq, &rec, "%s", TEP_PRINT_INFO);
          sum += seq.len;
          continue;
        }
        struct tep_event* ev = tep_find_event(tep, type);
        if (!ev) {
          miss++;
          continue;
        }
        for (struct tep_format_field* f = ev->format.fields; f; f = f->next) {
          unsigned long long v = 0;
          if (f->flags & TEP_FIELD_IS_DYNAMIC) {
            if (mode == API) {
              int len = 0;
              char* p = tep_get_field_raw(&seq, ev, f->name, &rec, &len, 0);
              sum += (uint64_t)(uintptr_t)p + (uint64_t)len;
            } else {
              unsigned long long w = tep_read_number(tep, (char*)data + f->offset, f->size);
              unsigned off = w & 0xffff, len = w >> 16;
              if (f->flags & TEP_FIELD_IS_RELATIVE) off += f->offset + f->size;
              sum += (uint64_t)(uintptr_t)((char*)data + off) + len;
            }
          } else if ((f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_STRING)) || f->size > 8 || f->size == 0 ||
                     (f->size & (f->size - 1))) {
            if (mode == API) {
              int len = 0;
              char* p = tep_get_field_raw(&seq, ev, f->name, &rec, &len, 0);
              sum += (uint64_t)(uintptr_t)p + (uint64_t)len;
            } else {
              sum += (uint64_t)(uintptr_t)((char*)data + f->offset) + (uint64_t)f->size;
            }
          } else if (tep_read_number_field(f, data, &v) == 0) {
            sum += v;
          }
        }
      }
    }
  }
  trace_seq_destroy(&seq);
  *events = n;
  *unknown = miss;
  return sum;
}

static int load_formats(struct tep_handle* tep, const char* dir) {
  char path[8192];
  snprintf(path, sizeof path, "%s/events", dir);
  DIR* events = opendir(path);
  if (!events) die(path);
  int parsed = 0, failed = 0;
  struct dirent* sys;
  while ((sys = readdir(events))) {
    if (sys->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/events/%s", dir, sys->d_name);
    DIR* sd = opendir(path);
    if (!sd) continue;
    struct dirent* ev;
    while ((ev = readdir(sd))) {
      if (ev->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/events/%s/%s/format", dir, sys->d_name, ev->d_name);
      size_t size;
      char* text = slurp(path, &size, MAX_FILE);
      if (!text) continue;
      if (tep_parse_event(tep, text, size, sys->d_name) == 0) parsed++;
      else failed++;
      free(text);
    }
    closedir(sd);
  }
  closedir(events);
  return parsed;
}

int main(int argc, char** argv) {
  const char *dir = NULL, *events_dir = NULL, *kallsyms = NULL, *modes = "walk,lean,api";
  const char* raws[MAX_CPUS];
  int nraw = 0;
  long rounds = 5, subbuf = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!strcmp(argv[i], "--rounds")) rounds = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--subbuf")) subbuf = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--modes")) modes = argv[i + 1];
    else if (!strcmp(argv[i], "--kallsyms")) kallsyms = argv[i + 1];
    else if (!strcmp(argv[i], "--events")) events_dir = argv[i + 1];
    else if (!strcmp(argv[i], "--raw") && nraw < MAX_CPUS) raws[nraw++] = argv[i + 1];
  }
  if (!dir || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr,
            "usage: tepdecode --dir RECORDING [--rounds 1..%d] [--subbuf BYTES] [--modes walk,lean,api,print] "
            "[--kallsyms FILE] [--events DIR] [--raw FILE]...\n",
            MAX_ROUNDS);
    return 2;
  }
  if (!events_dir) events_dir = dir;
  const char* names[MODES] = {"walk", "lean", "api", "print"};
  int want[MODES] = {0};
  for (int m = 0; m < MODES; m++) {
    const char* at = strstr(modes, names[m]);
    want[m] = at != NULL && (at[strlen(names[m])] == ',' || at[strlen(names[m])] == 0);
  }
  char path[8192];
  size_t size;
  if (subbuf == 0) {
    snprintf(path, sizeof path, "%s/buffer_subbuf_size_kb", dir);
    char* kb = slurp(path, &size, 64);
    subbuf = kb ? atol(kb) * 1024 : 4096;
    free(kb);
  }
  if (subbuf < 4096 || subbuf > (1 << 20)) { fprintf(stderr, "bad sub-buffer size %ld\n", subbuf); return 2; }

  struct tep_handle* tep = tep_alloc();
  if (!tep) die("tep_alloc");
  tep_set_long_size(tep, 8);
  tep_set_page_size(tep, (int)sysconf(_SC_PAGESIZE));
  snprintf(path, sizeof path, "%s/events/header_page", events_dir);
  char* hp = slurp(path, &size, MAX_FILE);
  if (!hp) die(path);
  if (tep_parse_header_page(tep, hp, size, 8) != 0) { fprintf(stderr, "header_page does not parse\n"); return 1; }
  free(hp);
  uint64_t f0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
  int formats = load_formats(tep, events_dir);
  uint64_t formats_ns = ns_of(CLOCK_THREAD_CPUTIME_ID) - f0;
  if (want[PRINT]) {
    snprintf(path, sizeof path, "%s/printk_formats", dir);
    char* printk = slurp(path, &size, MAX_FILE);
    if (printk) tep_parse_printk_formats(tep, printk);
    free(printk);
    if (kallsyms) {
      char* syms = slurp(kallsyms, &size, 1L << 30);
      if (!syms) die(kallsyms);
      if (tep_parse_kallsyms(tep, syms) != 0) { fprintf(stderr, "kallsyms does not parse\n"); return 1; }
      free(syms);
    }
  }

  struct cpu_data cpus[MAX_CPUS];
  int ncpu = 0;
  for (int k = 0; k < nraw; k++) {
    cpus[ncpu].pages = slurp(raws[k], &cpus[ncpu].size, MAX_RAW);
    if (!cpus[ncpu].pages) die(raws[k]);
    ncpu++;
  }
  for (int c = 0; c < MAX_CPUS && nraw == 0; c++) {
    snprintf(path, sizeof path, "%s/per_cpu/cpu%d/trace_pipe_raw", dir, c);
    struct stat st;
    if (stat(path, &st) != 0) {
      if (c > 64 && ncpu > 0) break;
      continue;
    }
    cpus[ncpu].pages = slurp(path, &cpus[ncpu].size, MAX_RAW);
    if (!cpus[ncpu].pages) die(path);
    ncpu++;
  }
  struct kbuffer* kbuf = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_SAME_AS_HOST);
  if (!kbuf) die("kbuffer_alloc");

  uint64_t cpu_ns[MODES][MAX_ROUNDS], wall_ns[MODES][MAX_ROUNDS], sums[MODES] = {0}, events = 0, unknown = 0;
  // Warm-up (caches), then rounds with the modes interleaved.
  for (int m = 0; m < MODES; m++)
    if (want[m]) run(tep, kbuf, cpus, ncpu, (size_t)subbuf, (enum mode)m, &events, &unknown);
  for (long r = 0; r < rounds; r++) {
    for (int m = 0; m < MODES; m++) {
      if (!want[m]) continue;
      uint64_t c0 = ns_of(CLOCK_THREAD_CPUTIME_ID), w0 = ns_of(CLOCK_MONOTONIC);
      sums[m] = run(tep, kbuf, cpus, ncpu, (size_t)subbuf, (enum mode)m, &events, &unknown);
      cpu_ns[m][r] = ns_of(CLOCK_THREAD_CPUTIME_ID) - c0;
      wall_ns[m][r] = ns_of(CLOCK_MONOTONIC) - w0;
    }
  }
  printf("{\"events\":%llu,\"unknown\":%llu,\"formats\":%d,\"formatsCpuNs\":%llu,\"subbuf\":%ld,\"cpus\":%d",
         (unsigned long long)events, (unsigned long long)unknown, formats, (unsigned long long)formats_ns, subbuf, ncpu);
  for (int m = 0; m < MODES; m++) {
    if (!want[m]) continue;
    printf(",\"%s\":{\"checksum\":\"%llu\",\"cpuNs\":[", names[m], (unsigned long long)sums[m]);
    for (long r = 0; r < rounds; r++) printf("%s%llu", r ? "," : "", (unsigned long long)cpu_ns[m][r]);
    printf("],\"wallNs\":[");
    for (long r = 0; r < rounds; r++) printf("%s%llu", r ? "," : "", (unsigned long long)wall_ns[m][r]);
    printf("]}");
  }
  printf("}\n");
  return 0;
}

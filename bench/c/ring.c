// The physical limit of an application-ring writer for bench/ring.ts: the
// same record layout as tracering's app rings (the kernel's ring buffer
// encoding: sub-buffers with a time_stamp and a commit word, 4-byte record
// headers with 27-bit deltas, TIME_EXTEND for larger gaps, padding at the
// end of a page) and the same protocol steps as src/ring/writer.ts in
// overwrite mode with no reader, written in C: per record a header word,
// the payload stores (u32 id, u32 sequence number, fill words) and the
// commit; per batch a sequentially consistent store of the page's commit
// word and a load of the reader-waiting word; per page the padding, the
// page's entry count, the commit, a head push by CAS with the overrun
// count, the tail store.
//
//   ring --cpu N --events E --sizes 16,32,128 --rounds R --batch B
//        [--subbuf BYTES] [--subbufs N]
//
// Both clocks: 'event' (clock_gettime(CLOCK_MONOTONIC) per record) and
// 'batch' (one per batch). Prints one JSON line: per clock and size, CPU
// ns/event (this thread's CPU time) and wall ns/event per round.
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 50
#define MAX_SIZES 16
#define DATA_OFFSET 16
#define PAYLOAD_ID 0x7462u
#define FILL 0xa5a5a5a5u
#define MAX_DELTA ((1u << 27) - 1)

static uint64_t ns_of(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct ring {
  uint8_t* mem;
  uint32_t subbuf, slots, data_size;
  _Atomic uint32_t head, tail, reader_waiting;
  _Atomic uint64_t overrun, entries;
  uint32_t* page_entries;
  // writer state
  uint32_t cur, pos, committed, published, page_events, tail_pos;
  uint64_t last, start;
};

static inline _Atomic uint32_t* commit_word(struct ring* r, uint32_t id) {
  return (_Atomic uint32_t*)(r->mem + (size_t)id * r->subbuf + 8);
}

static void enter(struct ring* r, uint32_t id) {
  r->cur = id;
  r->pos = r->committed = r->published = r->page_events = 0;
}

static void advance(struct ring* r) {
  uint8_t* data = r->mem + (size_t)r->cur * r->subbuf + DATA_OFFSET;
  uint32_t rest = r->data_size - r->pos, commit = r->pos;
  if (rest >= 8) { /* padding record: type 29, delta 1, length */
    uint32_t w = (1u << 5) | 29u, len = rest - 4;
    memcpy(data + r->pos, &w, 4);
    memcpy(data + r->pos + 4, &len, 4);
    commit = r->data_size;
  }
  r->page_entries[r->cur] = r->page_events;
  atomic_store(commit_word(r, r->cur), commit);
  uint32_t next = r->tail_pos + 1;
  uint32_t head = atomic_load(&r->head);
  if (next - head >= r->slots) { /* full: push the head, count its events as overrun */
    if (atomic_compare_exchange_strong(&r->head, &head, head + 1))
      atomic_store(&r->overrun, atomic_load(&r->overrun) + r->page_entries[head % r->slots]);
  }
  uint32_t id = next % r->slots;
  atomic_store(commit_word(r, id), 0);
  r->tail_pos = next;
  atomic_store(&r->tail, next);
  enter(r, id);
}

// Reserves `len` payload bytes at time t (ns); returns the payload.
static inline uint8_t* reserve(struct ring* r, uint32_t len, uint64_t t) {
  uint32_t size = (len + (len > 112 ? 11 : 7)) & ~3u;
  if (size == 12) size = 16;
  uint64_t delta = t - r->last;
  if (r->pos != 0 && delta <= MAX_DELTA && r->pos + size <= r->data_size) {
    uint8_t* at = r->mem + (size_t)r->cur * r->subbuf + DATA_OFFSET + r->pos;
    uint8_t* payload = at + 4;
    if (len > 112) {
      uint32_t w = (uint32_t)delta << 5, l = size - 4;
      memcpy(at, &w, 4);
      memcpy(at + 4, &l, 4);
      payload = at + 8;
    } else {
      uint32_t w = ((uint32_t)delta << 5) | ((size - 4) >> 2);
      memcpy(at, &w, 4);
    }
    r->pos += size;
    r->last = t;
    r->page_events++;
    return payload;
  }
  // The general path: a page's first record, TIME_EXTEND, the next page.
  uint32_t extend = r->pos != 0 && delta > MAX_DELTA ? 8 : 0;
  if (r->pos + size + extend > r->data_size) {
    advance(r);
    extend = 0;
  }
  uint8_t* page = r->mem + (size_t)r->cur * r->subbuf;
  uint8_t* at = page + DATA_OFFSET + r->pos;
  if (r->pos == 0) {
    memcpy(page, &t, 8);
    delta = 0;
  } else if (extend) {
    uint32_t w0 = ((uint32_t)(delta & MAX_DELTA) << 5) | 30u, w1 = (uint32_t)(delta >> 27);
    memcpy(at, &w0, 4);
    memcpy(at + 4, &w1, 4);
    at += 8;
    r->pos += 8;
    delta = 0;
  }
  uint8_t* payload;
  if (size - 4 > 112) {
    uint32_t w = (uint32_t)delta << 5, l = size - 4;
    memcpy(at, &w, 4);
    memcpy(at + 4, &l, 4);
    payload = at + 8;
  } else {
    uint32_t w = ((uint32_t)delta << 5) | ((size - 4) >> 2);
    memcpy(at, &w, 4);
    payload = at + 4;
  }
  r->pos += size;
  r->last = t;
  r->page_events++;
  return payload;
}

static inline void flush(struct ring* r) {
  if (r->committed != r->published) {
    atomic_store(commit_word(r, r->cur), r->committed);
    r->published = r->committed;
  }
  if (atomic_load(&r->reader_waiting)) fprintf(stderr, "unexpected reader\n");
}

static uint64_t write_events(struct ring* r, uint64_t events, uint32_t len, uint32_t batch, int event_clock) {
  uint64_t sum = 0;
  for (uint64_t b = 0; b < events; b += batch) {
    uint64_t stop = b + batch < events ? b + batch : events;
    uint64_t bt = event_clock ? 0 : ns_of(CLOCK_MONOTONIC) - r->start;
    for (uint64_t seq = b; seq < stop; seq++) {
      uint64_t t = event_clock ? ns_of(CLOCK_MONOTONIC) - r->start : bt;
      uint8_t* p = reserve(r, len, t);
      uint32_t id = PAYLOAD_ID, s = (uint32_t)seq, f = FILL;
      memcpy(p, &id, 4);
      memcpy(p + 4, &s, 4);
      for (uint32_t k = 8; k < len; k += 4) memcpy(p + k, &f, 4);
      r->committed = r->pos;
      sum += p[4];
    }
    flush(r);
  }
  atomic_store(&r->entries, atomic_load(&r->entries) + events);
  return sum;
}

int main(int argc, char** argv) {
  long cpu = -1, events = 1 << 19, rounds = 5, batch = 64, subbuf = 4096, slots = 64;
  const char* sizes_arg = "16,32,128";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--cpu")) cpu = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--events")) events = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) rounds = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch")) batch = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--sizes")) sizes_arg = argv[i + 1];
    else if (!strcmp(argv[i], "--subbuf")) subbuf = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--subbufs")) slots = atol(argv[i + 1]);
  }
  uint32_t sizes[MAX_SIZES];
  int nsizes = 0;
  for (const char* p = sizes_arg; *p && nsizes < MAX_SIZES;) {
    sizes[nsizes++] = (uint32_t)strtoul(p, (char**)&p, 10);
    if (*p == ',') p++;
  }
  if (events < 1 || rounds < 1 || rounds > MAX_ROUNDS || batch < 1 || subbuf < 256 || slots < 2 || nsizes == 0) {
    fprintf(stderr, "usage: ring --cpu N --events E --sizes 16,32,128 --rounds R --batch B [--subbuf BYTES] [--subbufs N]\n");
    return 2;
  }
  for (int k = 0; k < nsizes; k++) {
    if (sizes[k] < 8 || sizes[k] % 4 || sizes[k] + 16 > (uint32_t)subbuf - DATA_OFFSET) {
      fprintf(stderr, "bad size %u\n", sizes[k]);
      return 2;
    }
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
  }
  struct ring r;
  memset(&r, 0, sizeof r);
  r.subbuf = (uint32_t)subbuf;
  r.slots = (uint32_t)slots;
  r.data_size = r.subbuf - DATA_OFFSET;
  r.mem = aligned_alloc(4096, (size_t)subbuf * (size_t)slots);
  r.page_entries = calloc((size_t)slots, sizeof *r.page_entries);
  if (!r.mem || !r.page_entries) return 1;
  memset(r.mem, 0, (size_t)subbuf * (size_t)slots);
  r.start = ns_of(CLOCK_MONOTONIC);
  enter(&r, 0);
  double cpu_ns[2][MAX_SIZES][MAX_ROUNDS], wall_ns[2][MAX_SIZES][MAX_ROUNDS];
  uint64_t sink = 0;
  for (int clock = 0; clock < 2; clock++)
    for (int k = 0; k < nsizes; k++) sink += write_events(&r, (uint64_t)events, sizes[k], (uint32_t)batch, clock == 0); /* warm-up */
  for (long round = 0; round < rounds; round++) {
    for (int clock = 0; clock < 2; clock++) {
      for (int k = 0; k < nsizes; k++) {
        uint64_t c0 = ns_of(CLOCK_THREAD_CPUTIME_ID), w0 = ns_of(CLOCK_MONOTONIC);
        sink += write_events(&r, (uint64_t)events, sizes[k], (uint32_t)batch, clock == 0);
        cpu_ns[clock][k][round] = (double)(ns_of(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)events;
        wall_ns[clock][k][round] = (double)(ns_of(CLOCK_MONOTONIC) - w0) / (double)events;
      }
    }
  }
  printf("{\"sink\":%llu,\"overrun\":%llu", (unsigned long long)sink, (unsigned long long)atomic_load(&r.overrun));
  const char* names[2] = {"event", "batch"};
  for (int clock = 0; clock < 2; clock++) {
    printf(",\"%s\":{", names[clock]);
    for (int k = 0; k < nsizes; k++) {
      printf("%s\"%u\":{\"cpuNs\":[", k ? "," : "", sizes[k]);
      for (long i = 0; i < rounds; i++) printf("%s%.3f", i ? "," : "", cpu_ns[clock][k][i]);
      printf("],\"wallNs\":[");
      for (long i = 0; i < rounds; i++) printf("%s%.3f", i ? "," : "", wall_ns[clock][k][i]);
      printf("]}");
    }
    printf("}");
  }
  printf("}\n");
  return 0;
}

// The capture thread's fast path: read() each sub-buffer of trace_pipe_raw
// straight into a free slot of the staging ring (src/capture/staging-ring.ts)
// and publish it there, with no JavaScript per page.
//
// Measured at 7-9 M events/s, a third of the capture thread's time per page
// went to JavaScript (the copy into the slot, the ring's atomics through the
// runtime, the record walk) and that share grew when V8's own threads
// competed for the CPU at the start of a burst: the kernel buffer overran.
//
// Only clean pages take this path. Anything the JavaScript reader must see
// (a loss report, a header or record that does not walk cleanly, a page the
// coalescer may join, a pool without a free slot, an abort) ends the call
// with that page given back, so one loss ledger and one corrupt-page path
// stay in TypeScript. The ring's layout comes from TypeScript as a
// descriptor (StagingRing.nativeDescriptor); this file knows only the
// protocol: a spin lock word, a free-slot stack, per-CPU queues, and the
// record header format (kernel-abi.md §5), which it walks to count events
// exactly as walkRecords does.

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "napi-helpers.h"

// Indices into the descriptor (StagingRing.nativeDescriptor writes them in this order).
enum {
  D_CTL, D_FREE, D_QUEUES, D_CPU_WORDS, D_META, D_TOTALS, D_DATA,  // byte offsets in the memory
  D_SLOTS, D_SLOT_SIZE, D_CPUS,
  D_LOCK, D_SEQ, D_CONSUMER_WAITING, D_WAKE_AT, D_FREE_TOP, D_ABORT,  // Int32 control word indices
  D_CPU_STRIDE, D_Q_TAIL,                                             // per-CPU Float64 words
  D_META_STRIDE, D_M_BEFORE, D_M_EVENTS, D_M_KERNEL_LOST,            // per-slot Float64 words
  D_TOTAL_STRIDE, D_T_PRODUCED,                                       // per-CPU totals
  D_WORDS
};

// What ended a call (STAGE_STATUS in src/native.ts).
enum {
  STAGE_MORE = 0,     // maxPages staged: call again
  STAGE_EMPTY = 1,    // read() found nothing more
  STAGE_WRITER = 2,   // stopped after the page the writer is on
  STAGE_HANDOFF = 3,  // the page in slot out[3] needs the JavaScript reader (the slot is free again)
  STAGE_NO_SLOT = 4,  // the pool is empty: the policy (JavaScript) decides
  STAGE_ABORT = 5,    // the ring was aborted
};

typedef struct {
  uint8_t* base;
  int32_t* ctl;
  int32_t* free_stack;
  int32_t* queues;
  double* cpu_words;
  double* meta;
  double* totals;
  uint8_t* data;
  int32_t d[D_WORDS];
} ring_t;

static void ring_lock(ring_t* r) {
  int32_t* word = &r->ctl[r->d[D_LOCK]];
  for (int spins = 0;; spins++) {
    int32_t expected = 0;
    if (__atomic_compare_exchange_n(word, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return;
    // The holder is a few instructions from done unless it was descheduled.
    if (spins > 64) {
      struct timespec ts = {0, 20000};
      nanosleep(&ts, NULL);
    }
  }
}

// JavaScript lock waiters sleep at most 1 ms (Atomics.wait cannot be woken
// from here); they spin first, and this side holds the lock for a few loads.
static void ring_unlock(ring_t* r) { __atomic_store_n(&r->ctl[r->d[D_LOCK]], 0, __ATOMIC_SEQ_CST); }

static int32_t ring_reserve(ring_t* r) {
  ring_lock(r);
  int32_t* top_word = &r->ctl[r->d[D_FREE_TOP]];
  int32_t top = __atomic_load_n(top_word, __ATOMIC_SEQ_CST);
  int32_t slot = -1;
  if (top > 0) {
    slot = r->free_stack[top - 1];
    __atomic_store_n(top_word, top - 1, __ATOMIC_SEQ_CST);
  }
  ring_unlock(r);
  return slot;
}

static void ring_unreserve(ring_t* r, int32_t slot) {
  ring_lock(r);
  int32_t* top_word = &r->ctl[r->d[D_FREE_TOP]];
  int32_t top = __atomic_load_n(top_word, __ATOMIC_SEQ_CST);
  r->free_stack[top] = slot;
  __atomic_store_n(top_word, top + 1, __ATOMIC_SEQ_CST);
  ring_unlock(r);
}

// Queues `slot` on `cpu` (as StagingRing.publish); true when the waiting output thread wants waking.
static bool ring_publish(ring_t* r, int32_t cpu, int32_t slot, double events) {
  const int32_t* d = r->d;
  double* m = r->meta + (size_t)slot * d[D_META_STRIDE];
  double* t = r->totals + (size_t)cpu * d[D_TOTAL_STRIDE];
  double* w = r->cpu_words + (size_t)cpu * d[D_CPU_STRIDE];
  ring_lock(r);
  m[d[D_M_BEFORE]] = t[d[D_T_PRODUCED]];
  m[d[D_M_EVENTS]] = events;
  m[d[D_M_KERNEL_LOST]] = 0;
  t[d[D_T_PRODUCED]] += events;
  double tail = w[d[D_Q_TAIL]];
  r->queues[(size_t)cpu * d[D_SLOTS] + (size_t)((int64_t)tail % d[D_SLOTS])] = slot;
  w[d[D_Q_TAIL]] = tail + 1;
  ring_unlock(r);
  int32_t seq = __atomic_add_fetch(&r->ctl[d[D_SEQ]], 1, __ATOMIC_SEQ_CST);
  return __atomic_load_n(&r->ctl[d[D_CONSUMER_WAITING]], __ATOMIC_SEQ_CST) != 0 &&
         (int32_t)((uint32_t)seq - (uint32_t)__atomic_load_n(&r->ctl[d[D_WAKE_AT]], __ATOMIC_SEQ_CST)) >= 0;
}

static uint32_t load32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// Events in the data area [data, data + end), walked by walkRecords' rules
// (src/layout/record.ts); -1 when walkRecords would report it corrupt.
static int64_t count_records(const uint8_t* data, uint32_t end) {
  int64_t events = 0;
  uint32_t pos = 0;
  while (pos < end) {
    if (end - pos < 4) return -1;
    uint32_t w = load32(data + pos);
    uint32_t type = w & 31;
    if (type != 0 && type <= 28) {  // data record, length in the type
      if (pos + 4 + (type << 2) > end) return -1;
      events++;
      pos += 4 + (type << 2);
      continue;
    }
    if (end - pos < 8) return -1;
    uint32_t arg = load32(data + pos + 4);
    if (type == 0) {  // data record, length (plus itself) in the next word
      if (arg < 4 || (arg & 3) != 0 || (uint64_t)pos + 4 + arg > end) return -1;
      events++;
      pos += 4 + arg;
    } else if (type == 30 || type == 31) {  // time extend, absolute time stamp
      pos += 8;
    } else {  // padding: delta 0 ends the page
      if ((w >> 5) == 0) return events;
      if ((arg & 3) != 0 || (uint64_t)pos + 4 + arg > end) return -1;
      pos += 4 + arg;
    }
  }
  return events;
}

static bool read_ring(napi_env env, napi_value memory_v, napi_value desc_v, ring_t* r) {
  uint8_t* base;
  size_t length;
  uint8_t* desc_bytes;
  size_t desc_length;
  if (!get_bytes(env, memory_v, &base, &length) || !get_bytes(env, desc_v, &desc_bytes, &desc_length) ||
      desc_length != sizeof r->d)
    return false;
  memcpy(r->d, desc_bytes, sizeof r->d);
  const int32_t* d = r->d;
  if (d[D_SLOTS] < 1 || d[D_SLOT_SIZE] < 64 || d[D_CPUS] < 1) return false;
  for (int i = D_LOCK; i < D_WORDS; i++)
    if (d[i] < 0) return false;
  if (d[D_Q_TAIL] >= d[D_CPU_STRIDE] || d[D_M_BEFORE] >= d[D_META_STRIDE] || d[D_M_EVENTS] >= d[D_META_STRIDE] ||
      d[D_M_KERNEL_LOST] >= d[D_META_STRIDE] || d[D_T_PRODUCED] >= d[D_TOTAL_STRIDE])
    return false;
  int32_t ctl_words = 0;
  for (int i = D_LOCK; i <= D_ABORT; i++)
    if (d[i] >= ctl_words) ctl_words = d[i] + 1;
  // Every region inside the memory, aligned for its words: a wrong descriptor is refused, never followed.
  const size_t slots = (size_t)d[D_SLOTS], cpus = (size_t)d[D_CPUS];
  const struct { int at; size_t bytes; size_t align; } regions[] = {
      {D_CTL, (size_t)ctl_words * 4, 4},
      {D_FREE, slots * 4, 4},
      {D_QUEUES, cpus * slots * 4, 4},
      {D_CPU_WORDS, cpus * (size_t)d[D_CPU_STRIDE] * 8, 8},
      {D_META, slots * (size_t)d[D_META_STRIDE] * 8, 8},
      {D_TOTALS, cpus * (size_t)d[D_TOTAL_STRIDE] * 8, 8},
      {D_DATA, slots * (size_t)d[D_SLOT_SIZE], 8},
  };
  for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
    int32_t at = d[regions[i].at];
    if (at < 0 || (size_t)at % regions[i].align != 0 || (size_t)at > length || regions[i].bytes > length - (size_t)at) return false;
  }
  r->base = base;
  r->ctl = (int32_t*)(base + d[D_CTL]);
  r->free_stack = (int32_t*)(base + d[D_FREE]);
  r->queues = (int32_t*)(base + d[D_QUEUES]);
  r->cpu_words = (double*)(base + d[D_CPU_WORDS]);
  r->meta = (double*)(base + d[D_META]);
  r->totals = (double*)(base + d[D_TOTALS]);
  r->data = base + d[D_DATA];
  return true;
}

// stagePages(fd, memory, descriptor, queue, maxPages, stopBelow, minCommit,
//            longSize, exemptFirst, out) -> status (STAGE_*)
// out (Float64Array of 7): pages published, their events, their data
// bytes, the slot of a handed-off page (-1), 1 if the output thread must
// be woken, 1 if the handed-off page is the writer's, the data bytes of
// the last page read (-1: none). Pages whose commit is below minCommit
// are handed off (the coalescer's). stopBelow is readPages': the call
// ends after a page with less data than that, unless it is the call's
// first and exemptFirst is set (the rest of a page read in part before).
// A read() error is thrown when no page was staged in this call, else
// left for the next call.
napi_value js_stage_pages(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t r;
  int64_t fd, queue, max_pages, stop_below, min_commit, long_size;
  bool exempt_first;
  uint8_t* out_bytes;
  size_t out_length;
  if (argc < 10 || !get_int64(env, argv[0], &fd) || !read_ring(env, argv[1], argv[2], &r) ||
      !get_int64(env, argv[3], &queue) || !get_int64(env, argv[4], &max_pages) ||
      !get_int64(env, argv[5], &stop_below) || !get_int64(env, argv[6], &min_commit) ||
      !get_int64(env, argv[7], &long_size) || napi_get_value_bool(env, argv[8], &exempt_first) != napi_ok ||
      !get_bytes(env, argv[9], &out_bytes, &out_length) || out_length < 7 * sizeof(double))
    return throw_type_error(env, "stagePages(fd, memory, descriptor, queue, maxPages, stopBelow, minCommit, longSize, exemptFirst, out)");
  const int32_t* d = r.d;
  const int64_t page_size = d[D_SLOT_SIZE];
  const int64_t data_offset = 8 + long_size;
  if (queue < 0 || queue >= d[D_CPUS] || max_pages < 0 || (long_size != 4 && long_size != 8))
    return throw_errno(env, EINVAL, "read");
  double* out = (double*)out_bytes;
  double pages = 0, events = 0, bytes = 0;
  int status = STAGE_MORE;
  out[3] = -1;
  out[4] = 0;
  out[5] = 0;
  out[6] = -1;
  while (pages < (double)max_pages) {
    if (__atomic_load_n(&r.ctl[d[D_ABORT]], __ATOMIC_SEQ_CST) != 0) {
      status = STAGE_ABORT;
      break;
    }
    int32_t slot = ring_reserve(&r);
    if (slot < 0) {
      status = STAGE_NO_SLOT;
      break;
    }
    uint8_t* dst = r.data + (size_t)slot * (size_t)page_size;
    ssize_t n = read((int)fd, dst, (size_t)page_size);
    if (n <= 0) {
      int err = errno;
      ring_unreserve(&r, slot);
      if (n < 0 && err == EINTR) continue;
      if (n == 0 || err == EAGAIN || err == EWOULDBLOCK) {
        status = STAGE_EMPTY;
        break;
      }
      if (pages == 0) return throw_errno(env, err, "read");
      break;  // STAGE_MORE: the next call reports it
    }
    if (n < page_size) memset(dst + n, 0, (size_t)(page_size - n));
    // The low word of the commit holds the size and the MISSED flags (host order: a live buffer).
    uint32_t commit = load32(dst + 8);
    uint32_t size = commit & 0x3fffffffu;
    out[6] = size;
    // The writer's page: a small one that is not the call's first (or follows a small one).
    bool at_writer = stop_below > 0 && (pages > 0 || !exempt_first) && (int64_t)size < stop_below;
    int64_t count = -1;
    if ((commit & 0xc0000000u) == 0 && size <= page_size - data_offset && (int64_t)size >= min_commit)
      count = count_records(dst + data_offset, size);
    if (count < 0) {
      ring_unreserve(&r, slot);
      out[3] = slot;
      out[5] = at_writer;
      status = STAGE_HANDOFF;
      break;
    }
    bool wake = ring_publish(&r, (int32_t)queue, slot, (double)count);
    pages++;
    events += (double)count;
    bytes += size;
    // The caller wakes the output thread once, after the call: a call is short, and a wake-up costs more than a page.
    if (wake) out[4] = 1;
    if (at_writer) {
      status = STAGE_WRITER;
      break;
    }
  }
  out[0] = pages;
  out[1] = events;
  out[2] = bytes;
  return make_int64(env, status);
}

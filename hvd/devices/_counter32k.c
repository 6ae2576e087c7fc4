/*
 * The 32 kHz sync counter's CR read, in C (DM3730 TRM 16.3, "32-kHz Sync Timer"; the register
 * table is in counter32k.py, which stays the model of record).
 *
 * Linux on OMAP3 uses this counter as its clocksource *and* its sched_clock: it is read on every
 * context switch, timestamp and timekeeping update, several thousand times a second (27,763
 * reads in the 200 fork+exec of `hvd bench linux`, half of all device reads). Through Python an
 * MMIO read costs about ten microseconds; here it is a clock_gettime.
 *
 * Unicorn calls hvd_counter32k_read as the MMIO read callback of the counter's page. CR is
 * computed from the virtual clock exactly as Counter32k.count() does: guest time is the host's
 * CLOCK_MONOTONIC (what Python's time.monotonic_ns reads) plus an offset, or a frozen value
 * while the VM is paused; Python keeps both here whenever they change (VirtualClock observers).
 * Every other offset goes to the Python model through `fallback`, so REV, SYSCONFIG and the
 * debug log of unmodeled registers behave as before. Loaded with ctypes: no Python API here.
 */
#include <stdint.h>
#include <time.h>

typedef uint64_t (*mmio_read_fn)(void *uc, uint64_t offset, unsigned size, void *ud);

#define CR 0x10u
#define HZ 32768u
#define NS_PER_S 1000000000ull

struct hvd_counter32k {
    int64_t offset_ns; /* guest ns = CLOCK_MONOTONIC ns + offset_ns ... */
    int64_t frozen_ns; /* ... unless frozen: then guest ns = frozen_ns */
    int32_t frozen;
    uint32_t pad;
    uint64_t reads;    /* CR reads answered here */
    mmio_read_fn fallback;
};

uint64_t hvd_counter32k_read(void *uc, uint64_t offset, unsigned size, struct hvd_counter32k *c)
{
    struct timespec ts;
    int64_t now;
    uint32_t count;

    if ((offset & ~3u) != CR)
        return c->fallback(uc, offset, size, 0);
    if (c->frozen) {
        now = c->frozen_ns;
    } else {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (int64_t)ts.tv_sec * (int64_t)NS_PER_S + ts.tv_nsec + c->offset_ns;
    }
    if (now < 0)
        now = 0;
    c->reads++;
    count = (uint32_t)(((unsigned __int128)(uint64_t)now * HZ) / NS_PER_S);
    count >>= (offset & 3u) * 8u;
    return size >= 4 ? count : count & ((1u << (size * 8u)) - 1u);
}

/*
 * hvd's block hook: Unicorn calls it at the start of every translated block the guest enters,
 * so it is written in C (a Python callback there would cost about a microsecond per block).
 * Python loads it with ctypes and registers it with uc_hook_add(UC_HOOK_BLOCK); there is no
 * Python API in this file. It does two things:
 *
 *  1. Counts guest instructions. The count of a block is looked up in a direct-mapped cache
 *     indexed by address and tagged with address and size. On a miss the hook reads CPSR: a
 *     block in ARM state holds size / 4 instructions; a block in Thumb state mixes 16- and
 *     32-bit instructions and is counted here from its halfwords (read with uc_vmem_read), or
 *     by a callback into Python when that read fails. A hit costs no register read (reading
 *     CPSR on every block tripled the hook's cost). A block cut short by an exception or a stop
 *     is counted whole, and two address spaces running different code at the same address
 *     with the same block size share an entry until it is evicted: the count
 *     is exact for one address space's blocks that run to their end, and close otherwise.
 *
 *  2. Ends the run where a pending interrupt stops being masked. QEMU's translator ends a block
 *     after every instruction that can clear CPSR.I or CPSR.F (CPS, MSR, exception return), so
 *     the first block after the guest unmasks is where the hardware would take the interrupt.
 *     Python sets `want` to the mask bits of the pending lines (I = 0x80, F = 0x40) while they
 *     are masked; when a block starts with one of them clear, the hook asks Unicorn to stop
 *     (the stop is honoured at that block's entry check, before any of its instructions run)
 *     and records that it did.
 *
 *  3. Stops the run at the next block boundary when another thread asks (`stop_next`). This
 *     is how the vCPU's alarm stops a running guest. Unicorn's own cross-thread stop is taken
 *     at the check after the next memory access, which can be in the middle of an instruction:
 *     an LDRD whose first destination is its base register has then written that register,
 *     and the instruction runs again from the wrong address. At a block boundary every
 *     instruction is whole.
 *
 * A block the hook stops at has not run: it is counted when it runs.
 */
#include <stdint.h>

typedef int (*reg_read_fn)(void *uc, int regid, void *value);
typedef int (*emu_stop_fn)(void *uc);
typedef uint32_t (*thumb_count_fn)(uint64_t pc, uint32_t size);
typedef int (*vmem_read_fn)(void *uc, uint64_t address, int prot, void *bytes, uint64_t size);

#define CPSR_T 0x20u
#define BLOCK_CACHE 65536u /* entries; must match blockhook.py */
#define UC_PROT_EXEC 4
#define THUMB_READ_MAX 8192u /* a translated block spans at most two 4 KiB pages */

struct block_entry {
    uint32_t pc;
    uint16_t size;
    uint16_t icount;
};

struct hvd_blocks {
    /* counters, read by Python */
    uint64_t blocks;
    uint64_t insns;
    uint64_t unmask_stops;
    uint64_t misses;
    uint64_t requested_stops;
    /* control, written by Python */
    uint32_t want;    /* CPSR mask bits of pending interrupt lines */
    uint32_t stopped; /* set here when this hook asked Unicorn to stop; Python clears it */
    int32_t cpsr_regid;
    volatile uint32_t stop_next; /* set by another thread: stop at the next block */
    reg_read_fn reg_read;
    emu_stop_fn emu_stop;
    thumb_count_fn thumb_count;
    vmem_read_fn vmem_read;
    uint64_t thumb_py; /* Thumb blocks counted by the Python callback */
    struct block_entry cache[BLOCK_CACHE];
};

/* Instructions in a Thumb block: a halfword whose top five bits are 0b11101, 0b11110 or 0b11111
   starts a 32-bit instruction (ARM ARM A6.1). The code is read through Unicorn's own TLB
   (uc_vmem_read, as an instruction fetch at the current privilege: the block is executing, so
   its translation is there); when that fails, Python reads and counts it. */
static uint32_t thumb_count(struct hvd_blocks *b, void *uc, uint64_t address, uint32_t size)
{
    uint8_t code[THUMB_READ_MAX];
    uint32_t i = 0, n = 0;

    if (size == 0 || size > THUMB_READ_MAX || b->vmem_read == 0 ||
        b->vmem_read(uc, address, UC_PROT_EXEC, code, size) != 0) {
        b->thumb_py++;
        return b->thumb_count(address, size);
    }
    while (i + 1 < size) {
        i += ((uint32_t)code[i + 1] >> 3) >= 0x1D ? 4 : 2;
        n++;
    }
    return n ? n : 1;
}

void hvd_block_hook(void *uc, uint64_t address, uint32_t size, struct hvd_blocks *b)
{
    /* indexed by address alone: the blocks of a loop or function sit side by side in the table,
       a few to a cache line (mixing the size in scattered them: the hook cost 14% of a Linux
       boot against 11% like this) */
    struct block_entry *e = &b->cache[(address >> 1) & (BLOCK_CACHE - 1)];
    uint32_t cpsr;

    if (b->stop_next) {
        b->stop_next = 0;
        b->stopped = 1;
        b->requested_stops++;
        b->emu_stop(uc);
        return;
    }
    if (b->want) {
        cpsr = 0;
        b->reg_read(uc, b->cpsr_regid, &cpsr);
        if (b->want & ~cpsr) {
            b->want = 0;
            b->stopped = 1;
            b->unmask_stops++;
            b->emu_stop(uc);
            return;
        }
    }
    b->blocks++;
    if (e->pc != (uint32_t)address || e->size != size) {
        b->misses++;
        cpsr = 0;
        b->reg_read(uc, b->cpsr_regid, &cpsr);
        e->pc = (uint32_t)address;
        e->size = (uint16_t)size;
        e->icount = (uint16_t)((cpsr & CPSR_T) ? thumb_count(b, uc, address, size) : size >> 2);
    }
    b->insns += e->icount;
}

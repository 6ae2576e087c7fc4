/*
 * The tlb policy's hook on the guest's TLB maintenance instructions, front half in C.
 *
 * Each TLB maintenance instruction the monitor found in guest code gets a UC_HOOK_CODE hook at
 * its address (ShadowMmu._add_hook). Most of the time they fire, there is nothing for the
 * shadow to do: the guest invalidates by MVA pages the shadow never held (Linux flushes whole
 * unmapped ranges page by page, and its text patching flushes the fixmap page before using it):
 * 70% of the TLBIMVAs of a Linux boot and fork+exec loop dropped no shadow entry. Handing each
 * to Python cost ~15 us. This hook answers those itself:
 *
 *  - in User mode the instruction is UNDEFINED, and an ARM instruction whose condition fails
 *    does nothing (Thumb ones are taken as executed: the IT state is not reliable here, and
 *    invalidating more than asked is allowed): nothing to do, as in Python;
 *  - a by-MVA operation whose page the shadow has never held an entry for, since it was last
 *    cleared, cannot drop anything: the shadow keeps a bitmap of the 4 KiB VA pages it held
 *    second-level entries for and of the 1 MiB regions it held first-level entries for (any
 *    ASID), here; the guest's instruction itself then flushes the page from Unicorn's TLB.
 *    The C fill cache's walker keeps small pages it walked itself (not in the shadow): their
 *    answers for the page are dropped here, for the operation's ASID and the global ones (or
 *    all, for TLBIMVAA), as ShadowMmu.flush_unicorn_pages does. An operation on one part of
 *    a large page or supersection drops the entries of its other parts too, so an entry of
 *    one sets the bits of all sixteen parts (the walker keeps neither);
 *  - everything else goes to Python (ShadowMmu._on_tlb_op), which stays the only authority.
 *
 * Loaded with ctypes; no Python API here.
 */
#include <stdint.h>

typedef int (*reg_read_fn)(void *uc, int regid, void *value);
typedef void (*python_fn)(uint64_t address);
typedef void (*fill_page_asid_fn)(void *fill, uint32_t va, uint32_t asid);
typedef void (*fill_page_fn)(void *fill, uint32_t va);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef int (*vmem_read_fn)(void *uc, uint64_t address, int prot, void *bytes, uint64_t size);
typedef int (*fill_change_fn)(void *fill, void *uc, uint32_t old, uint32_t new);

#define UC_PROT_EXEC 4
#define CPSR_IT 0x0600FC00u

struct cp_reg { /* uc_arm_cp_reg */
    uint32_t cp, is64, sec, crn, crm, opc1, opc2;
    uint64_t val;
};

#define KINDS 16u

struct hvd_tlbop_filter {
    uint64_t filtered;               /* operations answered here */
    uint64_t passed;                 /* operations handed to Python */
    uint64_t filtered_by_kind[KINDS];
    int32_t cpsr_regid;
    uint32_t pad;
    reg_read_fn reg_read;
    python_fn python;
    void *fill;                      /* the C fill cache, or 0 */
    fill_page_asid_fn fill_page_asid; /* hvd_fill_flush_page_asid */
    fill_page_fn fill_page;          /* hvd_fill_flush_page */
    uint8_t mbs[4096u / 8u];         /* 1 MiB regions with first-level entries */
    uint8_t pages[(1u << 20) / 8u];  /* 4 KiB pages with second-level entries */
    /* DACR and CONTEXTIDR writes (see reg_write): set up with the fill cache */
    fill_change_fn fill_dacr;        /* hvd_fill_dacr_change */
    reg_write_fn reg_write;
    vmem_read_fn vmem_read;
    int32_t cp_regid;                /* UC_ARM_REG_CP_REG */
    int32_t pc_regid;
    uint64_t dacr_done;              /* DACR writes done here, without Unicorn's flush */
    uint64_t dacr_passed;            /* DACR writes left to the instruction */
    fill_change_fn fill_asid;        /* hvd_fill_asid_change */
    uint64_t ctx_done;               /* CONTEXTIDR writes done here */
    uint64_t ctx_passed;             /* CONTEXTIDR writes left to the instruction */
};

struct hvd_tlbop {                   /* one per hooked instruction: the hook's user data */
    struct hvd_tlbop_filter *f;
    uint32_t passes;                 /* bit n set: the condition passes when NZCV = n */
    int32_t rt_regid;                /* Unicorn's id of the operand register */
    uint32_t kind;                   /* index into filtered_by_kind */
    uint32_t by_mva;                 /* the operand is an MVA (TLBIMVA, TLBIMVAA and forms) */
    uint32_t all_asids;              /* TLBIMVAA and forms: every ASID's entries */
    uint32_t reg;                    /* not a TLB operation: MCR to DACR (REG_DACR) or
                                        CONTEXTIDR (REG_CONTEXTIDR) */
    uint32_t size;                   /* the instruction's bytes (4) */
    uint32_t raw;                    /* ... as found in the code page */
    uint32_t hits;                   /* DACR writes here since Python last looked (pruning) */
};

#define REG_DACR 1u
#define REG_CONTEXTIDR 2u

/* MCR p15, 0, Rt, c3, c0, 0 (DACR) or MCR p15, 0, Rt, c13, c0, 1 (CONTEXTIDR) at PL1, its
   condition passed. Unicorn flushes its whole TLB at both: Linux writes DACR at every kernel
   entry and exit, and CONTEXTIDR at every switch between processes. Done here instead: drop
   only Unicorn's entries the change can make wrong (those of the domains that change,
   hvd_fill_dacr_change; the non-global ones, hvd_fill_asid_change), write the register
   without the flush, and go on after the instruction. Left to the instruction itself (a
   whole-TLB flush, always correct) when the bytes at the address are no longer the
   instruction found (the hook is by VA), when a log overflowed, or in a Thumb IT block
   (stepping over it would leave the IT state behind). CPSR's IT bits are not kept up to date
   in the middle of a translated block, but Unicorn calls the hook of a Thumb instruction in an
   IT block only when its condition passes, and does not leave a block inside an IT block: the
   new PC is not taken there, and the MCR runs after this hook, writing the same value again
   with Unicorn's flush. QEMU ends the block after every CP15 write with PC written back, so
   the PC written here is never the one the run goes on from (mmu_domain's Thumb IT cases:
   the code after the block runs once). */
static void reg_write(void *uc, uint64_t address, struct hvd_tlbop *op, uint32_t cpsr)
{
    struct hvd_tlbop_filter *f = op->f;
    struct cp_reg dacr = {15, 0, 0, 3, 0, 0, 0, 0}, ctx = {15, 0, 0, 13, 0, 0, 1, 0};
    struct cp_reg *reg = op->reg == REG_DACR ? &dacr : &ctx;
    fill_change_fn change = op->reg == REG_DACR ? f->fill_dacr : f->fill_asid;
    uint64_t *done = op->reg == REG_DACR ? &f->dacr_done : &f->ctx_done;
    uint64_t *passed = op->reg == REG_DACR ? &f->dacr_passed : &f->ctx_passed;
    uint32_t code = 0, value = 0, pc;

    if (!change || (cpsr & CPSR_IT) ||
        f->vmem_read(uc, address, UC_PROT_EXEC, &code, op->size) != 0 || code != op->raw ||
        f->reg_read(uc, op->rt_regid, &value) != 0 || f->reg_read(uc, f->cp_regid, reg) != 0 ||
        !change(f->fill, uc, (uint32_t)reg->val, value)) {
        (*passed)++;
        return;
    }
    reg->val = value;
    f->reg_write(uc, f->cp_regid, reg); /* Unicorn's raw write: no flush */
    pc = ((uint32_t)address + op->size) | ((cpsr & 0x20u) ? 1u : 0u);
    f->reg_write(uc, f->pc_regid, &pc); /* Unicorn leaves the block and goes on from there */
    (*done)++;
}

void hvd_tlbop_hook(void *uc, uint64_t address, uint32_t size, struct hvd_tlbop *op)
{
    struct hvd_tlbop_filter *f = op->f;
    uint32_t cpsr = 0, rt = 0, page;

    (void)size;
    f->reg_read(uc, f->cpsr_regid, &cpsr);
    if ((cpsr & 0x1Fu) == 0x10u)
        return;
    if (!(cpsr & 0x20u) && !((op->passes >> (cpsr >> 28)) & 1u))
        return;
    if (op->reg) {
        op->hits++;
        reg_write(uc, address, op, cpsr);
        return;
    }
    if (op->by_mva) {
        f->reg_read(uc, op->rt_regid, &rt);
        page = rt >> 12;
        if (!(f->pages[page >> 3] & (1u << (page & 7u))) &&
            !(f->mbs[page >> 11] & (1u << ((page >> 8) & 7u)))) {
            f->filtered++;
            f->filtered_by_kind[op->kind % KINDS]++;
            if (f->fill) {
                if (op->all_asids)
                    f->fill_page(f->fill, rt);
                else
                    f->fill_page_asid(f->fill, rt, rt & 0xFFu);
            }
            return;
        }
    }
    f->passed++;
    f->python(address);
}

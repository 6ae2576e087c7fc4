/*
 * The shadow monitor's fill cache: a second-level TLB in C in front of the Python fill hook.
 *
 * Unicorn calls the TLB-fill hook on every miss in its own TLB, and it flushes that TLB whole on
 * every ASID, DACR, TTBCR or SCTLR write, so a Linux guest misses tens of thousands of times a
 * second, nearly always for a translation the shadow already holds. Answering those in Python
 * costs ~5 us each. This hook answers them from a cache of the answers the Python monitor gave
 * before, and hands everything else to the Python hook (ShadowMmu._fill_raw), which stays the
 * only authority:
 *
 *  - an entry is the complete answer (PA of the Unicorn page, R/W/X) Python returned for one
 *    (VA page, access kind, privilege level) under the SCTLR, DACR and CONTEXTIDR of the time,
 *    which must equal the current ones: Python's answer from a shadow entry depends on those
 *    (MMU on, AFE/TRE, domain access, ASID) and not on TTBR0/TTBR1/TTBCR, which only matter
 *    when it walks, and what it walks it keeps in the shadow, as a real TLB keeps a walk across
 *    TTBR writes until it is invalidated. (Under the wp policy answers do depend on the tables'
 *    root: the cache is not used there.) An answer from a global shadow entry, or with the MMU
 *    off, holds in every address space: CONTEXTIDR need not match;
 *  - Python inserts an answer only when giving it again later is right (not the answers that
 *    open a trapped write, not emu_start's 'until' probe);
 *  - every change that can alter an answer already has to drop Unicorn's own TLB entries
 *    (BaseMmu.flush_unicorn_pages / flush_unicorn_tlb): both also drop the entries here;
 *    a TLBIASID drops only the non-global answers of its ASID (a generation per ASID), so the
 *    kernel's global answers survive a process's exit or exec;
 *  - privileged data accesses need to know whether the instruction is LDRT-class (unprivileged
 *    access from PL1): a small table keyed by PC, filled by Python as it decodes instructions
 *    and cleared with its own cache, answers that; a PC not in it goes to Python.
 *
 * Loaded with ctypes (no Python API here); the CPU state is read with one uc_reg_read_batch
 * call into buffers Python set up.
 */
#include <stdbool.h>
#include <stdint.h>

typedef int (*batch_fn)(void *uc, int *ids, void **vals, int count);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef bool (*fill_fn)(void *uc, uint64_t vaddr, int type, void *entry, void *ud);

#define UC_ARM_REG_CPSR 3
#define CPSR_IT 0x0600FC00u /* IT[1:0] at 26:25, IT[7:2] at 15:10 */
#define UC_MEM_READ 16
#define UC_MEM_WRITE 17
#define UC_MEM_FETCH 18
#define UC_PROT_EXEC 4
#define UNTIL_PAGE 0xFFFFF000u /* hvd.monitor.mmu.UNTIL_PAGE: the vCPU's emu_start 'until' page */
#define PAGE_SHIFT 12          /* hvd.cpu.arm.UC_PAGE_SIZE: Unicorn's page */
#define PAGE_MASK (~((1u << PAGE_SHIFT) - 1u))

#define PAGES 8192u    /* VA pages (sets) */
#define WAYS 8u        /* answers per (page, kind, level) set: for pages that share a set, and for
                          address spaces sharing a VA */
#define S_CTX 2        /* the state word a global answer does not depend on */
#define UNPRIV 65536u  /* PCs (kernel code has tens of thousands that make data accesses) */
#define NSTATE 3       /* SCTLR, DACR, CONTEXTIDR */

struct uc_tlb_entry {
    uint64_t paddr;
    int perms;
};

struct slot {
    uint32_t gen; /* 0: empty */
    uint32_t va;
    uint32_t pa;
    uint32_t state[NSTATE];
    uint32_t perms;
    uint32_t global; /* from a global entry (or MMU off): valid in every address space */
    uint32_t agen;   /* not global: the generation of its ASID when it was inserted */
};

struct unpriv {
    uint32_t gen;
    uint32_t pc;
    uint32_t flag;
};

struct hvd_fill {
    /* counters, read by Python */
    uint64_t hits;
    uint64_t misses;
    /* set up by Python */
    uint32_t gen;        /* current generation of slots; bumped to drop them all */
    uint32_t victim;     /* rotates the way replaced when a set is full */
    uint32_t unpriv_gen; /* current generation of the PC table */
    int32_t nregs;       /* 8: CPSR, PC, then NSTATE CP15 registers */
    batch_fn batch;
    fill_fn slow;
    reg_write_fn reg_write;
    int *ids;
    void **vals;
    uint64_t *v[2 + NSTATE]; /* where uc_reg_read_batch leaves CPSR, PC, then the state */
    /* the state and key of the fill being handed to Python, for hvd_fill_insert */
    uint32_t last_valid;
    uint32_t last_va;
    uint32_t last_kind;
    uint32_t last_state[NSTATE];
    struct unpriv pcs[UNPRIV];
    uint32_t asid_gen[256]; /* per ASID; bumped to drop the ASID's non-global answers */
    struct slot slots[PAGES * 6 * WAYS];
};

/* first slot of the WAYS slots for (va, kind, level). The VA bits above the index are folded
   in: without them, pages 32 MiB apart share a set (a guest's code and data at 0x80000000 and
   its user pages at 0x20000000 or 0x00000000), and eight address spaces sharing a VA then
   overflow the set's eight ways. */
static inline uint32_t set_index(uint32_t va, uint32_t kind, uint32_t pl)
{
    uint32_t page = (va >> PAGE_SHIFT) ^ (va >> (PAGE_SHIFT + 13));
    return (((page & (PAGES - 1)) * 6) + (kind << 1) + pl) * WAYS;
}

static inline bool same_state(const struct hvd_fill *f, const struct slot *s, const uint32_t *b)
{
    int i;
    for (i = 0; i < NSTATE; i++)
        if (s->state[i] != b[i] && !(s->global && i == S_CTX))
            return false;
    return s->global || s->agen == f->asid_gen[b[S_CTX] & 0xFF];
}

bool hvd_fill_hook(void *uc, uint64_t vaddr, int type, struct uc_tlb_entry *e, struct hvd_fill *f)
{
    uint32_t state[NSTATE];
    uint32_t cpsr, pl, kind, va = (uint32_t)vaddr;
    int i;

    f->last_valid = 0;
    if (va == UNTIL_PAGE && type == UC_MEM_FETCH) {
        /* emu_start translates its 'until' address once per call (once per vCPU slice): the
           answer ShadowMmu._fill_until gives, without a trip to Python */
        e->paddr = UNTIL_PAGE;
        e->perms = UC_PROT_EXEC;
        return true;
    }
    if (type < UC_MEM_READ || type > UC_MEM_FETCH)
        goto slow;
    f->batch(uc, f->ids, f->vals, f->nregs);
    cpsr = (uint32_t)*f->v[0];
    for (i = 0; i < NSTATE; i++)
        state[i] = (uint32_t)*f->v[2 + i];
    kind = (uint32_t)(type - UC_MEM_READ);
    pl = (cpsr & 0x1F) != 0x10;
    f->last_valid = 1;
    f->last_va = va;
    f->last_kind = kind;
    for (i = 0; i < NSTATE; i++)
        f->last_state[i] = state[i];
    if (pl && kind != 2 && (state[0] & 1)) { /* MMU on: Python checks for LDRT */
        uint32_t pc = (uint32_t)*f->v[1];
        struct unpriv *u = &f->pcs[((pc >> 1) ^ (pc >> 17)) & (UNPRIV - 1)];
        if (u->gen != f->unpriv_gen || u->pc != pc)
            goto slow;
        if (u->flag)
            pl = 0;
    }
    {
        struct slot *s = &f->slots[set_index(va, kind, pl)];
        uint32_t w;
        for (w = 0; w < WAYS; w++, s++) {
            if (s->gen == f->gen && s->va == va && same_state(f, s, state)) {
                e->paddr = s->pa;
                e->perms = (int)s->perms;
                f->hits++;
                if (cpsr & CPSR_IT) {
                    /* Unicorn restored the state of this instruction before calling the hook,
                       IT bits included; in the middle of a block QEMU keeps them 0 and writes
                       them only when the block ends inside an IT block. Left set, they would
                       make the instructions after the IT block run as if inside it. */
                    uint32_t v = cpsr & ~CPSR_IT;
                    f->reg_write(uc, UC_ARM_REG_CPSR, &v);
                }
                return true;
            }
        }
    }
slow:
    f->misses++;
    return f->slow(uc, vaddr, type, e, 0);
}

/* Python, right after answering the fill the hook handed it: remember the answer. */
void hvd_fill_insert(struct hvd_fill *f, uint32_t pl, uint32_t pa, uint32_t perms, uint32_t global)
{
    struct slot *set, *s = 0;
    uint32_t w;
    int i;

    if (!f->last_valid || pl > 1)
        return;
    set = &f->slots[set_index(f->last_va, f->last_kind, pl)];
    /* the slot of this address space if it has one, else a free one (never used, flushed, or
       of a dropped ASID), else one in rotation: pages whose VAs share the set (see set_index)
       and address spaces that share a VA (every process's stack) both keep their answers */
    for (w = 0; w < WAYS && !s; w++)
        if (set[w].gen == f->gen && set[w].va == f->last_va && same_state(f, &set[w], f->last_state))
            s = &set[w];
    for (w = 0; w < WAYS && !s; w++)
        if (set[w].gen != f->gen ||
            (!set[w].global && set[w].agen != f->asid_gen[set[w].state[S_CTX] & 0xFFu]))
            s = &set[w];
    if (!s)
        s = &set[f->victim++ & (WAYS - 1)];
    s->gen = f->gen;
    s->va = f->last_va;
    s->pa = pa;
    s->perms = perms;
    s->global = global != 0;
    s->agen = f->asid_gen[f->last_state[S_CTX] & 0xFF];
    for (i = 0; i < NSTATE; i++)
        s->state[i] = f->last_state[i];
    f->last_valid = 0;
}

/* Python, when it did not answer (a fault) or must not be repeated. */
void hvd_fill_forget(struct hvd_fill *f)
{
    f->last_valid = 0;
}

void hvd_fill_flush_all(struct hvd_fill *f)
{
    if (++f->gen == 0)
        f->gen = 1;
}

/* Drop the non-global answers given under one ASID (TLBIASID): the global ones, and those of
   other address spaces, still stand. */
void hvd_fill_flush_asid(struct hvd_fill *f, uint32_t asid)
{
    if (++f->asid_gen[asid & 0xFF] == 0)
        hvd_fill_flush_all(f); /* a wrapped generation could match an old slot */
}

/* Drop the answers for the VA page holding va: every kind, level and address space. */
void hvd_fill_flush_page(struct hvd_fill *f, uint32_t va)
{
    struct slot *s;
    uint32_t k;

    va &= PAGE_MASK;
    s = &f->slots[set_index(va, 0, 0)];
    for (k = 0; k < 6 * WAYS; k++, s++)
        if (s->va == va)
            s->gen = 0;
}

/* TLBIMVA: drop the answers for the VA page holding va that came from global entries or
   were given under ASID asid; other address spaces' answers for the page still stand. */
void hvd_fill_flush_page_asid(struct hvd_fill *f, uint32_t va, uint32_t asid)
{
    struct slot *s;
    uint32_t k;

    va &= PAGE_MASK;
    asid &= 0xFFu;
    s = &f->slots[set_index(va, 0, 0)];
    for (k = 0; k < 6 * WAYS; k++, s++)
        if (s->va == va && (s->global || (s->state[S_CTX] & 0xFFu) == asid))
            s->gen = 0;
}

void hvd_fill_set_unpriv(struct hvd_fill *f, uint32_t pc, uint32_t flag)
{
    struct unpriv *u = &f->pcs[((pc >> 1) ^ (pc >> 17)) & (UNPRIV - 1)];
    u->gen = f->unpriv_gen;
    u->pc = pc;
    u->flag = flag;
}

void hvd_fill_clear_unpriv(struct hvd_fill *f)
{
    if (++f->unpriv_gen == 0)
        f->unpriv_gen = 1;
}

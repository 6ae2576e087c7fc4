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
 *    access from PL1): a small table keyed by PC, filled by Python as it decodes instructions,
 *    answers that; a PC not in it goes to Python. Python forgets a page's PCs here when the
 *    page's code may have changed (a trapped write to it, a new scan).
 *
 * On a miss it walks the guest's tables itself (hvd_fill_walk) when the answer is one the
 * monitor can give without Python: a small page in guest DDR, an access the descriptor allows,
 * not an instruction fetch at PL1 (Python scans code pages for TLB operations first). That is
 * the shadow monitor's hidden fault, done in C: a small page is exactly one Unicorn page, so the
 * answer kept here is the whole shadow entry, and it goes the way every answer goes (the TLB
 * operation that drops it drops its page here: the C TLB-operation hook too, see _tlbop.c).
 * Python's two rules for such answers are kept here with state Python shares:
 *  - a scanned code page (a bit per DDR page in `code`, set and cleared by Python) is write-
 *    protected: a write goes to Python, which traps it; other accesses get no W;
 *  - a page given W is recorded (`wr`, per DDR page: the VA page, or WR_MANY), so that Python
 *    can take W away again when the page becomes a code page (hvd_fill_take_writable).
 * Every fault, section, large page, supersection, table outside DDR or MMU-off fill goes to
 * Python, which walks again and decides (the walk is ~0.2 us here, ~20 us there).
 *
 * Loaded with ctypes (no Python API here); the CPU state is read with one uc_reg_read_batch
 * call into buffers Python set up.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
#define NWALK 5        /* CPSR, PC, TTBR0, TTBR1, TTBCR: the walk's own batch */
#define WR_MANY 2u     /* wr[]: given W at more than one VA */
#define R_ 1u
#define W_ 2u
#define X_ 4u
#define DOM_ANY 16u    /* an answer whose domain Python did not say: dropped at any DACR change */
#define DOM_NONE 17u   /* an answer no DACR change can alter (the MMU off) */
#define DOMS 17u       /* the logs: one per domain, and DOM_ANY's */
#define DLOG 128u      /* VA pages a log holds; one more marks it overflowed */
#define NGLOG 512u     /* VA pages of non-global answers the ASID log holds (likewise) */
#define STRAYS 64u     /* PCs of the fills that saw a DACR change no hook made */
#define QUIET 1u       /* f->quiet: a miss fails, no Python */
#define PROBE 2u       /* f->quiet: a miss goes to Python, which delivers no fault */

struct cp_reg { /* uc_arm_cp_reg */
    uint32_t cp, is64, sec, crn, crm, opc1, opc2;
    uint64_t val;
};

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
    uint32_t domain; /* the entry's domain, DOM_ANY or DOM_NONE */
};

struct unpriv {
    uint32_t gen;
    uint32_t pc;
    uint32_t flag;
};

/* Guest DDR as the walker reads it */
struct hvd_ram {
    uint8_t *host;   /* host address of guest physical `base` */
    uint32_t base;
    uint32_t pages;  /* size in 4 KiB pages */
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
    /* the walker: set up by Python; walk_on = 0 leaves every miss to Python */
    uint64_t walks;      /* fills answered by a walk here */
    uint32_t walk_on;
    int32_t wnregs;
    struct hvd_ram ram;  /* guest DDR */
    uint8_t *code;       /* bit per DDR page: a scanned (write-protected) code page */
    uint32_t *wr;        /* per DDR page: 0, VA page | 1 given W there, or WR_MANY */
    int *wids;
    void **wvals;
    uint64_t *wv[NWALK];
    /* the domain logs (see hvd_fill_dacr_change) */
    uint32_t slow_domain;        /* set by Python with each answer it gives; DOM_ANY otherwise */
    int32_t cp_regid;            /* UC_ARM_REG_CP_REG */
    uint32_t quiet;              /* QUIET or PROBE, set by Python around Unicorn's own probes
                                    (see ShadowMmu._del_hook, _invalidate_blocks) */
    uint32_t quiet_misses;
    uint64_t dacr_pages;         /* pages flushed for DACR changes */
    uint64_t dacr_overflows;     /* DACR changes left to Unicorn's whole-TLB flush */
    uint64_t dacr_strays;        /* DACR changes seen by a fill that no hook here made */
    uint32_t dacr_seen;          /* DACR as of the last fill or hooked write */
    uint32_t stray_n;            /* the PCs of the last STRAYS such fills, from stray_pc[stray_n] */
    uint32_t stray_pc[STRAYS];
    uint32_t dlen[DOMS];
    uint32_t dlog[DOMS][DLOG];
    /* the ASID log (see hvd_fill_asid_change) */
    uint32_t slow_global;        /* set by Python with each answer it gives; 0 otherwise */
    uint32_t nglen;
    uint64_t asid_pages;         /* pages flushed for ASID changes and TLBIASIDs */
    uint64_t asid_overflows;     /* ... left to Unicorn's whole-TLB flush */
    uint32_t nglog[NGLOG];
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

void hvd_fill_insert(struct hvd_fill *f, uint32_t pl, uint32_t pa, uint32_t perms, uint32_t global,
                     uint32_t domain);

/* An answer given to Unicorn: its VA page goes into its domain's log, and into the ASID log
   unless it is global (an answer from a global entry, or with the MMU off) */
static inline void log_page(uint32_t *log, uint32_t *len, uint32_t cap, uint32_t va)
{
    uint32_t n = *len;

    if (n < cap)
        log[n] = va;
    if (n <= cap)
        *len = n + 1; /* cap + 1: overflowed */
}

static inline void log_answer(struct hvd_fill *f, uint32_t domain, uint32_t global, uint32_t va)
{
    if (domain < DOMS)
        log_page(f->dlog[domain], &f->dlen[domain], DLOG, va);
    if (!global)
        log_page(f->nglog, &f->nglen, NGLOG, va);
}

/* Permissions (PL1, PL0) a client domain grants for AP[2:0], before XN (B3.7.1; with
   SCTLR.AFE the simplified model of B3.7.3, AP[0] being the access flag). AP 0b100 is
   reserved: no access, as in hvd.monitor.walker. */
static const uint8_t AP_FULL[8][2] = {
    {0, 0}, {R_ | W_, 0}, {R_ | W_, R_}, {R_ | W_, R_ | W_}, {0, 0}, {R_, 0}, {R_, R_}, {R_, R_},
};
static const uint8_t AP_SIMPLE[4][2] = {{R_ | W_, 0}, {R_ | W_, R_ | W_}, {R_, 0}, {R_, R_}};

static inline int ram_word(const struct hvd_ram *ram, uint32_t pa, uint32_t *out)
{
    uint32_t off = pa - ram->base;
    if (pa < ram->base || (off >> PAGE_SHIFT) >= ram->pages)
        return 0;
    *out = *(const uint32_t *)(ram->host + off); /* little-endian host, 4-aligned */
    return 1;
}

/* Walk the guest's short-descriptor tables for one access the way hvd.monitor.walker.walk()
   does, for the one outcome answered here: a small page that allows the access. Returns 1
   with the page's PA, the permissions at `pl` (R/W/X, X only without XN) and whether the
   entry is global; 0 for everything else (the MMU off, a fault, another mapping size, a table
   outside DDR, TTBCR.PDx), which Python walks again and decides. */
int hvd_fill_walk(const struct hvd_ram *ram, uint32_t va, uint32_t kind, uint32_t pl,
                  uint32_t sctlr, uint32_t dacr, uint32_t ttbr0, uint32_t ttbr1, uint32_t ttbcr,
                  uint32_t *pa, uint32_t *perms, uint32_t *global, uint32_t *domain)
{
    uint32_t n = ttbcr & 7u, l1a, l1, l2, ap, p, d;

    if (!(sctlr & 1u)) /* MMU off: flat, Python's */
        return 0;
    if (n && (va >> (32u - n))) {
        if (ttbcr & 0x20u) /* PD1 */
            return 0;
        l1a = (ttbr1 & 0xFFFFC000u) | ((va >> 18) & 0x3FFCu);
    } else {
        if (ttbcr & 0x10u) /* PD0 */
            return 0;
        l1a = (ttbr0 & (0xFFFFFFFFu << (14u - n))) | ((va >> 18) & 0x3FFCu);
    }
    if (!ram_word(ram, l1a, &l1) || (l1 & 3u) != 1u) /* not a page table */
        return 0;
    if (!ram_word(ram, (l1 & 0xFFFFFC00u) | ((va >> 10) & 0x3FCu), &l2) || !(l2 & 2u))
        return 0; /* unreadable, translation fault, or a large page */
    ap = ((l2 >> 4) & 3u) | ((l2 >> 7) & 4u);
    if (sctlr & (1u << 29)) { /* AFE */
        if (!(ap & 1u))
            return 0; /* access flag fault */
        p = AP_SIMPLE[ap >> 1][pl ? 0 : 1];
    } else {
        p = AP_FULL[ap][pl ? 0 : 1];
    }
    if (p && !(l2 & 1u))
        p |= X_;
    d = (dacr >> (((l1 >> 5) & 15u) << 1)) & 3u;
    if (d == 3u)
        p = R_ | W_ | X_; /* manager: no permission checks, XN included */
    else if (d != 1u)
        return 0; /* domain fault */
    if (!(p & (kind == 0 ? R_ : kind == 1 ? W_ : X_)))
        return 0; /* permission fault */
    *pa = l2 & 0xFFFFF000u;
    *perms = p;
    *global = !(l2 & 0x800u);
    *domain = (l1 >> 5) & 15u;
    return 1;
}

/* The miss path's walk (see the top of this file): answers *e and keeps the answer. */
static int walk_fill(struct hvd_fill *f, void *uc, uint32_t va, uint32_t kind, uint32_t pl,
                     const uint32_t *state, struct uc_tlb_entry *e)
{
    uint32_t pa, perms, global, domain, i;

    if (!f->walk_on || !(state[0] & 1u) || (kind == 2 && pl))
        return 0;
    f->batch(uc, f->wids, f->wvals, f->wnregs);
    if (!hvd_fill_walk(&f->ram, va, kind, pl, state[0], state[1], (uint32_t)*f->wv[2],
                       (uint32_t)*f->wv[3], (uint32_t)*f->wv[4], &pa, &perms, &global, &domain))
        return 0;
    i = (pa - f->ram.base) >> PAGE_SHIFT;
    if (pa < f->ram.base || i >= f->ram.pages)
        return 0; /* a device or ROM page: Python */
    if ((perms & W_) && (f->code[i >> 3] & (1u << (i & 7u)))) {
        if (kind == 1)
            return 0; /* a write to a protected code page: Python traps it */
        perms &= ~W_;
    }
    if (perms & W_) {
        uint32_t rec = f->wr[i];
        if (rec == 0)
            f->wr[i] = va | 1u;
        else if (rec != (va | 1u))
            f->wr[i] = WR_MANY;
    }
    if (kind != 2)
        perms &= ~X_; /* a data fill never grants X (see ShadowMmu._fill) */
    f->walks++;
    e->paddr = pa;
    e->perms = (int)perms;
    hvd_fill_insert(f, pl, pa, perms, global, domain);
    log_answer(f, domain, global, va);
    return 1;
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
    if (state[1] != f->dacr_seen) {
        /* DACR changed under an MCR with no hook (pruned, or never scanned): Unicorn flushed
           its whole TLB. The PC is a few instructions after that MCR (Linux follows it with an
           ISB, which ends the block: the next block's fetch misses right after it): Python puts
           the pruned DACR hooks just before such PCs back (ShadowMmu._prune_dacr_hooks). */
        f->dacr_seen = state[1];
        f->dacr_strays++;
        f->stray_pc[f->stray_n++ & (STRAYS - 1u)] = (uint32_t)*f->v[1];
    }
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
                log_answer(f, s->domain, s->global, va);
                goto answered;
            }
        }
    }
    if (!walk_fill(f, uc, va, kind, pl, state, e))
        goto slow;
answered:
    if ((cpsr & CPSR_IT) && !f->quiet) {
        /* Unicorn restored the state of this instruction before calling the hook, IT bits
           included; in the middle of a block QEMU keeps them 0 and writes them only when the
           block ends inside an IT block. Left set, they would make the instructions after the
           IT block run as if inside it. */
        uint32_t v = cpsr & ~CPSR_IT;
        f->reg_write(uc, UC_ARM_REG_CPSR, &v);
    }
    return true;
slow:
    if (f->quiet == QUIET) { /* a probe of Unicorn's, between runs: no guest fault, no Python */
        f->quiet_misses++;
        return false;
    }
    f->misses++;
    f->slow_domain = DOM_ANY;
    f->slow_global = 0;
    if (!f->slow(uc, vaddr, type, e, 0))
        return false;
    log_answer(f, f->slow_domain, f->slow_global, va);
    return true;
}

/* Python, right after answering the fill the hook handed it: remember the answer. */
void hvd_fill_insert(struct hvd_fill *f, uint32_t pl, uint32_t pa, uint32_t perms, uint32_t global,
                     uint32_t domain)
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
    s->domain = domain < DOMS + 1 ? domain : DOM_ANY;
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

void hvd_fill_reset_domains(struct hvd_fill *f);

void hvd_fill_flush_all(struct hvd_fill *f)
{
    if (++f->gen == 0)
        f->gen = 1;
    /* Unicorn's TLB goes whole with it (BaseMmu.flush_unicorn_tlb): no W answer of this hook
       is left anywhere */
    if (f->wr)
        memset(f->wr, 0, (size_t)f->ram.pages * sizeof(uint32_t));
    hvd_fill_reset_domains(f);
}

/* Python, when a DDR page becomes a protected code page: where this hook gave it W since the
   last full flush. 0: nowhere; WR_MANY: at more than one VA (flush everything); else the VA
   page | 1. The record is forgotten. */
uint32_t hvd_fill_take_writable(struct hvd_fill *f, uint32_t pa)
{
    uint32_t i = (pa - f->ram.base) >> PAGE_SHIFT, rec;

    if (!f->wr || pa < f->ram.base || i >= f->ram.pages)
        return 0;
    rec = f->wr[i];
    f->wr[i] = 0;
    return rec;
}

/* Python: DDR page pa is (on = 1) or is no longer (on = 0) a protected code page. */
void hvd_fill_set_code(struct hvd_fill *f, uint32_t pa, uint32_t on)
{
    uint32_t i = (pa - f->ram.base) >> PAGE_SHIFT;

    if (!f->code || pa < f->ram.base || i >= f->ram.pages)
        return;
    if (on)
        f->code[i >> 3] |= (uint8_t)(1u << (i & 7u));
    else
        f->code[i >> 3] &= (uint8_t)~(1u << (i & 7u));
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

/* Python: the code in the VA page holding va may have changed; forget its PCs, and the last
   halfword of the page before (a 32-bit Thumb instruction starting there ends in this page). */
void hvd_fill_forget_unpriv_page(struct hvd_fill *f, uint32_t va)
{
    uint32_t pc = (va & PAGE_MASK) - 2u, end = (va & PAGE_MASK) + (1u << PAGE_SHIFT);

    for (; pc != end; pc += 2u) {
        struct unpriv *u = &f->pcs[((pc >> 1) ^ (pc >> 17)) & (UNPRIV - 1)];
        if (u->pc == pc)
            u->gen = 0;
    }
}

/* The guest changes DACR from `old` to `new` (the C TLB-operation hook, before its MCR runs).
   Unicorn would flush its whole TLB there (QEMU keeps no domain in its TLB entries), and Linux
   changes DACR at every kernel entry and exit (software PAN): the refills cost more than the
   rest of a fork+exec loop's monitor work. Only Unicorn's entries of the domains whose access
   is taken away can be wrong afterwards (see below), and every answer this hook gave went into its domain's log
   (DOM_ANY's when Python did not say): flush those pages, page by page (TLBIMVA's write
   function: every mmu index), and return 1; the caller then writes DACR without Unicorn's
   flush and steps over the MCR. Returns 0, with every log emptied, when a log it needs had
   overflowed: the caller lets the MCR run, and Unicorn flushes everything. The fill cache's
   own answers need nothing: each is kept with the DACR it was given under. */

/* Drop Unicorn's entries for n logged VA pages, one by one (TLBIMVA's write function: every
   mmu index); returns n */
static uint32_t flush_pages(struct hvd_fill *f, void *uc, const uint32_t *pages, uint32_t n)
{
    struct cp_reg tlbimva = {15, 0, 0, 8, 7, 0, 1, 0};
    uint32_t i;

    for (i = 0; i < n; i++) {
        tlbimva.val = pages[i];
        f->reg_write(uc, f->cp_regid, &tlbimva);
    }
    return n;
}

int hvd_fill_dacr_change(struct hvd_fill *f, void *uc, uint32_t old, uint32_t new)
{
    uint32_t changed = 0, d, was, now;

    f->dacr_seen = new;
    for (d = 0; d < 16; d++) {
        was = (old >> (2 * d)) & 3u;
        now = (new >> (2 * d)) & 3u;
        /* Only a domain whose access is taken away can leave entries allowing too much: to
           No access (0, or the reserved 2, which hvd treats alike), or Manager to Client. An
           entry given under No access does not exist (the fill faulted), and one given under
           Client allows no more than Manager does: an access it does not allow misses in
           Unicorn's TLB and is filled again. Linux's uaccess_save_and_enable, which opens
           the user domain, so flushes nothing; the restore after it does. */
        if (was != now && (now == 0u || now == 2u || (was == 3u && now == 1u)))
            changed |= 1u << d;
    }
    if (!changed)
        return 1;
    changed |= 1u << DOM_ANY;
    for (d = 0; d < DOMS; d++) {
        if ((changed >> d) & 1u && f->dlen[d] > DLOG) {
            hvd_fill_reset_domains(f);
            f->dacr_overflows++;
            return 0;
        }
    }
    for (d = 0; d < DOMS; d++) {
        if (!((changed >> d) & 1u))
            continue;
        f->dacr_pages += flush_pages(f, uc, f->dlog[d], f->dlen[d]);
        f->dlen[d] = 0;
    }
    return 1;
}

/* Unicorn's whole TLB was flushed: no answer of this hook is left in it. */
void hvd_fill_reset_domains(struct hvd_fill *f)
{
    memset(f->dlen, 0, sizeof f->dlen);
    f->nglen = 0;
}

/* Drop Unicorn's entries of every non-global answer given since its TLB was last emptied of
   them (the ASID log), page by page. Returns 0, with every log emptied, when the log had
   overflowed: the caller then has Unicorn flush its whole TLB. */
int hvd_fill_flush_nonglobal(struct hvd_fill *f, void *uc)
{
    if (f->nglen > NGLOG) {
        hvd_fill_reset_domains(f);
        f->asid_overflows++;
        return 0;
    }
    f->asid_pages += flush_pages(f, uc, f->nglog, f->nglen);
    f->nglen = 0;
    return 1;
}

/* The guest changes CONTEXTIDR from `old` to `new` (the C TLB-operation hook, before its MCR
   runs). QEMU keeps no ASID in its TLB entries, so Unicorn flushes its whole TLB at every
   change, and Linux changes the ASID at every switch between processes: the kernel's global
   entries, valid in every address space, would all be refilled. Unicorn only ever holds the
   non-global answers of the current ASID (every change of it comes here or flushes
   everything), and each went into the ASID log: flush those pages and return 1; the caller
   writes CONTEXTIDR without Unicorn's flush and steps over the MCR. A change of the PROCID
   alone changes no translation. Returns 0 when the log had overflowed (as
   hvd_fill_flush_nonglobal). The fill cache keeps its answers with the CONTEXTIDR they were
   given under: nothing to drop there. */
int hvd_fill_asid_change(struct hvd_fill *f, void *uc, uint32_t old, uint32_t new)
{
    if (!((old ^ new) & 0xFFu))
        return 1;
    return hvd_fill_flush_nonglobal(f, uc);
}

/*
 * The vCPU's exception hook, front half in C: Supervisor Call entry without leaving emu_start.
 *
 * Unicorn does not take ARM exceptions itself: it calls the UC_HOOK_INTR hooks with the
 * exception number and goes on at whatever PC the hook leaves. hvd takes them in Python
 * (hvd.cpu.exceptions.enter_exception) and, having written PC from inside the hook, ends the
 * run (see VCpu._take_in_hook): a Linux process makes a system call every few thousand
 * instructions, and each then cost a Python hook, an emu_start restart and the slice's
 * bookkeeping (~40 us; 8,000 of them per 200 fork+exec).
 *
 * This hook takes an SVC exception itself, as the ARM ARM's TakeSVCException (B1.9.4) does:
 *   - CPSR: mode Supervisor, I set, A and F kept, IT and J cleared, T = SCTLR.TE,
 *     E = SCTLR.EE (written first: Unicorn swaps the banked SP/LR/SPSR with the mode);
 *   - SPSR_svc = the old CPSR; LR_svc = the address after the SVC (Unicorn reports the
 *     exception with PC already there, in either instruction set);
 *   - PC = the SVC vector, VBAR + 8 or 0xFFFF0008 with SCTLR.V (hvd models no Security
 *     Extensions: no monitor vectors).
 * PC is written with uc_reg_write_batch: like uc_reg_write it makes Unicorn leave its CPU
 * loop and go on at the new PC, but it does not set Unicorn's 'skip PC sync on exit' flag,
 * which would survive into the rest of the run (the reason the Python path ends the run).
 *
 * Everything else goes to Python's hook (VCpu._on_intr): other exception numbers, and with
 * semihosting on, the semihosting calls (SVC 0x123456 in ARM state, SVC 0xAB in Thumb, from a
 * privileged mode), and SVCs whose instruction cannot be read back.
 *
 * The entry itself (hvd_take_exception) also serves Python for every other exception it
 * takes (VCpu._take): one call instead of a dozen register reads and writes through the
 * binding, at each of the thousands of guest aborts a Linux fork+exec loop takes.
 *
 * Loaded with ctypes; no Python API here.
 */
#include <stdint.h>

typedef int (*reg_read_fn)(void *uc, int regid, void *value);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef int (*batch_write_fn)(void *uc, const int *regs, void *const *vals, int count);
typedef void (*python_fn)(void *uc, uint32_t intno, void *user_data);
typedef int (*vmem_read_fn)(void *uc, uint64_t address, int prot, void *bytes, uint64_t size);

#define EXCP_SWI 2u
#define CPSR_M 0x1Fu
#define CPSR_T (1u << 5)
#define CPSR_I (1u << 7)
#define CPSR_E (1u << 9)
#define CPSR_IT 0x0600FC00u
#define CPSR_J (1u << 24)
#define MODE_USR 0x10u
#define MODE_SVC 0x13u
#define SCTLR_V (1u << 13)
#define SCTLR_EE (1u << 25)
#define SCTLR_TE (1u << 30)
#define VEC_SVC 0x08u
#define FAULT_DATA 1u  /* hvd_take_exception's fault: DFSR/DFAR (hvd.cpu.svchook.FAULT_DATA) */
#define FAULT_INSN 2u  /* IFSR/IFAR */
#define UC_PROT_EXEC 4
#define SEMI_ARM 0x123456u /* hvd.cpu.semihosting.SVC_ARM */
#define SEMI_THUMB 0xABu   /* hvd.cpu.semihosting.SVC_THUMB */

struct cp_reg { /* uc_arm_cp_reg */
    uint32_t cp, is64, sec, crn, crm, opc1, opc2;
    uint64_t val;
};

struct hvd_svc {
    uint64_t taken;       /* SVC exceptions taken here */
    uint64_t passed;      /* exceptions handed to Python */
    uint32_t semihosting; /* 1: SVCs from privileged modes go to Python */
    int32_t cpsr_regid, pc_regid, lr_regid, spsr_regid, cp_regid;
    reg_read_fn reg_read;
    reg_write_fn reg_write;
    batch_write_fn batch_write;
    python_fn python;
    vmem_read_fn vmem_read;
};

/* With semihosting on: whether the SVC just taken (PC is past it) is a semihosting call */
static int semihosting_call(void *uc, struct hvd_svc *x, uint32_t cpsr, uint32_t pc)
{
    uint32_t insn = 0;

    if ((cpsr & CPSR_M) == MODE_USR)
        return 0; /* hvd serves semihosting to privileged code only */
    if (cpsr & CPSR_T)
        return x->vmem_read(uc, pc - 2u, UC_PROT_EXEC, &insn, 2) != 0 ||
               (insn & 0xFFFFu) == (0xDF00u | SEMI_THUMB);
    return x->vmem_read(uc, pc - 4u, UC_PROT_EXEC, &insn, 4) != 0 ||
           (insn & 0x0FFFFFFFu) == (0x0F000000u | SEMI_ARM);
}

/* Exception entry (ARM ARM B1.9, as hvd.cpu.exceptions.enter_exception): to `mode` with
   vector offset `offset`, the CPSR mask bits `mask` set besides I (A, F), LR = `lr`; with
   `fault`, the fault status and address registers first. CPSR is written first: Unicorn swaps
   the banked SP/LR/SPSR with the mode. Returns the vector. */
uint32_t hvd_take_exception(void *uc, struct hvd_svc *x, uint32_t mode, uint32_t offset,
                            uint32_t mask, uint32_t lr, uint32_t fault, uint32_t fsr, uint32_t far)
{
    struct cp_reg sctlr = {15, 0, 0, 1, 0, 0, 0, 0}, vbar = {15, 0, 0, 12, 0, 0, 0, 0};
    struct cp_reg fsr_reg = {15, 0, 0, 5, 0, 0, 0, 0}, far_reg = {15, 0, 0, 6, 0, 0, 0, 0};
    uint32_t cpsr = 0, entry, vector;
    void *vals[1];

    x->reg_read(uc, x->cpsr_regid, &cpsr);
    x->reg_read(uc, x->cp_regid, &sctlr);
    x->reg_read(uc, x->cp_regid, &vbar);
    if (fault) {
        if (fault == FAULT_INSN) {
            fsr_reg.opc2 = 1; /* IFSR */
            far_reg.opc2 = 2; /* IFAR */
        }
        fsr_reg.val = fsr;
        far_reg.val = far;
        x->reg_write(uc, x->cp_regid, &fsr_reg);
        x->reg_write(uc, x->cp_regid, &far_reg);
    }
    entry = (cpsr & ~(CPSR_M | CPSR_T | CPSR_IT | CPSR_J | CPSR_E)) | mode | CPSR_I | mask;
    if (sctlr.val & SCTLR_TE)
        entry |= CPSR_T;
    if (sctlr.val & SCTLR_EE)
        entry |= CPSR_E;
    vector = ((sctlr.val & SCTLR_V) ? 0xFFFF0000u : ((uint32_t)vbar.val & 0xFFFFFFE0u)) + offset;
    x->reg_write(uc, x->cpsr_regid, &entry);
    x->reg_write(uc, x->spsr_regid, &cpsr);
    x->reg_write(uc, x->lr_regid, &lr);
    vector |= (sctlr.val & SCTLR_TE) ? 1u : 0u;
    vals[0] = &vector;
    x->batch_write(uc, &x->pc_regid, vals, 1);
    return vector & ~1u;
}

void hvd_svc_hook(void *uc, uint32_t intno, struct hvd_svc *x)
{
    uint32_t cpsr = 0, pc = 0;

    if (intno != EXCP_SWI || x->reg_read(uc, x->cpsr_regid, &cpsr) != 0 ||
        x->reg_read(uc, x->pc_regid, &pc) != 0 ||
        (x->semihosting && semihosting_call(uc, x, cpsr, pc))) {
        x->passed++;
        x->python(uc, intno, 0);
        return;
    }
    hvd_take_exception(uc, x, MODE_SVC, VEC_SVC, 0, pc, 0, 0, 0);
    x->taken++;
}

/*
 * guest.h - shared definitions for hvd's bare-metal test guests.
 *
 * Included (through the C preprocessor) by every guests/*.S file and by the
 * library in guests/lib/.  The build defines:
 *   RAM_BASE        physical base of RAM (0x80000000 BeagleBoard, 0x60000000 vexpress-a9)
 *   PLATFORM_BEAGLE or PLATFORM_VEXPRESS, and PLATFORM (1 = beagle, 2 = vexpress)
 *
 * RAM layout used by the guests (offsets from RAM_BASE):
 *   0x000000  code, data, bss, stacks (the linker script asserts < 0x0f0000)
 *   0x100000  L1 translation table A (16 KiB)
 *   0x104000  L1 translation table B (16 KiB)
 *   0x108000  L2 tables, 1 KiB each (L2TAB(0) .. L2TAB(15))
 *   0x10c000  scratch page for vectors copied to high memory etc.
 *   0x110000  more L1 tables L1_N(0) .. L1_N(7), 16 KiB each
 *   0x200000  test pages TPAGE(0) .. TPAGE(255), 4 KiB each
 *   0x400000  test sections TSECT(0) .. TSECT(3), 1 MiB each
 * so the guests need 8 MiB of RAM.
 */
#ifndef HVD_GUEST_H
#define HVD_GUEST_H

#ifndef RAM_BASE
#error "RAM_BASE must be defined by the build"
#endif

#define PLAT_BEAGLE   1
#define PLAT_VEXPRESS 2

#define L1_A        (RAM_BASE + 0x100000)
#define L1_B        (RAM_BASE + 0x104000)
#define L2TAB(n)    (RAM_BASE + 0x108000 + (n) * 0x400)
#define SCRATCH     (RAM_BASE + 0x10c000)
#define L1_N(n)     (RAM_BASE + 0x110000 + (n) * 0x4000)
#define TPAGE(n)    (RAM_BASE + 0x200000 + (n) * 0x1000)
#define TSECT(n)    (RAM_BASE + 0x400000 + (n) * 0x100000)

/* CPSR modes and bits */
#define M_USR 0x10
#define M_FIQ 0x11
#define M_IRQ 0x12
#define M_SVC 0x13
#define M_ABT 0x17
#define M_UND 0x1b
#define M_SYS 0x1f
#define PSR_T (1 << 5)
#define PSR_F (1 << 6)
#define PSR_I (1 << 7)
#define PSR_A (1 << 8)

/* SCTLR bits */
#define SCTLR_M   (1 << 0)
#define SCTLR_A   (1 << 1)
#define SCTLR_C   (1 << 2)
#define SCTLR_I   (1 << 12)
#define SCTLR_V   (1 << 13)
#define SCTLR_AFE (1 << 29)
#define SCTLR_TRE (1 << 28)
#define SCTLR_TE  (1 << 30)

/* Exception numbers recorded by the library's recording handlers */
#define EXC_UND  1
#define EXC_SVC  2
#define EXC_PABT 3
#define EXC_DABT 4
#define EXC_IRQ  6
#define EXC_FIQ  7

/* Layout of exc_rec (see start.S) */
#define REC_COUNT  0
#define REC_VEC    4
#define REC_LR     8
#define REC_SPSR   12
#define REC_CPSR   16
#define REC_DFSR   20
#define REC_DFAR   24
#define REC_IFSR   28
#define REC_IFAR   32
#define REC_R0     36
#define REC_RESUME 40
#define REC_RCPSR  44

/* Fault status: FS[4] (bit 10) and FS[3:0]; WnR is bit 11 of the DFSR */
#define FSR_STATUS 0x40f
#define FSR_WNR    0x800
#define FSR_DOMAIN 0xf0
#define FS_ALIGN        0x1
#define FS_DEBUG        0x2
#define FS_TRANS_SECT   0x5
#define FS_TRANS_PAGE   0x7
#define FS_EXT          0x8
#define FS_DOMAIN_SECT  0x9
#define FS_DOMAIN_PAGE  0xb
#define FS_PERM_SECT    0xd
#define FS_PERM_PAGE    0xf

/* Short-descriptor format (ARMv7-A ARM B3.5) */
#define L1_FAULT      0
#define L1_TABLE      1            /* bits 31:10 L2 base, 8:5 domain */
#define L1_SECT       2
#define L1_SECT_B     (1 << 2)
#define L1_SECT_C     (1 << 3)
#define L1_SECT_XN    (1 << 4)
#define L1_DOM(d)     ((d) << 5)
#define L1_SECT_AP(ap) ((((ap) & 3) << 10) | ((((ap) >> 2) & 1) << 15))
#define L1_SECT_NG    (1 << 17)
#define L1_SUPER      ((1 << 18) | 2)
#define L2_LARGE      1
#define L2_SMALL      2
#define L2_SMALL_XN   1            /* bit 0 of a small-page descriptor */
#define L2_LARGE_XN   (1 << 15)
#define L2_AP(ap)     ((((ap) & 3) << 4) | ((((ap) >> 2) & 1) << 9))
#define L2_NG         (1 << 11)
/* AP[2:0] values (APX:AP[1:0]) */
#define AP_NONE   0   /* no access */
#define AP_PRIV   1   /* PL1 read/write, PL0 none */
#define AP_URO    2   /* PL1 read/write, PL0 read-only */
#define AP_FULL   3   /* read/write for both */
#define AP_PRIVRO 5   /* PL1 read-only, PL0 none */
#define AP_RO     7   /* read-only for both (ARMv7) */

#define SEMI_SWI 0x123456

/* probe() operations and results (mmu.S) */
#define P_READ   0
#define P_WRITE  1
#define P_EXEC   2
#define P_LDRT   3
#define P_STRT   4
#define P_USER   0x100
#define DABT_F(fs) ((EXC_DABT << 16) | (fs))
#define PABT_F(fs) ((EXC_PABT << 16) | (fs))

#ifdef __ASSEMBLER__
	.syntax unified

/* Load a 32-bit constant or address without a literal pool (ARM and Thumb-2). */
.macro MOV32 reg:req, val:req
	movw	\reg, #:lower16:\val
	movt	\reg, #:upper16:\val
.endm

/* Emit a NUL-terminated string into .rodata and put its address in reg. */
.macro STR_ADDR reg:req, text:req
	.pushsection .rodata.guest_str, "a"
.Lstr_\@: .asciz "\text"
	.popsection
	MOV32	\reg, .Lstr_\@
.endm

/* Print a string (no newline added).  Preserves every register and the flags. */
.macro PRINT text:req
	push	{r0-r3, ip, lr}
	mrs	ip, apsr
	push	{ip}
	STR_ADDR r0, "\text"
	bl	puts
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/* Print "# text\n": a comment line. */
.macro NOTE text:req
	PRINT	"# \text\n"
.endm

/* NOTEVAL text, reg: print "# text=0xVALUE" (a diagnostic, not a check).  Preserves all. */
.macro NOTEVAL text:req, reg:req
	push	{r0-r3, ip, lr}
	mov	r1, \reg
	mrs	ip, apsr
	push	{ip}
	STR_ADDR r0, "# \text="
	bl	puts
	mov	r0, r1
	bl	puthex
	mov	r0, #'\n'
	bl	putc
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/*
 * CHECK desc, reg, expect: print "ok N - desc=0xVALUE" when reg == expect, else
 * "not ok N - desc=0xVALUE expected 0xEXPECT" (and count a failure).
 * Preserves every register (reg may be any of r0-r12, lr) and the flags.
 */
.macro CHECK desc:req, reg:req, expect:req
	push	{r0-r3, ip, lr}
	mov	r1, \reg
	mrs	ip, apsr
	push	{ip}
	MOV32	r2, \expect
	STR_ADDR r0, "\desc"
	bl	check_eq
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/* CHECKM desc, reg, mask, expect: like CHECK on (reg & mask). */
.macro CHECKM desc:req, reg:req, mask:req, expect:req
	push	{r0-r3, ip, lr}
	mov	r1, \reg
	mrs	ip, apsr
	push	{ip}
	MOV32	r3, \mask
	and	r1, r1, r3
	MOV32	r2, \expect
	STR_ADDR r0, "\desc"
	bl	check_eq
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/* CHECKREL desc, reg, base, expect: like CHECK on (reg - base); base is a label or constant. */
.macro CHECKREL desc:req, reg:req, base:req, expect:req
	push	{r0-r3, ip, lr}
	mov	r1, \reg
	mrs	ip, apsr
	push	{ip}
	MOV32	r3, \base
	sub	r1, r1, r3
	MOV32	r2, \expect
	STR_ADDR r0, "\desc"
	bl	check_eq
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/* CHECKREC desc, field, mask, expect: check a field of the last exception record. */
.macro CHECKREC desc:req, field:req, mask:req, expect:req
	push	{r0-r3, ip, lr}
	mrs	ip, apsr
	push	{ip}
	MOV32	r3, exc_rec
	ldr	r1, [r3, #\field]
	MOV32	r3, \mask
	and	r1, r1, r3
	MOV32	r2, \expect
	STR_ADDR r0, "\desc"
	bl	check_eq
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/* CHECKRECREL desc, field, base, expect: check (record field - base). */
.macro CHECKRECREL desc:req, field:req, base:req, expect:req
	push	{r0-r3, ip, lr}
	mrs	ip, apsr
	push	{ip}
	MOV32	r3, exc_rec
	ldr	r1, [r3, #\field]
	MOV32	r3, \base
	sub	r1, r1, r3
	MOV32	r2, \expect
	STR_ADDR r0, "\desc"
	bl	check_eq
	pop	{ip}
	msr	APSR_nzcvq, ip
	pop	{r0-r3, ip, lr}
.endm

/*
 * EXPECT resume[, cpsr]: arm the recording handlers for one exception.  The
 * handler records the entry state in exc_rec and returns (movs pc, lr) to
 * `resume`, with SPSR replaced by `cpsr` when given (e.g. to come back from
 * user mode into SVC mode).  Clobbers nothing but the flags.
 */
.macro EXPECT resume:req, cpsr=0
	push	{r0, r1}
	MOV32	r0, exc_rec
	MOV32	r1, \resume
	str	r1, [r0, #REC_RESUME]
	MOV32	r1, \cpsr
	str	r1, [r0, #REC_RCPSR]
	mov	r1, #0
	str	r1, [r0, #REC_VEC]
	str	r1, [r0, #REC_LR]
	pop	{r0, r1}
.endm

/* Install handler address `h` (bit 0 set = Thumb) for vector number n (1..7). */
.macro SETVEC n:req, h:req
	push	{r0, r1}
	MOV32	r0, vec_ptrs
	MOV32	r1, \h
	str	r1, [r0, #(4 * \n)]
	pop	{r0, r1}
.endm

/* Restore the library's recording handler for vector n. */
.macro RESETVEC n:req
	push	{r0, lr}
	mov	r0, #\n
	bl	reset_vector
	pop	{r0, lr}
.endm

/*
 * PROBE desc, va, op, value: do one access through probe() and check it
 * succeeds ("desc fault=0") with `value` read (or written, or returned by
 * the code executed).  Preserves every register (not the flags).
 */
.macro PROBE desc:req, va:req, op:req, value:req
	push	{r0-r3, ip, lr}
	MOV32	r0, \va
	MOV32	r1, \value
	MOV32	r2, \op
	bl	probe
	CHECK	"\desc fault", r1, 0
	CHECK	"\desc value", r0, \value
	pop	{r0-r3, ip, lr}
.endm

/* PROBE_RAM desc, va, op, value: like PROBE, but `value` contains a physical
 * address (a descriptor, say): the line shows value - RAM_BASE, so it reads
 * the same on every platform. */
.macro PROBE_RAM desc:req, va:req, op:req, value:req
	push	{r0-r3, ip, lr}
	MOV32	r0, \va
	MOV32	r1, \value
	MOV32	r2, \op
	bl	probe
	CHECK	"\desc fault", r1, 0
	CHECKREL "\desc value-ram", r0, RAM_BASE, ((\value) - RAM_BASE)
	pop	{r0-r3, ip, lr}
.endm

/* PROBE_FAULT desc, va, op, fault: the access must fault with `fault`
 * (DABT_F(status) or PABT_F(status)) and fault address va. */
.macro PROBE_FAULT desc:req, va:req, op:req, fault:req
	push	{r0-r3, ip, lr}
	MOV32	r0, \va
	MOV32	r1, 0x0badc0de
	MOV32	r2, \op
	bl	probe
	CHECK	"\desc fault", r1, \fault
	CHECK	"\desc far", r2, \va
	pop	{r0-r3, ip, lr}
.endm

/* INSTALL dst, from, to: copy the code between labels `from` and `to` to dst
 * and make it visible to instruction fetch (copy_code). */
.macro INSTALL dst:req, from:req, to:req
	CALL3	copy_code, \dst, \from, (\to - \from)
.endm

/* Call fn(r0 = a0, r1 = a1, r2 = a2) preserving r0-r3, ip, lr. */
.macro CALL3 fn:req, a0=0, a1=0, a2=0
	push	{r0-r3, ip, lr}
	MOV32	r0, \a0
	MOV32	r1, \a1
	MOV32	r2, \a2
	bl	\fn
	pop	{r0-r3, ip, lr}
.endm

/* Barriers as the architecture requires after CP15 / table changes. */
.macro SYNC
	dsb
	isb
.endm

#endif /* __ASSEMBLER__ */
#endif /* HVD_GUEST_H */

/*
 * mmu.S - helpers for the MMU conformance guests: build short-descriptor
 * translation tables in RAM, turn the MMU on and off, TLB maintenance.
 *
 * The base map (mmu_base_map) identity-maps RAM_BASE .. RAM_BASE + 8 MiB
 * with global 1 MiB sections, domain 0, AP = full access (user code and
 * stacks live there too), Normal memory.  Test mappings go elsewhere
 * (VAs 0x2000_0000 .. 0x3fff_ffff and 0xc000_0000 ..), so the same VAs work
 * whatever RAM_BASE is.
 *
 * Each routine follows the barriers the ARMv7-A ARM requires: a table write
 * is followed by DSB before the TLB operation or the access that depends on
 * it, and by ISB before the instruction stream relies on it.
 */
#include "guest.h"

#define SECT_NORMAL (L1_SECT | L1_SECT_C | L1_SECT_B)

	.text
	.arm

/* memzero(r0 = address, r1 = bytes, multiple of 4).  Clobbers r0-r2. */
	.global memzero
	.type memzero, %function
memzero:
	mov	r2, #0
1:	subs	r1, r1, #4
	strhs	r2, [r0], #4
	bhi	1b
	bx	lr
	.size memzero, . - memzero

/* set_l1(r0 = L1 table, r1 = VA, r2 = descriptor): write one entry + DSB. */
	.global set_l1
	.type set_l1, %function
set_l1:
	push	{r3}
	lsr	r3, r1, #20
	str	r2, [r0, r3, lsl #2]
	dsb
	pop	{r3}
	bx	lr
	.size set_l1, . - set_l1

/* set_l2(r0 = L2 table, r1 = VA, r2 = descriptor): write one entry + DSB. */
	.global set_l2
	.type set_l2, %function
set_l2:
	push	{r3}
	ubfx	r3, r1, #12, #8
	str	r2, [r0, r3, lsl #2]
	dsb
	pop	{r3}
	bx	lr
	.size set_l2, . - set_l2

/* set_l2_large(r0 = L2 table, r1 = VA (64K aligned), r2 = descriptor): 16 entries + DSB. */
	.global set_l2_large
	.type set_l2_large, %function
set_l2_large:
	push	{r3, r4}
	ubfx	r3, r1, #12, #8
	bic	r3, r3, #15
	add	r3, r0, r3, lsl #2
	mov	r4, #16
1:	str	r2, [r3], #4
	subs	r4, r4, #1
	bne	1b
	dsb
	pop	{r3, r4}
	bx	lr
	.size set_l2_large, . - set_l2_large

/* set_l1_super(r0 = L1 table, r1 = VA (16M aligned), r2 = descriptor): 16 entries + DSB. */
	.global set_l1_super
	.type set_l1_super, %function
set_l1_super:
	push	{r3, r4}
	lsr	r3, r1, #20
	bic	r3, r3, #15
	add	r3, r0, r3, lsl #2
	mov	r4, #16
1:	str	r2, [r3], #4
	subs	r4, r4, #1
	bne	1b
	dsb
	pop	{r3, r4}
	bx	lr
	.size set_l1_super, . - set_l1_super

/* mmu_base_map(r0 = L1 table): clear it and add the identity map of the first 8 MiB of RAM. */
	.global mmu_base_map
	.type mmu_base_map, %function
mmu_base_map:
	push	{r4-r6, lr}
	mov	r4, r0
	mov	r1, #0x4000
	bl	memzero
	MOV32	r5, RAM_BASE
	mov	r6, #8
1:	mov	r0, r4
	mov	r1, r5
	MOV32	r2, (SECT_NORMAL | L1_SECT_AP(AP_FULL) | L1_DOM(0))
	orr	r2, r2, r5
	bl	set_l1
	add	r5, r5, #0x100000
	subs	r6, r6, #1
	bne	1b
	pop	{r4-r6, pc}
	.size mmu_base_map, . - mmu_base_map

/*
 * mmu_on(r0 = TTBR0 value): TTBCR = 0, TTBR0 = r0, CONTEXTIDR = 0,
 * DACR = domain 0..15 client, TLBIALL, SCTLR.M = 1.  Clobbers r0, r1.
 */
	.global mmu_on
	.type mmu_on, %function
mmu_on:
	mov	r1, #0
	mcr	p15, 0, r1, c2, c0, 2	/* TTBCR */
	mcr	p15, 0, r0, c2, c0, 0	/* TTBR0 */
	mcr	p15, 0, r1, c13, c0, 1	/* CONTEXTIDR */
	MOV32	r0, 0x55555555
	mcr	p15, 0, r0, c3, c0, 0	/* DACR */
	isb
	mcr	p15, 0, r1, c8, c7, 0	/* TLBIALL */
	mcr	p15, 0, r1, c7, c5, 0	/* ICIALLU */
	mcr	p15, 0, r1, c7, c5, 6	/* BPIALL */
	dsb
	isb
	mrc	p15, 0, r0, c1, c0, 0
	orr	r0, r0, #SCTLR_M
	mcr	p15, 0, r0, c1, c0, 0
	isb
	bx	lr
	.size mmu_on, . - mmu_on

/* mmu_off(): SCTLR.M = 0.  Clobbers r0. */
	.global mmu_off
	.type mmu_off, %function
mmu_off:
	mrc	p15, 0, r0, c1, c0, 0
	bic	r0, r0, #SCTLR_M
	mcr	p15, 0, r0, c1, c0, 0
	isb
	bx	lr
	.size mmu_off, . - mmu_off

/* tlbimva(r0 = VA | ASID): TLBIMVA, DSB, ISB. */
	.global tlbimva
	.type tlbimva, %function
tlbimva:
	mcr	p15, 0, r0, c8, c7, 1
	mcr	p15, 0, r0, c7, c5, 6	/* BPIALL */
	dsb
	isb
	bx	lr
	.size tlbimva, . - tlbimva

/* tlbiall(): TLBIALL, DSB, ISB.  Clobbers r0. */
	.global tlbiall
	.type tlbiall, %function
tlbiall:
	mov	r0, #0
	mcr	p15, 0, r0, c8, c7, 0
	mcr	p15, 0, r0, c7, c5, 6
	dsb
	isb
	bx	lr
	.size tlbiall, . - tlbiall

/* tlbiasid(r0 = ASID): TLBIASID, DSB, ISB. */
	.global tlbiasid
	.type tlbiasid, %function
tlbiasid:
	mcr	p15, 0, r0, c8, c7, 2
	mcr	p15, 0, r0, c7, c5, 6
	dsb
	isb
	bx	lr
	.size tlbiasid, . - tlbiasid

/*
 * switch_mm(r0 = TTBR0, r1 = ASID): the ARMv7 ASID/TTBR0 change sequence
 * through the reserved ASID 0 (which never tags a non-global entry):
 * CONTEXTIDR = 0, ISB, TTBR0 = r0, ISB, CONTEXTIDR = r1, ISB.
 */
	.global switch_mm
	.type switch_mm, %function
switch_mm:
	push	{r2}
	mov	r2, #0
	mcr	p15, 0, r2, c13, c0, 1
	isb
	mcr	p15, 0, r0, c2, c0, 0
	isb
	mcr	p15, 0, r1, c13, c0, 1
	isb
	pop	{r2}
	bx	lr
	.size switch_mm, . - switch_mm

/* set_dacr(r0 = DACR): write and ISB. */
	.global set_dacr
	.type set_dacr, %function
set_dacr:
	mcr	p15, 0, r0, c3, c0, 0
	isb
	bx	lr
	.size set_dacr, . - set_dacr

/* fill_magic(): write the word 0xA5000000 + n at offsets 0 and 0xffc of TPAGE(n), n = 0..63,
 * and 0xB5000000 + n at offsets 0 and 0xffffc of TSECT(n), n = 0..3.  Clobbers r0-r3. */
	.global fill_magic
	.type fill_magic, %function
fill_magic:
	MOV32	r0, TPAGE(0)
	MOV32	r1, 0xa5000000
	mov	r2, #64
1:	str	r1, [r0]
	add	r3, r0, #0xf00
	str	r1, [r3, #0xfc]
	add	r0, r0, #0x1000
	add	r1, r1, #1
	subs	r2, r2, #1
	bne	1b
	MOV32	r0, TSECT(0)
	MOV32	r1, 0xb5000000
	mov	r2, #4
2:	str	r1, [r0]
	add	r3, r0, #0xff000
	str	r1, [r3, #0xffc]
	add	r0, r0, #0x100000
	add	r1, r1, #1
	subs	r2, r2, #1
	bne	2b
	dsb
	bx	lr
	.size fill_magic, . - fill_magic

/*
 * probe(r0 = VA, r1 = value, r2 = operation) -> r0 = value, r1 = fault, r2 = fault address
 *
 * Performs one access and reports whether it faulted.  Operations (guest.h):
 * P_READ (LDR), P_WRITE (STR r1), P_EXEC (BLX to VA; the code there returns
 * a value in r0), P_LDRT / P_STRT (unprivileged load/store from PL1), each
 * optionally | P_USER to run it in User mode.  fault is 0, or
 * (EXC_DABT << 16 | DFSR & 0xc0f) or (EXC_PABT << 16 | IFSR & 0x40f);
 * the fault address is DFAR or IFAR.  r0 is the loaded value (or the
 * written one).  Preserves r3-r12 (not the flags).
 */
	.global probe
	.type probe, %function
probe:
	push	{r4-r8, lr}
	mov	r4, r0
	mov	r5, r1
	mov	r6, r2
	MOV32	r7, exc_rec
	mov	r0, #0
	str	r0, [r7, #REC_VEC]
	MOV32	r0, probe_resume
	str	r0, [r7, #REC_RESUME]
	mov	r0, #0
	tst	r6, #P_USER
	movne	r0, #(M_SVC | PSR_A | PSR_I | PSR_F)
	str	r0, [r7, #REC_RCPSR]
	bne	probe_user
	bl	probe_op
	mov	r0, #0
	str	r0, [r7, #REC_RESUME]	/* nothing happened: disarm */
probe_resume:
	ldr	r0, [r7, #REC_VEC]
	mov	r1, #0
	mov	r2, #0
	cmp	r0, #EXC_DABT
	bne	1f
	ldr	r1, [r7, #REC_DFSR]
	MOV32	r2, 0xc0f
	and	r1, r1, r2
	orr	r1, r1, #(EXC_DABT << 16)
	ldr	r2, [r7, #REC_DFAR]
	b	2f
1:	cmp	r0, #EXC_PABT
	bne	2f
	ldr	r1, [r7, #REC_IFSR]
	MOV32	r2, 0x40f
	and	r1, r1, r2
	orr	r1, r1, #(EXC_PABT << 16)
	ldr	r2, [r7, #REC_IFAR]
2:	mov	r0, r5
	pop	{r4-r8, pc}

probe_user:
	MOV32	lr, probe_user_stub
	mov	r0, #M_USR
	msr	spsr_fsxc, r0
	movs	pc, lr
	.size probe, . - probe

/* The access itself (r4 = VA, r5 = value, r6 = operation); result in r5.
 * A leaf that keeps its return address in r8, so that an abort in the middle leaves
 * the stack as probe() left it. */
probe_op:
	mov	r8, lr
	and	r0, r6, #0xff
	cmp	r0, #P_READ
	ldreq	r5, [r4]
	cmp	r0, #P_WRITE
	streq	r5, [r4]
	cmp	r0, #P_LDRT
	ldrteq	r5, [r4]
	cmp	r0, #P_STRT
	strteq	r5, [r4]
	cmp	r0, #P_EXEC
	bne	1f
	blx	r4
	mov	r5, r0
1:	bx	r8

/* Runs in User mode: do the access, then SVC back to probe_resume. */
probe_user_stub:
	bl	probe_op
	svc	#0

/* copy_code(r0 = dst, r1 = src, r2 = bytes): copy code (word multiple), then
 * make it visible to instruction fetch: DSB, ICIALLU, BPIALL, DSB, ISB. */
	.global copy_code
	.type copy_code, %function
copy_code:
1:	ldr	r3, [r1], #4
	str	r3, [r0], #4
	subs	r2, r2, #4
	bgt	1b
	b	code_sync
	.size copy_code, . - copy_code

/* code_sync(): make code written before it visible to instruction fetch: DSB,
 * ICIALLU, BPIALL, DSB, ISB.  Clobbers r0. */
	.global code_sync
	.type code_sync, %function
code_sync:
	dsb
	mov	r0, #0
	mcr	p15, 0, r0, c7, c5, 0
	mcr	p15, 0, r0, c7, c5, 6
	dsb
	isb
	bx	lr
	.size code_sync, . - code_sync

/* exec_stub(r0 = PA, r1 = 16-bit value): write "movw r0, #value; bx lr" at PA
 * and make it visible to instruction fetch (code_sync).  Clobbers r0. */
	.global exec_stub
	.type exec_stub, %function
exec_stub:
	push	{r2, r3}
	MOV32	r2, 0xe3000000		/* movw r0, #imm16 */
	and	r3, r1, #0xf000
	orr	r2, r2, r3, lsl #4
	ubfx	r3, r1, #0, #12
	orr	r2, r2, r3
	str	r2, [r0]
	MOV32	r2, 0xe12fff1e		/* bx lr */
	str	r2, [r0, #4]
	pop	{r2, r3}
	b	code_sync
	.size exec_stub, . - exec_stub

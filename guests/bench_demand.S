/*
 * bench_demand.S - hvd bench mmu, workload (c): demand faults.
 *
 * PAGES fresh pages at VR whose PTEs are invalid (L2 tables zeroed, L1
 * entries valid).  The guest touches each page once; the translation fault
 * enters demand_abort, which writes the PTE (frame TPAGE(i & 63)), DSB, and
 * returns to the faulting load (subs pc, lr, #8) - no TLB maintenance, as
 * Linux's demand paging does for an invalid-to-valid change.  PAGES faults
 * between "@B" and "@E"; the handler's count is printed as faults=.
 */
#include "guest.h"

#ifndef PAGES
#define PAGES 2048
#endif
#define VR 0x20000000
#define L2BASE (RAM_BASE + 0x400000)	/* PAGES / 256 tables of 1 KiB, contiguous */
#define COUNTER SCRATCH			/* a data page of its own */
#define PTE(pa) ((pa) | L2_SMALL | L2_AP(AP_FULL) | 0xc)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2BASE, ((PAGES + 255) / 256) * 0x400
	MOV32	r0, COUNTER
	mov	r1, #0
	str	r1, [r0]
	mov	r4, #0			/* MiB index */
1:	MOV32	r0, L1_A
	MOV32	r1, VR
	add	r1, r1, r4, lsl #20
	MOV32	r2, (L2BASE | L1_TABLE)
	add	r2, r2, r4, lsl #10
	bl	set_l1
	add	r4, r4, #1
	cmp	r4, #((PAGES + 255) / 256)
	blo	1b
	SETVEC	EXC_DABT, demand_abort
	CALL3	mmu_on, L1_A
	PRINT	"@B\n"
	MOV32	r5, VR
	MOV32	r6, PAGES
	mov	r7, #0			/* checksum */
2:	ldr	r0, [r5]
	add	r7, r7, r0
	add	r5, r5, #0x1000
	subs	r6, r6, #1
	bne	2b
	PRINT	"@E\n"
	PRINT	"checksum="
	mov	r0, r7
	bl	puthex
	PRINT	"\nfaults="
	MOV32	r0, COUNTER
	ldr	r0, [r0]
	bl	putdec
	PRINT	"\n"
	RESETVEC EXC_DABT
	mov	r0, #0
	pop	{r4-r11, pc}
	.size main, . - main

/* Data abort: a translation fault (page) at VR.. gets its PTE; anything else is unexpected. */
	.type demand_abort, %function
demand_abort:
	push	{r0-r3}
	mrc	p15, 0, r1, c5, c0, 0	/* DFSR */
	MOV32	r2, FSR_STATUS
	and	r1, r1, r2
	cmp	r1, #FS_TRANS_PAGE
	bne	9f
	mrc	p15, 0, r0, c6, c0, 0	/* DFAR */
	MOV32	r2, VR
	sub	r0, r0, r2
	lsr	r0, r0, #12		/* page index i */
	and	r1, r0, #63
	MOV32	r3, PTE(TPAGE(0))
	add	r3, r3, r1, lsl #12
	MOV32	r2, L2BASE
	str	r3, [r2, r0, lsl #2]
	dsb
	MOV32	r2, COUNTER
	ldr	r1, [r2]
	add	r1, r1, #1
	str	r1, [r2]
	pop	{r0-r3}
	subs	pc, lr, #8
9:	pop	{r0-r3}
	b	rec_dabt
	.size demand_abort, . - demand_abort

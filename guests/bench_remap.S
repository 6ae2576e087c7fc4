/*
 * bench_remap.S - hvd bench mmu, workload (a): TLB maintenance.
 *
 * NPAGES (16) small pages at VR map TPAGE(i).  Each round remaps every page
 * to the other of its two frames (TPAGE(i) / TPAGE(i + 16)): write the PTE,
 * DSB, TLBIMVA, DSB, ISB, then read it through VR (and write a word back).
 * ROUNDS * NPAGES remaps in all, between the "@B" and "@E" markers.  The
 * checksum of the words read is the same under every MMU mode.
 */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 1000
#endif
#define NPAGES 16
#define VR 0x20000000
#define PTE(pa) ((pa) | L2_SMALL | L2_AP(AP_FULL) | 0xc)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, VR, (L2TAB(0) | L1_TABLE)
	mov	r4, #0
1:	MOV32	r1, VR
	add	r1, r1, r4, lsl #12
	MOV32	r2, PTE(TPAGE(0))
	add	r2, r2, r4, lsl #12
	MOV32	r0, L2TAB(0)
	bl	set_l2
	add	r4, r4, #1
	cmp	r4, #NPAGES
	blo	1b
	CALL3	mmu_on, L1_A
	PRINT	"@B\n"
	MOV32	r5, ROUNDS
	mov	r6, #0			/* checksum */
	MOV32	r7, L2TAB(0)
	MOV32	r8, VR
	MOV32	r9, PTE(TPAGE(0))
	mov	r11, #0			/* round number */
2:	mov	r4, #0			/* page */
3:	and	r0, r11, #1
	add	r0, r4, r0, lsl #4	/* frame: i or i + 16 */
	add	r2, r9, r0, lsl #12
	str	r2, [r7, r4, lsl #2]	/* the PTE (L2 index = page, VR is 1 MiB aligned) */
	dsb
	add	r10, r8, r4, lsl #12
	mcr	p15, 0, r10, c8, c7, 1	/* TLBIMVA */
	dsb
	isb
	ldr	r0, [r10]
	add	r6, r6, r0
	str	r0, [r10, #8]
	add	r4, r4, #1
	cmp	r4, #NPAGES
	blo	3b
	add	r11, r11, #1
	subs	r5, r5, #1
	bne	2b
	PRINT	"@E\n"
	PRINT	"checksum="
	mov	r0, r6
	bl	puthex
	PRINT	"\n"
	mov	r0, #0
	pop	{r4-r11, pc}
	.size main, . - main

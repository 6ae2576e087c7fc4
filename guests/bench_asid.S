/*
 * bench_asid.S - hvd bench mmu, workload (b): address-space switches.
 *
 * ASIDS (2..8) address spaces, each with its own L1 table (the base map plus
 * an L2 table at VA VR) and PAGES non-global pages of its own.  Each round
 * switches to every address space in turn (the ARMv7 reserved-ASID sequence
 * of switch_mm: no TLB maintenance at all) and reads WORDS words from each
 * of its pages.  ROUNDS * ASIDS switches between "@B" and "@E".  The guest
 * exits with the MMU still on (hvd bench then times fills in-process).
 */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 2000
#endif
#ifndef ASIDS
#define ASIDS 4
#endif
#define PAGES 4
#define WORDS 16
#define VR 0x20000000
#define L1K(k) (RAM_BASE + 0x600000 + (k) * 0x4000)
#define L2K_BASE (RAM_BASE + 0x620000)
#define NGPTE(pa) ((pa) | L2_SMALL | L2_AP(AP_PRIV) | L2_NG | 0xc)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	bl	fill_magic
	CALL3	memzero, L2K_BASE, 0x2000
	mov	r4, #0			/* k */
1:	MOV32	r5, L1K(0)
	add	r5, r5, r4, lsl #14
	mov	r0, r5
	bl	mmu_base_map
	MOV32	r6, L2K_BASE
	add	r6, r6, r4, lsl #10
	mov	r0, r5
	MOV32	r1, VR
	orr	r2, r6, #L1_TABLE
	bl	set_l1
	mov	r7, #0			/* p */
2:	mov	r0, r6
	MOV32	r1, VR
	add	r1, r1, r7, lsl #12
	add	r3, r7, r4, lsl #2	/* frame k * PAGES + p */
	MOV32	r2, NGPTE(TPAGE(0))
	add	r2, r2, r3, lsl #12
	bl	set_l2
	add	r7, r7, #1
	cmp	r7, #PAGES
	blo	2b
	add	r4, r4, #1
	cmp	r4, #ASIDS
	blo	1b
	CALL3	mmu_on, L1K(0)
	PRINT	"@B\n"
	MOV32	r9, ROUNDS
	mov	r10, #0			/* checksum */
3:	mov	r4, #0			/* k */
4:	MOV32	r0, L1K(0)
	add	r0, r0, r4, lsl #14
	add	r1, r4, #1		/* ASID k + 1 */
	bl	switch_mm
	MOV32	r5, VR
	mov	r7, #PAGES
5:	mov	r8, #WORDS
	mov	r6, r5
6:	ldr	r0, [r6], #4
	add	r10, r10, r0
	subs	r8, r8, #1
	bne	6b
	add	r5, r5, #0x1000
	subs	r7, r7, #1
	bne	5b
	add	r4, r4, #1
	cmp	r4, #ASIDS
	blo	4b
	subs	r9, r9, #1
	bne	3b
	PRINT	"@E\n"
	PRINT	"checksum="
	mov	r0, r10
	bl	puthex
	PRINT	"\n"
	mov	r0, #0
	pop	{r4-r11, pc}
	.size main, . - main

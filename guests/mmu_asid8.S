/*
 * mmu_asid8.S - MMU conformance: eight address spaces round robin (portable).
 *
 * Eight translation tables L1_N(0..7), used with ASIDs 1..8, map the same
 * VA with a non-global page to eight different pages (and a global page
 * the same in all).  Three rounds of switching through all of them with
 * no TLB maintenance: each must always see its own page.  Then tables of
 * address spaces that are not running change, followed by TLBIASID for
 * their ASIDs, and an ASID is reused for another table after TLBIASID, the
 * way Linux recycles ASIDs.
 */
#include "guest.h"

#define VXP	0x30000000	/* nG page, one L2 table per address space */
#define VG	0x30001000	/* global page, the same everywhere */
#define NGPAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | L2_NG | 0xc)
#define GPAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | 0xc)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_asid8: eight address spaces, no TLB maintenance between them"
	bl	fill_magic
	mov	r4, #0
1:	MOV32	r0, L1_N(0)
	add	r5, r0, r4, lsl #14		/* L1_N(r4) */
	mov	r0, r5
	bl	mmu_base_map
	MOV32	r6, L2TAB(0)
	add	r6, r6, r4, lsl #10		/* L2TAB(r4) */
	mov	r0, r6
	mov	r1, #0x400
	bl	memzero
	mov	r0, r5
	MOV32	r1, VXP
	orr	r2, r6, #L1_TABLE
	bl	set_l1
	mov	r0, r6
	MOV32	r1, VXP
	MOV32	r2, NGPAGE(TPAGE(1))
	add	r2, r2, r4, lsl #12		/* TPAGE(r4 + 1) */
	bl	set_l2
	mov	r0, r6
	MOV32	r1, VG
	MOV32	r2, GPAGE(TPAGE(20))
	bl	set_l2
	add	r4, r4, #1
	cmp	r4, #8
	bne	1b
	CALL3	mmu_on, L1_N(0)

	NOTE	"round 1, each address space's page"
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7
	CALL3	switch_mm, L1_N(\n), (\n + 1)
	PROBE	"table \n nG page", VXP, P_READ, (0xa5000001 + \n)
	.endr
	PROBE	"global page", VG, P_READ, 0xa5000014
	bl	round
	CHECK	"round 2 mismatches", r0, 0
	bl	round
	CHECK	"round 3 mismatches", r0, 0

	NOTE	"tables of inactive address spaces changed, then TLBIASID"
	CALL3	switch_mm, L1_N(0), 1
	CALL3	set_l2, L2TAB(3), VXP, NGPAGE(TPAGE(30))
	CALL3	set_l2, L2TAB(6), VXP, NGPAGE(TPAGE(31))
	CALL3	tlbiasid, 4
	CALL3	tlbiasid, 7
	MOV32	r0, expected
	MOV32	r1, 0xa500001e
	str	r1, [r0, #(4 * 3)]
	MOV32	r1, 0xa500001f
	str	r1, [r0, #(4 * 6)]
	bl	round
	CHECK	"round 4 mismatches", r0, 0
	CALL3	switch_mm, L1_N(3), 4
	PROBE	"asid 4 after tlbiasid", VXP, P_READ, 0xa500001e
	CALL3	switch_mm, L1_N(6), 7
	PROBE	"asid 7 after tlbiasid", VXP, P_READ, 0xa500001f

	NOTE	"ASID 1 reused for table 7 after TLBIASID 1"
	CALL3	switch_mm, L1_N(1), 2
	CALL3	tlbiasid, 1
	CALL3	switch_mm, L1_N(7), 1
	PROBE	"reused asid 1", VXP, P_READ, 0xa5000008
	CALL3	switch_mm, L1_N(0), 0
	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/* round() -> r0 = number of address spaces (ASID n + 1 on L1_N(n)) whose
 * nG page or global page did not read as expected. */
round:
	push	{r4-r6, lr}
	mov	r4, #0
	mov	r6, #0
1:	MOV32	r0, L1_N(0)
	add	r0, r0, r4, lsl #14
	add	r1, r4, #1
	bl	switch_mm
	MOV32	r0, VXP
	ldr	r0, [r0]
	MOV32	r1, expected
	ldr	r1, [r1, r4, lsl #2]
	cmp	r0, r1
	addne	r6, r6, #1
	MOV32	r0, VG
	ldr	r0, [r0]
	MOV32	r1, 0xa5000014
	cmp	r0, r1
	addne	r6, r6, #1
	add	r4, r4, #1
	cmp	r4, #8
	bne	1b
	mov	r0, r6
	pop	{r4-r6, pc}

	.data
	.balign 4
expected:
	.word	0xa5000001, 0xa5000002, 0xa5000003, 0xa5000004
	.word	0xa5000005, 0xa5000006, 0xa5000007, 0xa5000008

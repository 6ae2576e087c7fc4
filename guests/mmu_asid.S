/*
 * mmu_asid.S - MMU conformance: ASIDs, non-global entries, TLBIASID,
 * TLBIMVA with an ASID, TLBIALL (portable).
 *
 * Two address spaces (TTBR0 = L1_A with ASID 1, L1_B with ASID 2) map the
 * same VAs with non-global (nG) section and page entries to different
 * physical memory.  Switching address spaces (reserved-ASID sequence, no
 * TLB maintenance) shows each its own mappings, again and again.  A table
 * of the inactive ASID is changed and TLBIASID / TLBIMVA(VA|ASID) make the
 * change visible when that ASID runs again; TLBIMVA drops a global entry
 * whatever ASID it names; TLBIALL drops everything.  Then: more non-global
 * pages read than a monitor may keep a record of before an ASID switch (768,
 * each address space's own), and a TLBIASID of the running address space
 * from Thumb code.
 */
#include "guest.h"

#define VX	0x30000000	/* nG section */
#define VXP	0x32000000	/* nG small page */
#define VG	0x31000000	/* global section, the same in both tables */
#define VMANY	0x34000000	/* 768 nG small pages: L2TAB(2..4) in A, L2TAB(8..10) in B */
#define NMANY	768
#define NGSECT(pa)	((pa) | L1_SECT | L1_SECT_AP(AP_PRIV) | L1_SECT_NG | L1_SECT_C | L1_SECT_B)
#define GSECT(pa)	((pa) | L1_SECT | L1_SECT_AP(AP_PRIV) | L1_SECT_C | L1_SECT_B)
#define NGPAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | L2_NG | 0xc)

.macro SWITCH table, asid
	CALL3	switch_mm, \table, \asid
.endm

.macro READS tag, x, xp, g
	PROBE	"\tag nG section", (VX + 0x10), P_READ, \x
	PROBE	"\tag nG page", VXP, P_READ, \xp
	PROBE	"\tag global", VG, P_READ, \g
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_asid: address spaces without TLB maintenance"
	bl	fill_magic
	/* tag the words read at VX + 0x10 */
	MOV32	r0, (TSECT(0) + 0x10)
	MOV32	r1, 0xc0000000
	mov	r2, #4
1:	str	r1, [r0]
	add	r0, r0, #0x100000
	add	r1, r1, #1
	subs	r2, r2, #1
	bne	1b
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_base_map, L1_B
	CALL3	memzero, L2TAB(0), 0x800
	CALL3	set_l1, L1_A, VX, NGSECT(TSECT(0))
	CALL3	set_l1, L1_B, VX, NGSECT(TSECT(1))
	CALL3	set_l1, L1_A, VXP, (L2TAB(0) | L1_TABLE)
	CALL3	set_l1, L1_B, VXP, (L2TAB(1) | L1_TABLE)
	CALL3	set_l2, L2TAB(0), VXP, NGPAGE(TPAGE(1))
	CALL3	set_l2, L2TAB(1), VXP, NGPAGE(TPAGE(2))
	CALL3	set_l1, L1_A, VG, GSECT(TSECT(2))
	CALL3	set_l1, L1_B, VG, GSECT(TSECT(2))
	CALL3	mmu_on, L1_A
	SWITCH	L1_A, 1
	mrc	p15, 0, r0, c13, c0, 1
	CHECKM	"contextidr.asid", r0, 0xff, 1

	READS	"asid1", 0xc0000000, 0xa5000001, 0xb5000002
	SWITCH	L1_B, 2
	READS	"asid2", 0xc0000001, 0xa5000002, 0xb5000002
	SWITCH	L1_A, 1
	READS	"asid1 again", 0xc0000000, 0xa5000001, 0xb5000002
	SWITCH	L1_B, 2
	READS	"asid2 again", 0xc0000001, 0xa5000002, 0xb5000002
	SWITCH	L1_A, 3
	READS	"asid3 on table A", 0xc0000000, 0xa5000001, 0xb5000002
	SWITCH	L1_B, 2
	READS	"asid2 third time", 0xc0000001, 0xa5000002, 0xb5000002

	NOTE	"TLBIASID for an address space that is not running"
	SWITCH	L1_A, 1
	PROBE	"asid1 before", (VX + 0x10), P_READ, 0xc0000000
	CALL3	set_l1, L1_B, VX, NGSECT(TSECT(3))
	CALL3	tlbiasid, 2
	PROBE	"asid1 after tlbiasid 2", (VX + 0x10), P_READ, 0xc0000000
	SWITCH	L1_B, 2
	PROBE	"asid2 after tlbiasid 2", (VX + 0x10), P_READ, 0xc0000003

	NOTE	"TLBIMVA with another ASID"
	CALL3	set_l2, L2TAB(0), VXP, NGPAGE(TPAGE(3))
	CALL3	tlbimva, (VXP | 1)
	PROBE	"asid2 page unchanged", VXP, P_READ, 0xa5000002
	SWITCH	L1_A, 1
	PROBE	"asid1 page after tlbimva", VXP, P_READ, 0xa5000003

	NOTE	"TLBIMVA drops a global entry whatever the ASID"
	PROBE	"global before", VG, P_READ, 0xb5000002
	CALL3	set_l1, L1_A, VG, GSECT(TSECT(3))
	CALL3	set_l1, L1_B, VG, GSECT(TSECT(3))
	CALL3	tlbimva, (VG | 5)
	PROBE	"global after tlbimva asid5", VG, P_READ, 0xb5000003
	SWITCH	L1_B, 2
	PROBE	"global in asid2", VG, P_READ, 0xb5000003

	NOTE	"TLBIALL"
	SWITCH	L1_A, 1
	READS	"asid1 before tlbiall", 0xc0000000, 0xa5000003, 0xb5000003
	SWITCH	L1_B, 2
	READS	"asid2 before tlbiall", 0xc0000003, 0xa5000002, 0xb5000003
	CALL3	set_l1, L1_A, VX, NGSECT(TSECT(1))
	CALL3	set_l1, L1_B, VX, NGSECT(TSECT(0))
	CALL3	set_l2, L2TAB(0), VXP, NGPAGE(TPAGE(4))
	CALL3	set_l2, L2TAB(1), VXP, NGPAGE(TPAGE(5))
	CALL3	set_l1, L1_A, VG, GSECT(TSECT(0))
	CALL3	set_l1, L1_B, VG, GSECT(TSECT(0))
	bl	tlbiall
	READS	"asid2 after tlbiall", 0xc0000000, 0xa5000005, 0xb5000000
	SWITCH	L1_A, 1
	READS	"asid1 after tlbiall", 0xc0000001, 0xa5000004, 0xb5000000

	NOTE	"TLBIASID of the running address space, from Thumb code"
	CALL3	set_l2, L2TAB(0), VXP, NGPAGE(TPAGE(6))
	mov	r0, #1
	blx	thumb_tlbiasid
	PROBE	"asid1 page after thumb tlbiasid", VXP, P_READ, 0xa5000006
	PROBE	"asid1 section after thumb tlbiasid", (VX + 0x10), P_READ, 0xc0000001
	CALL3	set_l2, L2TAB(0), VXP, NGPAGE(TPAGE(7))
	mov	r0, #1
	blx	thumb_tlbiasid_ite
	CHECK	"thumb ite: the else instruction skipped", r0, 1
	PROBE	"asid1 page after tlbiasid in an IT block", VXP, P_READ, 0xa5000007

	NOTE	"768 non-global pages read, then an ASID switch"
	CALL3	fill_words, L2TAB(2), NGPAGE(TPAGE(1)), NMANY
	CALL3	fill_words, L2TAB(8), NGPAGE(TPAGE(2)), NMANY
	CALL3	set_l1, L1_A, VMANY, (L2TAB(2) | L1_TABLE)
	CALL3	set_l1, L1_A, (VMANY + 0x100000), (L2TAB(3) | L1_TABLE)
	CALL3	set_l1, L1_A, (VMANY + 0x200000), (L2TAB(4) | L1_TABLE)
	CALL3	set_l1, L1_B, VMANY, (L2TAB(8) | L1_TABLE)
	CALL3	set_l1, L1_B, (VMANY + 0x100000), (L2TAB(9) | L1_TABLE)
	CALL3	set_l1, L1_B, (VMANY + 0x200000), (L2TAB(10) | L1_TABLE)
	MOV32	r0, VMANY
	mov	r1, #NMANY
	MOV32	r2, 0xa5000001
	bl	count_other
	CHECK	"asid1: pages not its own", r0, 0
	SWITCH	L1_B, 2
	MOV32	r0, VMANY
	mov	r1, #NMANY
	MOV32	r2, 0xa5000002
	bl	count_other
	CHECK	"asid2 after 768 pages of asid1: pages not its own", r0, 0
	SWITCH	L1_A, 1
	MOV32	r0, VMANY
	mov	r1, #NMANY
	MOV32	r2, 0xa5000001
	bl	count_other
	CHECK	"asid1 again: pages not its own", r0, 0

	SWITCH	L1_A, 0
	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/* count_other(r0 = VA, r1 = pages, r2 = word): r0 = how many of the pages from VA on do not
   hold r2 in their first word. Clobbers r1-r3. */
	.type count_other, %function
count_other:
	mov	r3, r0
	mov	r0, #0
1:	ldr	ip, [r3]
	add	r3, r3, #0x1000
	cmp	ip, r2
	addne	r0, r0, #1
	subs	r1, r1, #1
	bne	1b
	bx	lr
	.size count_other, . - count_other

/* fill_words(r0 = address, r1 = word, r2 = count): store r1 count times from r0 on, DSB. */
	.type fill_words, %function
fill_words:
1:	str	r1, [r0], #4
	subs	r2, r2, #1
	bne	1b
	dsb
	bx	lr
	.size fill_words, . - fill_words

/* thumb_tlbiasid(r0 = ASID): TLBIASID from Thumb code, DSB, ISB */
	.thumb
	.type thumb_tlbiasid, %function
	.thumb_func
thumb_tlbiasid:
	mcr	p15, 0, r0, c8, c7, 2
	dsb
	isb
	bx	lr
	.size thumb_tlbiasid, . - thumb_tlbiasid

/* thumb_tlbiasid_ite(r0 = ASID): TLBIASID as the 'then' of an ITE EQ block that always takes
   it; the 'else' (r0 = 7) must not run */
	.type thumb_tlbiasid_ite, %function
	.thumb_func
thumb_tlbiasid_ite:
	cmp	r0, r0
	ite	eq
	mcreq	p15, 0, r0, c8, c7, 2
	movne	r0, #7
	dsb
	isb
	bx	lr
	.size thumb_tlbiasid_ite, . - thumb_tlbiasid_ite
	.arm

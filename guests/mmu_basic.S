/*
 * mmu_basic.S - MMU conformance: enabling, remapping, invalid <-> valid,
 * read-only pages and sections, high vectors, MMU off (portable).
 *
 * Rules checked (ARMv7-A ARM B3):
 *  - a changed valid entry is used after TLBIMVA + DSB + ISB;
 *  - an entry made valid is used at once, with no TLB operation (a fault
 *    is never cached);
 *  - an entry made invalid faults after TLBIMVA: translation fault, page
 *    0x7 / section 0x5, WnR for writes, DFAR = the address;
 *  - AP = PL1 read-only: reads work, writes are permission faults (0x80f
 *    page / 0x80d section), and granting write + TLBIMVA lets them through;
 *  - SCTLR.V = 1 takes exceptions at 0xffff0000 through the page mapped there;
 *  - running off the end of a page into an unmapped one: prefetch abort
 *    with IFAR = the next page, LR = IFAR + 4;
 *  - a new TTBR0 (same ASID) is used after TLBIALL, and tables changed
 *    while the MMU was off are used after TLBIALL and turning it on;
 *  - with SCTLR.M cleared again addresses are physical.
 */
#include "guest.h"

#define VP	0x30000000	/* small pages through L2TAB(0) */
#define VS	0x31000000	/* 1 MiB sections */
#define VS2	0x32000000
#define PAGE(pa, ap)	((pa) | L2_SMALL | L2_AP(ap) | 0xc)
#define SECT(pa, ap)	((pa) | L1_SECT | L1_SECT_AP(ap) | L1_SECT_C | L1_SECT_B)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_basic: remap, invalid/valid, read-only, high vectors, MMU off"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2TAB(0), 0x800
	CALL3	set_l1, L1_A, VP, (L2TAB(0) | L1_TABLE | L1_DOM(0))
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1), AP_PRIV)
	CALL3	mmu_on, L1_A
	mrc	p15, 0, r0, c1, c0, 0
	CHECKM	"sctlr.m after enable", r0, SCTLR_M, SCTLR_M

	PROBE	"identity read", TPAGE(0), P_READ, 0xa5000000
	PROBE	"page read", VP, P_READ, 0xa5000001
	PROBE	"page read end", (VP + 0xffc), P_READ, 0xa5000001

	NOTE	"remap a page, then TLBIMVA"
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(2), AP_PRIV)
	CALL3	tlbimva, VP
	PROBE	"remapped page read", VP, P_READ, 0xa5000002
	PROBE	"remapped page read end", (VP + 0xffc), P_READ, 0xa5000002

	NOTE	"invalid to valid without a TLB operation"
	PROBE_FAULT "unmapped page read", (VP + 0x1010), P_READ, DABT_F(FS_TRANS_PAGE)
	PROBE_FAULT "unmapped page write", (VP + 0x1020), P_WRITE, DABT_F(FSR_WNR | FS_TRANS_PAGE)
	CALL3	set_l2, L2TAB(0), (VP + 0x1000), PAGE(TPAGE(3), AP_PRIV)
	isb
	PROBE	"new page read", (VP + 0x1000), P_READ, 0xa5000003
	PROBE_FAULT "unmapped section read", (VS + 0x40), P_READ, DABT_F(FS_TRANS_SECT)
	PROBE_FAULT "unmapped section write", (VS + 0x80), P_WRITE, DABT_F(FSR_WNR | FS_TRANS_SECT)
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AP_PRIV)
	isb
	PROBE	"new section read", VS, P_READ, 0xb5000000
	PROBE	"new section read end", (VS + 0xffffc), P_READ, 0xb5000000

	NOTE	"valid to invalid, then TLBIMVA"
	CALL3	set_l2, L2TAB(0), (VP + 0x1000), 0
	CALL3	tlbimva, (VP + 0x1000)
	PROBE_FAULT "invalidated page read", (VP + 0x1000), P_READ, DABT_F(FS_TRANS_PAGE)
	PROBE_FAULT "invalidated page write", (VP + 0x1ffc), P_WRITE, DABT_F(FSR_WNR | FS_TRANS_PAGE)
	CALL3	set_l1, L1_A, VS, 0
	CALL3	tlbimva, VS
	PROBE_FAULT "invalidated section read", VS, P_READ, DABT_F(FS_TRANS_SECT)
	/* the L2 table pointer itself made invalid */
	CALL3	set_l1, L1_A, VP, 0
	CALL3	tlbimva, VP
	PROBE_FAULT "invalidated table read", VP, P_READ, DABT_F(FS_TRANS_SECT)
	CALL3	set_l1, L1_A, VP, (L2TAB(0) | L1_TABLE | L1_DOM(0))
	isb
	PROBE	"restored table read", VP, P_READ, 0xa5000002

	NOTE	"read-only pages and sections"
	CALL3	set_l2, L2TAB(0), (VP + 0x3000), PAGE(TPAGE(4), AP_PRIVRO)
	isb
	PROBE	"ro page read", (VP + 0x3000), P_READ, 0xa5000004
	PROBE_FAULT "ro page write", (VP + 0x3008), P_WRITE, DABT_F(FSR_WNR | FS_PERM_PAGE)
	PROBE	"ro page read after fault", (VP + 0x3000), P_READ, 0xa5000004
	CALL3	set_l2, L2TAB(0), (VP + 0x3000), PAGE(TPAGE(4), AP_PRIV)
	CALL3	tlbimva, (VP + 0x3000)
	PROBE	"rw page write", (VP + 0x3008), P_WRITE, 0x11223344
	PROBE	"rw page write seen physically", (TPAGE(4) + 8), P_READ, 0x11223344
	CALL3	set_l2, L2TAB(0), (VP + 0x3000), PAGE(TPAGE(4), AP_PRIVRO)
	CALL3	tlbimva, (VP + 0x3000)
	PROBE_FAULT "ro again page write", (VP + 0x3008), P_WRITE, DABT_F(FSR_WNR | FS_PERM_PAGE)
	CALL3	set_l1, L1_A, VS2, SECT(TSECT(1), AP_PRIVRO)
	isb
	PROBE	"ro section read", (VS2 + 0xffffc), P_READ, 0xb5000001
	PROBE_FAULT "ro section write", (VS2 + 0x4), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	CALL3	set_l1, L1_A, VS2, SECT(TSECT(1), AP_NONE)
	CALL3	tlbimva, VS2
	PROBE_FAULT "no-access section read", (VS2 + 0x10), P_READ, DABT_F(FS_PERM_SECT)

	NOTE	"high vectors at 0xffff0000"
	MOV32	r0, SCRATCH
	MOV32	r1, arm_vectors
	mov	r2, #64
1:	ldr	r3, [r1], #4
	str	r3, [r0], #4
	subs	r2, r2, #4
	bne	1b
	MOV32	r0, (SCRATCH + 32 + 4 * EXC_SVC)
	MOV32	r1, svc_marker
	str	r1, [r0]
	dsb
	mov	r0, #0
	mcr	p15, 0, r0, c7, c5, 0	/* ICIALLU */
	CALL3	memzero, L2TAB(1), 0x400
	CALL3	set_l1, L1_A, 0xfff00000, (L2TAB(1) | L1_TABLE | L1_DOM(0))
	CALL3	set_l2, L2TAB(1), 0xffff0000, PAGE(SCRATCH, AP_PRIV)
	mrc	p15, 0, r0, c1, c0, 0
	orr	r0, r0, #SCTLR_V
	mcr	p15, 0, r0, c1, c0, 0
	isb
	mov	r0, #0
	mov	r1, #0
svc_high:
	svc	#9
	CHECK	"high-vector svc handler ran", r0, 0x5a
	CHECKREL "high-vector svc lr-insn", r1, svc_high, 4
	EXPECT	2f
und_high:
	udf	#9
2:	CHECKREC "high-vector und vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "high-vector und lr-insn", REC_LR, und_high, 4
	mrc	p15, 0, r0, c1, c0, 0
	bic	r0, r0, #SCTLR_V
	mcr	p15, 0, r0, c1, c0, 0
	isb
	EXPECT	3f
svc_low:
	svc	#9
3:	CHECKREC "vbar svc again vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "vbar svc again lr-insn", REC_LR, svc_low, 4

	NOTE	"execution runs off the end of a page into an unmapped one"
	CALL3	exec_stub, (TPAGE(20) + 0xff8), 0x3456
	MOV32	r0, (TPAGE(20) + 0xff8)
	MOV32	r1, 0xe320f000		/* nop: the next instruction is on the next page */
	str	r1, [r0, #4]
	MOV32	r1, 0xe3000000		/* movw r0, #0 */
	str	r1, [r0]
	dsb
	mov	r0, #0
	mcr	p15, 0, r0, c7, c5, 0
	CALL3	set_l2, L2TAB(0), (VP + 0x8000), PAGE(TPAGE(20), AP_PRIV)
	isb
	PROBE_FAULT "fall through to next page", (VP + 0x9000), P_EXEC, PABT_F(FS_TRANS_PAGE)
	MOV32	r0, (VP + 0x8ff8)
	mov	r1, #0
	mov	r2, #P_EXEC
	bl	probe
	CHECK	"run off the page fault", r1, PABT_F(FS_TRANS_PAGE)
	CHECK	"run off the page ifar", r2, (VP + 0x9000)
	CHECKREC "run off the page lr", REC_LR, 0xffffffff, (VP + 0x9004)

	NOTE	"TTBR0 switched to another table (same ASID) + TLBIALL"
	CALL3	mmu_base_map, L1_B
	CALL3	set_l1, L1_B, VP, SECT(TSECT(3), AP_PRIV)
	MOV32	r0, L1_B
	mcr	p15, 0, r0, c2, c0, 0
	isb
	bl	tlbiall
	PROBE	"table B magic", VP, P_READ, 0xb5000003
	MOV32	r0, L1_A
	mcr	p15, 0, r0, c2, c0, 0
	isb
	bl	tlbiall
	PROBE	"table A again", VP, P_READ, 0xa5000002

	NOTE	"MMU off, tables changed, TLBIALL, MMU on again"
	bl	mmu_off
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(5), AP_PRIV)
	CALL3	mmu_on, L1_A
	PROBE	"after re-enable", VP, P_READ, 0xa5000005
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(2), AP_PRIV)
	CALL3	tlbimva, VP

	NOTE	"MMU off again"
	PROBE	"write through mapping", VP, P_WRITE, 0x5566aa77
	bl	mmu_off
	mrc	p15, 0, r0, c1, c0, 0
	CHECKM	"sctlr.m after disable", r0, SCTLR_M, 0
	PROBE	"physical read after mmu off", TPAGE(2), P_READ, 0x5566aa77

	pop	{r4-r11, lr}
	b	finish

svc_marker:
	mov	r0, #0x5a
	mov	r1, lr
	movs	pc, lr

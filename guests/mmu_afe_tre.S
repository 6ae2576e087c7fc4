/*
 * mmu_afe_tre.S - MMU conformance: SCTLR.AFE (access flag, simplified
 * permissions) and SCTLR.TRE (TEX remap through PRRR/NMRR), the way Linux
 * sets TRE (portable).
 *
 * With AFE = 1, AP[0] is the access flag: an entry with AP[0] = 0 gives an
 * Access flag fault (0x3 section / 0x6 page, WnR for writes; prefetch
 * aborts alike), is never cached, so setting the flag needs no TLB
 * operation; AP[2:1] select the simplified permissions (PL1 rw / rw /
 * PL1 ro / ro).  With TRE = 1, TEX[0]:C:B index PRRR/NMRR; the memory type
 * changes nothing a guest can observe here, so every index translates
 * as before.  AFE and TRE changes are followed by TLBIALL.
 */
#include "guest.h"

#define VS	0x30100000	/* sections */
#define VP	0x30200000	/* pages, L2TAB(0) */
#define SECT(pa, ap)	((pa) | L1_SECT | L1_SECT_AP(ap) | L1_SECT_C | L1_SECT_B)
#define PAGE(pa, ap)	((pa) | L2_SMALL | L2_AP(ap) | 0xc)
/* AFE = 1 encodings: AP[2:1] << 1 | AF */
#define AF_PRIV(af)	(0 | (af))
#define AF_RW(af)	(2 | (af))
#define AF_PRIVRO(af)	(4 | (af))
#define AF_RO(af)	(6 | (af))
/* Linux's PRRR / NMRR (arch/arm/mm/proc-v7-2level.S) */
#define LINUX_PRRR	0xff0a81a8
#define LINUX_NMRR	0x40e040e0

.macro SCTLR_SET bits
	mrc	p15, 0, r0, c1, c0, 0
	MOV32	r1, \bits
	orr	r0, r0, r1
	mcr	p15, 0, r0, c1, c0, 0
	isb
	bl	tlbiall
.endm

.macro SCTLR_CLEAR bits
	mrc	p15, 0, r0, c1, c0, 0
	MOV32	r1, \bits
	bic	r0, r0, r1
	mcr	p15, 0, r0, c1, c0, 0
	isb
	bl	tlbiall
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_afe_tre: access flag and TEX remap"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, VP, (L2TAB(0) | L1_TABLE)
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AF_RW(0))
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1), AF_RW(0))
	CALL3	mmu_on, L1_A
	NOTE	"AFE = 0: AP 010 is user read-only"
	PROBE	"afe0 usr read", VS, (P_READ | P_USER), 0xb5000000
	PROBE_FAULT "afe0 usr write", VS, (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_SECT)

	NOTE	"AFE = 1: access flag faults"
	SCTLR_SET SCTLR_AFE
	mrc	p15, 0, r0, c1, c0, 0
	CHECKM	"sctlr.afe", r0, SCTLR_AFE, SCTLR_AFE
	PROBE	"identity still works", TPAGE(2), P_READ, 0xa5000002
	PROBE_FAULT "af=0 section read", (VS + 0x10), P_READ, DABT_F(0x3)
	PROBE_FAULT "af=0 section write", (VS + 0x14), P_WRITE, DABT_F(FSR_WNR | 0x3)
	PROBE_FAULT "af=0 section usr read", (VS + 0x18), (P_READ | P_USER), DABT_F(0x3)
	PROBE_FAULT "af=0 section exec", VS, P_EXEC, PABT_F(0x3)
	PROBE_FAULT "af=0 page read", (VP + 0x20), P_READ, DABT_F(0x6)
	PROBE_FAULT "af=0 page write", (VP + 0x24), P_WRITE, DABT_F(FSR_WNR | 0x6)
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AF_RW(1))
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1), AF_RW(1))
	isb
	PROBE	"af=1 section read, no TLB op", VS, P_READ, 0xb5000000
	PROBE	"af=1 section usr write", (VS + 0x10), (P_WRITE | P_USER), 0x0a0a0a0a
	PROBE	"af=1 page read, no TLB op", VP, P_READ, 0xa5000001
	PROBE	"af=1 page usr write", (VP + 0x24), (P_WRITE | P_USER), 0x0b0b0b0b

	NOTE	"AFE = 1: simplified permissions"
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AF_PRIV(1))
	CALL3	tlbimva, VS
	PROBE	"pl1-rw svc write", (VS + 0x10), P_WRITE, 0x0c0c0c0c
	PROBE_FAULT "pl1-rw usr read", (VS + 0x10), (P_READ | P_USER), DABT_F(FS_PERM_SECT)
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AF_PRIVRO(1))
	CALL3	tlbimva, VS
	PROBE	"pl1-ro svc read", (VS + 0x10), P_READ, 0x0c0c0c0c
	PROBE_FAULT "pl1-ro svc write", (VS + 0x10), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE_FAULT "pl1-ro usr read", (VS + 0x10), (P_READ | P_USER), DABT_F(FS_PERM_SECT)
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1), AF_RO(1))
	CALL3	tlbimva, VP
	PROBE	"ro page usr read", (VP + 0x24), (P_READ | P_USER), 0x0b0b0b0b
	PROBE_FAULT "ro page usr write", (VP + 0x24), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_PAGE)
	PROBE_FAULT "ro page svc write", (VP + 0x24), P_WRITE, DABT_F(FSR_WNR | FS_PERM_PAGE)
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1), AF_RO(0))
	CALL3	tlbimva, VP
	PROBE_FAULT "ro page af=0 read", (VP + 0x24), P_READ, DABT_F(0x6)

	NOTE	"TRE = 1 with Linux's PRRR/NMRR: every TEX[0]:C:B index translates"
	MOV32	r0, LINUX_PRRR
	mcr	p15, 0, r0, c10, c2, 0
	MOV32	r0, LINUX_NMRR
	mcr	p15, 0, r0, c10, c2, 1
	SCTLR_SET SCTLR_TRE
	mrc	p15, 0, r0, c10, c2, 0
	CHECK	"prrr readback", r0, LINUX_PRRR
	mov	r4, #0
1:	/* page VP + n * 4K -> TPAGE(16 + n) with TEX[0] = n >> 2, C = n >> 1 & 1, B = n & 1 */
	MOV32	r0, L2TAB(0)
	MOV32	r1, VP
	add	r1, r1, r4, lsl #12
	MOV32	r2, (TPAGE(16) | L2_SMALL | L2_AP(AF_RW(1)))
	add	r2, r2, r4, lsl #12
	and	r3, r4, #3
	orr	r2, r2, r3, lsl #2	/* C:B */
	lsr	r3, r4, #2
	orr	r2, r2, r3, lsl #6	/* TEX[0] */
	bl	set_l2
	add	r4, r4, #1
	cmp	r4, #8
	bne	1b
	isb
	PROBE	"tre index 0", (VP + 0x0000), P_READ, 0xa5000010
	PROBE	"tre index 1", (VP + 0x1000), P_READ, 0xa5000011
	PROBE	"tre index 2", (VP + 0x2000), P_READ, 0xa5000012
	PROBE	"tre index 3", (VP + 0x3000), P_READ, 0xa5000013
	PROBE	"tre index 4", (VP + 0x4000), P_READ, 0xa5000014
	PROBE	"tre index 5", (VP + 0x5000), P_READ, 0xa5000015
	PROBE	"tre index 6", (VP + 0x6000), P_READ, 0xa5000016
	PROBE	"tre index 7 usr write", (VP + 0x7010), (P_WRITE | P_USER), 0x77777777
	PROBE	"tre index 7 read back", (VP + 0x7010), P_READ, 0x77777777

	NOTE	"AFE and TRE off again"
	SCTLR_CLEAR (SCTLR_AFE | SCTLR_TRE)
	CALL3	set_l1, L1_A, VS, SECT(TSECT(0), AP_URO)
	CALL3	tlbimva, VS
	PROBE	"afe0 again usr read", (VS + 0x10), (P_READ | P_USER), 0x0c0c0c0c
	PROBE_FAULT "afe0 again usr write", (VS + 0x10), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_SECT)

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/*
 * mmu_split.S - MMU conformance: TTBCR.N splits between TTBR0 and TTBR1
 * (portable).
 *
 * L1_A (TTBR0) and L1_B (TTBR1) map the same test VAs to different
 * sections.  With N = 0 every VA walks TTBR0; N = 1 sends VAs >= 2 GiB to
 * TTBR1; N = 2 sends VAs >= 1 GiB.  A TTBCR change is followed by TLBIALL
 * as the architecture requires before relying on the new split.  Both
 * tables identity-map RAM, so the code runs whichever table covers it.
 */
#include "guest.h"

#define V0	0x30000000
#define V5	0x50000000
#define VC	0xc0000000
#define VD	0xd0000000
#define SECT(pa)	((pa) | L1_SECT | L1_SECT_AP(AP_PRIV) | L1_SECT_C | L1_SECT_B)

.macro SET_TTBCR n
	mov	r0, #\n
	mcr	p15, 0, r0, c2, c0, 2
	isb
	bl	tlbiall
	mrc	p15, 0, r0, c2, c0, 2
	CHECKM	"ttbcr.n readback", r0, 7, \n
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_split: TTBCR.N = 0, 1, 2 with TTBR1"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_base_map, L1_B
	CALL3	set_l1, L1_A, V0, SECT(TSECT(0))
	CALL3	set_l1, L1_B, V0, SECT(TSECT(1))
	CALL3	set_l1, L1_A, V5, SECT(TSECT(2))
	CALL3	set_l1, L1_B, V5, SECT(TSECT(3))
	CALL3	set_l1, L1_A, VC, SECT(TSECT(2))
	CALL3	set_l1, L1_B, VC, SECT(TSECT(3))
	CALL3	set_l1, L1_A, VD, SECT(TSECT(0))
	CALL3	mmu_on, L1_A
	MOV32	r0, L1_B
	mcr	p15, 0, r0, c2, c0, 1	/* TTBR1, unused while N = 0 */
	isb

	NOTE	"N = 0: everything through TTBR0"
	PROBE	"n0 0x30000000", V0, P_READ, 0xb5000000
	PROBE	"n0 0x50000000", V5, P_READ, 0xb5000002
	PROBE	"n0 0xc0000000", VC, P_READ, 0xb5000002
	PROBE	"n0 0xd0000000", VD, P_READ, 0xb5000000

	NOTE	"N = 1: TTBR1 from 0x80000000"
	SET_TTBCR 1
	PROBE	"n1 0x30000000", V0, P_READ, 0xb5000000
	PROBE	"n1 0x50000000", V5, P_READ, 0xb5000002
	PROBE	"n1 0xc0000000", VC, P_READ, 0xb5000003
	PROBE_FAULT "n1 0xd0000000", VD, P_READ, DABT_F(FS_TRANS_SECT)
	PROBE	"n1 identity", TPAGE(1), P_READ, 0xa5000001

	NOTE	"N = 2: TTBR1 from 0x40000000"
	SET_TTBCR 2
	PROBE	"n2 0x30000000", V0, P_READ, 0xb5000000
	PROBE	"n2 0x50000000", V5, P_READ, 0xb5000003
	PROBE	"n2 0xc0000000", VC, P_READ, 0xb5000003
	PROBE_FAULT "n2 0xd0000000 write", (VD + 8), P_WRITE, DABT_F(FSR_WNR | FS_TRANS_SECT)
	PROBE	"n2 identity", TPAGE(2), P_READ, 0xa5000002

	NOTE	"editing the TTBR1 table"
	CALL3	set_l1, L1_B, VC, SECT(TSECT(1))
	CALL3	tlbimva, VC
	PROBE	"n2 ttbr1 remapped", VC, P_READ, 0xb5000001
	CALL3	set_l1, L1_B, VD, SECT(TSECT(2))
	isb
	PROBE	"n2 ttbr1 new entry", VD, P_READ, 0xb5000002

	NOTE	"N = 0 again"
	SET_TTBCR 0
	PROBE	"n0 again 0x50000000", V5, P_READ, 0xb5000002
	PROBE	"n0 again 0xc0000000", VC, P_READ, 0xb5000002
	PROBE	"n0 again 0xd0000000", VD, P_READ, 0xb5000000

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/*
 * mmu_tlbcode.S - MMU conformance: TLB maintenance wherever and however the
 * guest issues it (portable).
 *
 * The shadow monitor's tlb sync must see every TLB operation the guest
 * executes at PL1.  Checked here: operations in a code page written at run
 * time, in a code page rewritten after it already ran, in Thumb code, with
 * the address in various registers, conditional ones that execute, and the
 * instruction-side and data-side forms (ITLB*, DTLB*: data reads after
 * DTLBIMVA/DTLBIASID/DTLBIALL, instruction fetches after ITLBIMVA/
 * ITLBIASID/ITLBIALL), and an operation written into a code page through
 * a small-page alias that was writable (and written) before the page first
 * ran (one alias, or two), and one written through an alias that was only read
 * since the page ran.  Each remaps a page that was in use, so a missed operation leaves
 * the old mapping visible.
 */
#include "guest.h"

#define VP	0x30000000	/* data page, L2TAB(0) */
#define VX	0x30010000	/* code page, L2TAB(0) */
#define CODE	TPAGE(40)	/* run-time code */
#define CODE2	TPAGE(41)	/* run-time code, also written through VW */
#define VW	0x30020000	/* small-page alias of CODE2, L2TAB(0) */
#define CODE3	TPAGE(42)	/* run-time code, also read and written through VR */
#define VR	0x30021000	/* small-page alias of CODE3, L2TAB(0) */
#define CODE4	TPAGE(43)	/* run-time code, written through VA1 and VA2 */
#define VA1	0x30022000	/* small-page aliases of CODE4, L2TAB(0) */
#define VA2	0x30023000
#define PAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | 0xc)
#define NGPAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | L2_NG | 0xc)


/* remap VP to TPAGE(n) (DSB only: the TLB operation under test follows) */
.macro REMAP n
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(\n))
.endm

/* remap VP to TPAGE(n), run the TLBIMVA VP (t_arm) installed at `code`, and
 * read VP: the new mapping must show */
.macro RUN_TLBIMVA desc, code, n
	REMAP	\n
	MOV32	r7, VP
	MOV32	r3, \code
	blx	r3
	PROBE	"\desc", VP, P_READ, (0xa5000000 + \n)
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_tlbcode: TLB operations in run-time code, Thumb, I/D forms"
	bl	fill_magic
	CALL3	exec_stub, TPAGE(30), 0x1111
	CALL3	exec_stub, TPAGE(31), 0x2222
	CALL3	exec_stub, TPAGE(32), 0x3333
	CALL3	exec_stub, TPAGE(33), 0x4444
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, VP, (L2TAB(0) | L1_TABLE)
	REMAP	1
	CALL3	set_l2, L2TAB(0), VX, PAGE(TPAGE(30))
	CALL3	mmu_on, L1_A
	PROBE	"initial", VP, P_READ, 0xa5000001

	NOTE	"TLBIMVA in a code page written at run time"
	INSTALL	CODE, t_arm, t_arm_end
	REMAP	2
	mov	r0, #0
	MOV32	r7, VP
	MOV32	r3, CODE
	blx	r3
	PROBE	"after run-time tlbimva", VP, P_READ, 0xa5000002

	NOTE	"the same page rewritten after it ran"
	INSTALL	(CODE + 0x100), t_nop, t_nop_end
	MOV32	r3, (CODE + 0x100)
	blx	r3
	INSTALL	(CODE + 0x100), t_arm2, t_arm2_end
	REMAP	3
	MOV32	r9, VP
	MOV32	r3, (CODE + 0x100)
	blx	r3
	PROBE	"after rewritten tlbimva", VP, P_READ, 0xa5000003

	NOTE	"TLBIMVA in Thumb code"
	INSTALL	(CODE + 0x200), t_thumb, t_thumb_end
	REMAP	4
	MOV32	r10, VP
	MOV32	r3, (CODE + 0x200 + 1)
	blx	r3
	PROBE	"after thumb tlbimva", VP, P_READ, 0xa5000004
	REMAP	5
	blx	thumb_tlbimva_r2
	PROBE	"after thumb tlbimva in the image", VP, P_READ, 0xa5000005

	NOTE	"code written through a small-page alias before and after it ran"
	CALL3	set_l2, L2TAB(0), VW, PAGE(CODE2)
	CALL3	tlbimva, VW
	INSTALL	VW, t_nop, t_nop_end	/* VW holds write permission now */
	MOV32	r3, CODE2
	blx	r3			/* CODE2 runs: a code page */
	INSTALL	VW, t_arm, t_arm_end	/* its TLB operation is new */
	RUN_TLBIMVA "after alias-written tlbimva", CODE2, 11

	NOTE	"code read through a small-page alias after it ran, then written"
	INSTALL	CODE3, t_nop, t_nop_end
	MOV32	r3, CODE3
	blx	r3			/* CODE3 runs: a code page */
	CALL3	set_l2, L2TAB(0), VR, PAGE(CODE3)
	CALL3	tlbimva, VR
	/* a read through a writable alias (from a PC the monitor already knows): no W for it */
	PROBE	"code read through the alias", VR, P_READ, 0xe320f000
	INSTALL	VR, t_arm, t_arm_end	/* so this write is seen: a new TLB operation */
	RUN_TLBIMVA "after tlbimva written through a read alias", CODE3, 12

	NOTE	"code written through two small-page aliases before it ran, then through one"
	CALL3	set_l2, L2TAB(0), VA1, PAGE(CODE4)
	CALL3	set_l2, L2TAB(0), VA2, PAGE(CODE4)
	CALL3	tlbimva, VA1
	CALL3	tlbimva, VA2
	INSTALL	VA1, t_nop, t_nop_end	/* both aliases hold write permission now */
	INSTALL	VA2, t_nop, t_nop_end
	MOV32	r3, CODE4
	blx	r3			/* CODE4 runs: a code page */
	INSTALL	VA1, t_arm, t_arm_end	/* its TLB operation is new */
	RUN_TLBIMVA "after tlbimva written through the first of two aliases", CODE4, 13

	NOTE	"conditional TLB operations"
	REMAP	6
	MOV32	r2, VP
	cmp	r2, r2
	mcrne	p15, 0, r2, c8, c7, 1	/* not executed */
	mcreq	p15, 0, r2, c8, c7, 1	/* executed */
	dsb
	isb
	PROBE	"after mcreq tlbimva", VP, P_READ, 0xa5000006

	NOTE	"data-side forms"
	REMAP	7
	MOV32	r11, VP
	mcr	p15, 0, r11, c8, c6, 1	/* DTLBIMVA */
	dsb
	isb
	PROBE	"after dtlbimva", VP, P_READ, 0xa5000007
	REMAP	8
	mov	r1, #0
	mcr	p15, 0, r1, c8, c6, 0	/* DTLBIALL */
	dsb
	isb
	PROBE	"after dtlball", VP, P_READ, 0xa5000008
	CALL3	set_l2, L2TAB(0), VP, NGPAGE(TPAGE(9))
	CALL3	tlbimva, VP
	CALL3	switch_mm, L1_A, 7
	PROBE	"ng page in asid 7", VP, P_READ, 0xa5000009
	CALL3	set_l2, L2TAB(0), VP, NGPAGE(TPAGE(10))
	mov	r1, #7
	mcr	p15, 0, r1, c8, c6, 2	/* DTLBIASID 7 */
	dsb
	isb
	PROBE	"after dtlbiasid", VP, P_READ, 0xa500000a
	CALL3	switch_mm, L1_A, 0

	NOTE	"instruction-side forms"
	PROBE	"exec initial", VX, P_EXEC, 0x1111
	CALL3	set_l2, L2TAB(0), VX, PAGE(TPAGE(31))
	MOV32	r1, VX
	mcr	p15, 0, r1, c8, c5, 1	/* ITLBIMVA */
	mcr	p15, 0, r1, c7, c5, 6	/* BPIALL */
	dsb
	isb
	PROBE	"exec after itlbimva", VX, P_EXEC, 0x2222
	CALL3	set_l2, L2TAB(0), VX, PAGE(TPAGE(32))
	mov	r1, #0
	mcr	p15, 0, r1, c8, c5, 0	/* ITLBIALL */
	mcr	p15, 0, r1, c7, c5, 6
	dsb
	isb
	PROBE	"exec after itlball", VX, P_EXEC, 0x3333
	CALL3	set_l2, L2TAB(0), VX, NGPAGE(TPAGE(31))
	mov	r1, #0
	mcr	p15, 0, r1, c8, c7, 0	/* TLBIALL */
	dsb
	isb
	CALL3	switch_mm, L1_A, 9
	PROBE	"exec ng in asid 9", VX, P_EXEC, 0x2222
	CALL3	set_l2, L2TAB(0), VX, NGPAGE(TPAGE(33))
	mov	r1, #9
	mcr	p15, 0, r1, c8, c5, 2	/* ITLBIASID 9 */
	mcr	p15, 0, r1, c7, c5, 6
	dsb
	isb
	PROBE	"exec after itlbiasid", VX, P_EXEC, 0x4444
	CALL3	switch_mm, L1_A, 0

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

	.thumb
	.type thumb_tlbimva_r2, %function
	.thumb_func
thumb_tlbimva_r2:
	MOV32	r2, VP
	mcr	p15, 0, r2, c8, c7, 1
	dsb
	isb
	bx	lr

/* Templates: copied to CODE and run there, never run in place. */
	.section .rodata.templates, "a"
	.balign 4
	.arm
t_arm:
	mcr	p15, 0, r7, c8, c7, 1	/* TLBIMVA r7 */
	dsb
	isb
	bx	lr
t_arm_end:
t_nop:
	nop
	nop
	nop
	bx	lr
t_nop_end:
t_arm2:
	mcr	p15, 0, r9, c8, c7, 1	/* TLBIMVA r9 */
	dsb
	isb
	bx	lr
t_arm2_end:
	.thumb
t_thumb:
	mcr	p15, 0, r10, c8, c7, 1	/* TLBIMVA r10 */
	dsb
	isb
	bx	lr
	nop
t_thumb_end:

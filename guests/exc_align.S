/*
 * exc_align.S - alignment faults: Data Aborts without the MMU (portable).
 *
 * An LDR or STRH to an unaligned address with SCTLR.A set, and an LDM to
 * a non-word-aligned address whatever SCTLR.A says: DFSR status 0x1, WnR
 * for writes, DFAR = the address, LR = insn + 8 in ARM and Thumb state,
 * ABT mode with A and I set, and the LDM base register not written back.
 * With SCTLR.A clear an unaligned LDR just works.
 */
#include "guest.h"

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_align: alignment faults"
	/* Alignment faults with SCTLR.A set */
	mrc	p15, 0, r0, c1, c0, 0
	orr	r0, r0, #SCTLR_A
	mcr	p15, 0, r0, c1, c0, 0
	isb
	MOV32	r4, (TPAGE(0) + 2)
	EXPECT	1f
	cpsie	aif
ld_unal:
	ldr	r0, [r4]
1:	cpsid	aif
	CHECKREC "align-ldr vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "align-ldr lr-insn", REC_LR, ld_unal, 8
	CHECKREC "align-ldr dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_ALIGN
	CHECKRECREL "align-ldr dfar-ram", REC_DFAR, RAM_BASE, (TPAGE(0) + 2 - RAM_BASE)
	CHECKREC "align-ldr cpsr-on-entry", REC_CPSR, 0x3ff, 0x197
	CHECKREC "align-ldr spsr", REC_SPSR, 0x3ff, 0x013

	MOV32	r4, (TPAGE(0) + 5)
	EXPECT	1f
st_unal:
	strh	r0, [r4]
1:	CHECKREC "align-strh vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "align-strh lr-insn", REC_LR, st_unal, 8
	CHECKREC "align-strh dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), (FSR_WNR | FS_ALIGN)
	CHECKRECREL "align-strh dfar-ram", REC_DFAR, RAM_BASE, (TPAGE(0) + 5 - RAM_BASE)

	mrc	p15, 0, r0, c1, c0, 0
	bic	r0, r0, #SCTLR_A
	mcr	p15, 0, r0, c1, c0, 0
	isb

	/* With SCTLR.A clear an unaligned LDR works ... */
	MOV32	r4, TPAGE(0)
	MOV32	r0, 0x44332211
	str	r0, [r4]
	MOV32	r0, 0x88776655
	str	r0, [r4, #4]
	ldr	r0, [r4, #1]
	CHECK	"unaligned ldr value", r0, 0x55443322

	/* ... but LDM to a non-word-aligned address always faults. */
	add	r4, r4, #2
	EXPECT	1f
ldm_unal:
	ldm	r4, {r0, r1}
1:	CHECKREC "align-ldm vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "align-ldm lr-insn", REC_LR, ldm_unal, 8
	CHECKREC "align-ldm dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_ALIGN
	CHECKRECREL "align-ldm dfar-ram", REC_DFAR, RAM_BASE, (TPAGE(0) + 2 - RAM_BASE)

	blx	thumb_align

	pop	{r4-r11, lr}
	b	finish

	.thumb
	.type thumb_align, %function
	.thumb_func
thumb_align:
	push	{r4, lr}
	MOV32	r4, (TPAGE(0) + 6)
	EXPECT	1f
ldm_t:
	ldm	r4!, {r0, r1}
1:	CHECKREC "align-ldm-thumb vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "align-ldm-thumb lr-insn", REC_LR, ldm_t, 8
	CHECKREC "align-ldm-thumb dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_ALIGN
	CHECKRECREL "align-ldm-thumb dfar-ram", REC_DFAR, RAM_BASE, (TPAGE(0) + 6 - RAM_BASE)
	CHECKREC "align-ldm-thumb spsr", REC_SPSR, 0x3ff, 0x1f3
	CHECKREL "ldm base not written back", r4, RAM_BASE, (TPAGE(0) + 6 - RAM_BASE)
	pop	{r4, pc}

/*
 * exc_abort.S - Prefetch and Data Abort exception entry (portable).
 *
 * Prefetch abort: BKPT is a debug event taken as a Prefetch Abort (IFSR
 * status 0x2, LR = insn + 4 in ARM and Thumb state).
 * Data abort: translation faults with the MMU on (only RAM is mapped):
 * DFSR status 0x5, WnR for writes, DFAR = the address, LR = insn + 8 in
 * ARM and Thumb state and from User mode, ABT mode with A and I set, SPSR,
 * and an LDM's base register not written back.  (Alignment faults:
 * exc_align.S; external aborts: exc_extabort.S.)
 */
#include "guest.h"

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_abort: prefetch and data aborts"

	/* BKPT in ARM state */
	EXPECT	1f
	cpsie	aif
	msr	APSR_nzcvq, #0x10000000
bkpt_arm:
	bkpt	#0x11
1:	cpsid	aif
	CHECKREC "bkpt-arm vec", REC_VEC, 0xff, EXC_PABT
	CHECKRECREL "bkpt-arm lr-insn", REC_LR, bkpt_arm, 4
	CHECKREC "bkpt-arm ifsr", REC_IFSR, FSR_STATUS, FS_DEBUG
	CHECKREC "bkpt-arm spsr", REC_SPSR, 0xf00003ff, 0x10000013
	CHECKREC "bkpt-arm cpsr-on-entry", REC_CPSR, 0x3ff, 0x197

	/* Data aborts: translation faults with the MMU on (identity map of RAM only) */
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_on, L1_A
	MOV32	r4, 0x30000010
	EXPECT	1f
	cpsie	aif
	msr	APSR_nzcvq, #0x30000000
dabt_ld:
	ldr	r0, [r4, #4]
1:	cpsid	aif
	CHECKREC "dabt-ldr vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "dabt-ldr lr-insn", REC_LR, dabt_ld, 8
	CHECKREC "dabt-ldr dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_TRANS_SECT
	CHECKREC "dabt-ldr dfar", REC_DFAR, 0xffffffff, 0x30000014
	CHECKREC "dabt-ldr spsr", REC_SPSR, 0xf00003ff, 0x30000013
	CHECKREC "dabt-ldr cpsr-on-entry", REC_CPSR, 0x3ff, 0x197
	EXPECT	1f
dabt_st:
	strb	r0, [r4, #-1]
1:	CHECKREC "dabt-strb vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "dabt-strb lr-insn", REC_LR, dabt_st, 8
	CHECKREC "dabt-strb dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), (FSR_WNR | FS_TRANS_SECT)
	CHECKREC "dabt-strb dfar", REC_DFAR, 0xffffffff, 0x3000000f
	/* from User mode */
	EXPECT	2f, (M_SVC | PSR_A | PSR_I | PSR_F)
	MOV32	lr, user_dabt
	mov	r0, #M_USR
	msr	spsr_fsxc, r0
	movs	pc, lr
2:	CHECKREC "dabt-usr vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "dabt-usr lr-insn", REC_LR, user_dabt, 8
	CHECKREC "dabt-usr dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_TRANS_SECT
	CHECKREC "dabt-usr spsr", REC_SPSR, 0x3ff, 0x010
	CHECKREC "dabt-usr cpsr-on-entry", REC_CPSR, 0x3ff, 0x197

	/* a data abort taken while already in ABT mode (the handler's own mode) */
	cps	#M_ABT
	EXPECT	3f
dabt_abt:
	ldr	r0, [r4]
3:	cps	#M_SVC
	CHECKREC "dabt-in-abt vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "dabt-in-abt lr-insn", REC_LR, dabt_abt, 8
	CHECKREC "dabt-in-abt spsr", REC_SPSR, 0x3ff, 0x1d7
	CHECKREC "dabt-in-abt cpsr-on-entry", REC_CPSR, 0x3ff, 0x1d7
	/* an undefined instruction in UND mode */
	cps	#M_UND
	EXPECT	4f
und_und:
	udf	#7
4:	cps	#M_SVC
	CHECKREC "und-in-und vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "und-in-und lr-insn", REC_LR, und_und, 4
	CHECKREC "und-in-und spsr", REC_SPSR, 0x3ff, 0x1db

	blx	thumb_aborts
	bl	mmu_off

	pop	{r4-r11, lr}
	b	finish

user_dabt:
	ldr	r0, [r4]
	b	.

	.thumb
	.type thumb_aborts, %function
	.thumb_func
thumb_aborts:
	push	{r4, lr}
	EXPECT	1f
bkpt_t:
	bkpt	#0x22
1:	CHECKREC "bkpt-thumb vec", REC_VEC, 0xff, EXC_PABT
	CHECKRECREL "bkpt-thumb lr-insn", REC_LR, bkpt_t, 4
	CHECKREC "bkpt-thumb ifsr", REC_IFSR, FSR_STATUS, FS_DEBUG
	CHECKREC "bkpt-thumb spsr", REC_SPSR, 0x3ff, 0x1f3

	MOV32	r4, 0x30000020
	EXPECT	1f
ldm_t:
	ldm	r4!, {r0, r1}
1:	CHECKREC "dabt-ldm-thumb vec", REC_VEC, 0xff, EXC_DABT
	CHECKRECREL "dabt-ldm-thumb lr-insn", REC_LR, ldm_t, 8
	CHECKREC "dabt-ldm-thumb dfsr", REC_DFSR, (FSR_STATUS | FSR_WNR), FS_TRANS_SECT
	CHECKREC "dabt-ldm-thumb dfar", REC_DFAR, 0xffffffff, 0x30000020
	CHECKREC "dabt-ldm-thumb spsr", REC_SPSR, 0x3ff, 0x1f3
	CHECK	"ldm base not written back", r4, 0x30000020
	EXPECT	1f
ld_t16:
	ldr	r0, [r4, #8]
1:	CHECKRECREL "dabt-ldr16-thumb lr-insn", REC_LR, ld_t16, 8
	CHECKREC "dabt-ldr16-thumb dfar", REC_DFAR, 0xffffffff, 0x30000028
	pop	{r4, pc}

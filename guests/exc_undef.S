/*
 * exc_undef.S - Undefined Instruction exceptions (portable: hvd and QEMU vexpress-a9).
 *
 * UDF in ARM state (LR = insn + 4), an access to a coprocessor that does not
 * exist, UDF in Thumb state, 16-bit and 32-bit encodings (LR = insn + 2 for
 * both: ARMv7-A ARM table B1-7), SPSR with T, and CPSR on entry (UND mode,
 * I set, A and F unchanged, ARM state).
 */
#include "guest.h"

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_undef: undefined instructions"

	EXPECT	1f
	cpsie	aif
	msr	APSR_nzcvq, #0x40000000
und_arm:
	udf	#0x1234
1:	cpsid	aif
	CHECKREC "udf-arm vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "udf-arm lr-insn", REC_LR, und_arm, 4
	CHECKREC "udf-arm spsr", REC_SPSR, 0xf00003ff, 0x40000013
	CHECKREC "udf-arm cpsr-on-entry", REC_CPSR, 0x3ff, 0x09b

	EXPECT	1f
und_cp:
	mcr	p7, 0, r0, c1, c2, 3	/* no coprocessor 7 */
1:	CHECKREC "cp7-arm vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "cp7-arm lr-insn", REC_LR, und_cp, 4
	CHECKREC "cp7-arm cpsr-on-entry", REC_CPSR, 0x3ff, 0x1db

	/* An undefined instruction in USR mode enters UND mode as well. */
	EXPECT	2f, (M_SVC | PSR_A | PSR_I | PSR_F)
	MOV32	lr, user_udf
	mov	r0, #M_USR
	msr	spsr_fsxc, r0
	movs	pc, lr
2:	CHECKREC "udf-usr vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "udf-usr lr-insn", REC_LR, und_usr, 4
	CHECKREC "udf-usr spsr", REC_SPSR, 0xf00003ff, 0x00000010
	CHECKREC "udf-usr cpsr-on-entry", REC_CPSR, 0x3ff, 0x09b

	blx	thumb_undef

	pop	{r4-r11, lr}
	b	finish

user_udf:
und_usr:
	udf	#1
	b	.

	.thumb
	.type thumb_undef, %function
	.thumb_func
thumb_undef:
	push	{r4, lr}
	EXPECT	1f
	cpsie	aif
und_t16:
	udf	#0x12
1:	cpsid	aif
	CHECKREC "udf-t16 vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "udf-t16 lr-insn", REC_LR, und_t16, 2
	CHECKREC "udf-t16 spsr", REC_SPSR, 0x000003ff, 0x00000033
	CHECKREC "udf-t16 cpsr-on-entry", REC_CPSR, 0x3ff, 0x09b

	EXPECT	1f
und_t32:
	udf.w	#0x345
1:	CHECKREC "udf-t32 vec", REC_VEC, 0xff, EXC_UND
	CHECKRECREL "udf-t32 lr-insn", REC_LR, und_t32, 2
	CHECKREC "udf-t32 spsr", REC_SPSR, 0x000003ff, 0x000001f3
	pop	{r4, pc}

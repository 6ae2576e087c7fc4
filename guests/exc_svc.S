/*
 * exc_svc.S - Supervisor Call exceptions (portable: hvd and QEMU vexpress-a9).
 *
 * SVC from SVC mode and from User mode in ARM state, and from Thumb state:
 * vector, LR = next instruction (+4 ARM, +2 Thumb), SPSR = the CPSR before
 * (flags, mode, masks, T), CPSR on entry (SVC mode, I set, A/F unchanged),
 * and the immediate found through LR.  Then SVC through a moved VBAR, and an
 * SVC in a Thumb IT block (its return goes on in the block).
 */
#include "guest.h"

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_svc: supervisor calls"

	/* 1. SVC from SVC mode, ARM state, with A/I/F clear and N,C set. */
	EXPECT	1f
	cpsie	aif
	msr	APSR_nzcvq, #0xa0000000
svc_arm:
	svc	#0x42
1:	cpsid	aif
	CHECKREC "svc-arm vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "svc-arm lr-insn", REC_LR, svc_arm, 4
	CHECKREC "svc-arm spsr", REC_SPSR, 0xf00003ff, 0xa0000013
	CHECKREC "svc-arm cpsr-on-entry", REC_CPSR, 0x3ff, 0x093
	MOV32	r0, exc_rec
	ldr	r0, [r0, #REC_LR]
	ldr	r0, [r0, #-4]
	CHECKM	"svc-arm imm", r0, 0x0fffffff, 0x0f000042

	/* 2. SVC from SVC mode with A/I/F all set: they stay set. */
	EXPECT	1f
	msr	APSR_nzcvq, #0x50000000
svc_arm_masked:
	svc	#0
1:	CHECKREC "svc-masked spsr", REC_SPSR, 0xf00003ff, 0x500001d3
	CHECKREC "svc-masked cpsr-on-entry", REC_CPSR, 0x3ff, 0x1d3
	CHECKRECREL "svc-masked lr-insn", REC_LR, svc_arm_masked, 4

	/* 3. SVC from User mode; come back into SVC mode. */
	EXPECT	2f, (M_SVC | PSR_A | PSR_I | PSR_F)
	MOV32	lr, user_code
	mov	r0, #M_USR
	msr	spsr_fsxc, r0
	movs	pc, lr
2:	CHECKREC "svc-usr vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "svc-usr lr-insn", REC_LR, svc_usr, 4
	CHECKREC "svc-usr spsr", REC_SPSR, 0xf00003ff, 0x80000010
	CHECKREC "svc-usr cpsr-on-entry", REC_CPSR, 0x3ff, 0x093
	CHECKREC "svc-usr r0", REC_R0, 0xffffffff, 0x1234
	mrs	r0, cpsr
	CHECKM	"back in svc mode", r0, 0x1f, M_SVC

	/* SVC from SYS mode (privileged, shares the User registers) */
	cps	#M_SYS
	EXPECT	5f
svc_sys:
	svc	#2
5:	cps	#M_SVC
	CHECKREC "svc-sys vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "svc-sys lr-insn", REC_LR, svc_sys, 4
	CHECKREC "svc-sys spsr", REC_SPSR, 0x3ff, 0x1df

	/* 4. SVC in Thumb state. */
	blx	thumb_svc

	/* 5. SVC through a vector table at another VBAR. */
	MOV32	r0, SCRATCH
	MOV32	r1, arm_vectors
	mov	r2, #64
3:	ldr	r3, [r1], #4
	str	r3, [r0], #4
	subs	r2, r2, #4
	bne	3b
	MOV32	r0, (SCRATCH + 32 + 4 * EXC_SVC)
	MOV32	r1, svc_marker		/* this table's own SVC handler */
	str	r1, [r0]
	MOV32	r0, SCRATCH
	mcr	p15, 0, r0, c7, c5, 0	/* ICIALLU: new code was written */
	dsb
	mcr	p15, 0, r0, c12, c0, 0	/* VBAR */
	isb
	mrc	p15, 0, r1, c12, c0, 0
	CHECKREL "vbar readback-ram", r1, RAM_BASE, (SCRATCH - RAM_BASE)
	mov	r0, #0
	mov	r1, #0
svc_vbar:
	svc	#7
	CHECK	"svc-vbar handler ran", r0, 0x5a
	CHECKREL "svc-vbar lr-insn", r1, svc_vbar, 4

	/* 6. SVC as the first instruction of an ITTE EQ block, condition true: SPSR keeps
	   the IT state after it, so the handler's return runs the 'then' and skips the 'else'. */
	mov	r0, #0
	blx	thumb_svc_it
	CHECK	"svc-it handler ran", r0, 0x5a
	CHECK	"svc-it then ran", r3, 6
	CHECK	"svc-it else skipped", r2, 0
	MOV32	r0, arm_vectors
	mcr	p15, 0, r0, c12, c0, 0
	isb

	pop	{r4-r11, lr}
	b	finish

svc_marker:
	mov	r0, #0x5a
	mov	r1, lr
	movs	pc, lr

user_code:
	mov	r0, #0x1234
	msr	APSR_nzcvq, #0x80000000
svc_usr:
	svc	#1
	b	.

	.thumb
	.type thumb_svc_it, %function
	.thumb_func
thumb_svc_it:
	push	{r4, lr}		/* the SVC, taken in SVC mode, overwrites LR */
	movs	r2, #0
	movs	r3, #0
	cmp	r2, r3
	itte	eq
	svceq	#8
	moveq	r3, #6
	movne	r2, #5
	pop	{r4, pc}
	.size thumb_svc_it, . - thumb_svc_it

	.type thumb_svc, %function
	.thumb_func
thumb_svc:
	push	{r4, lr}
	EXPECT	1f
	mov	r0, #0x20000000
	msr	APSR_nzcvq, r0
t_svc:
	svc	#5
1:	CHECKREC "svc-thumb vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "svc-thumb lr-insn", REC_LR, t_svc, 2
	CHECKREC "svc-thumb spsr", REC_SPSR, 0xf00003ff, 0x200001f3
	CHECKREC "svc-thumb cpsr-on-entry", REC_CPSR, 0x3ff, 0x1d3
	MOV32	r0, exc_rec
	ldr	r0, [r0, #REC_LR]
	ldrh	r0, [r0, #-2]
	CHECK	"svc-thumb insn", r0, 0xdf05
	pop	{r4, pc}

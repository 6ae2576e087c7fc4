/*
 * exc_return.S - returning from exceptions, in ARM and in Thumb state (portable).
 *
 * Four return instructions, each from its own kind of exception:
 *   SVC  -> movs pc, lr              (Thumb handler: subs pc, lr, #0)
 *   UND  -> ldmfd sp!, {r0-r3, pc}^  (Thumb handler: srsdb + rfeia)
 *   DABT -> subs pc, lr, #4          (translation fault on a 32-bit LDM, MMU on)
 *   PABT -> srsdb sp!, #ABT + rfeia sp! (BKPT; LR adjusted for Thumb)
 * Every handler increments r0 and clobbers the flags; the interrupted code,
 * in ARM or in Thumb state, checks that it continues at the next
 * instruction in its own state, with r0 incremented and CPSR (flags, mode,
 * masks) restored from SPSR.  The handlers run first in ARM state, then in
 * Thumb state with SCTLR.TE set and VBAR at the Thumb vector table.
 */
#include "guest.h"

.macro CASE name:req, insn:req
	mov	r0, #10
	MOV32	r4, 0x30000000		/* unmapped */
	mov	r1, #0x90000000
	msr	APSR_nzcvq, r1
	\insn
	mrs	r1, apsr
	CHECK	"\name r0", r0, 11
	CHECKM	"\name cpsr", r1, 0xf00001ff, 0x900001d3
.endm

.macro ALL_CASES prefix:req, ldm=ldm
	CASE	"\prefix svc", "svc #3"
	CASE	"\prefix und", "udf #3"
	CASE	"\prefix dabt", "\ldm r4, {r2, r3}"
	CASE	"\prefix pabt", "bkpt #3"
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_return: exception return in ARM and Thumb state"
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_on, L1_A

	SETVEC	EXC_SVC, h_svc
	SETVEC	EXC_UND, h_und
	SETVEC	EXC_DABT, h_dabt
	SETVEC	EXC_PABT, h_pabt
	ALL_CASES "arm-handler arm-code"
	blx	thumb_cases_a

	/* Thumb handlers: SCTLR.TE = 1, vectors from the Thumb table. */
	SETVEC	EXC_SVC, ht_svc
	SETVEC	EXC_UND, ht_und
	SETVEC	EXC_DABT, ht_dabt
	SETVEC	EXC_PABT, ht_pabt
	MOV32	r0, thumb_vectors
	mcr	p15, 0, r0, c12, c0, 0
	mrc	p15, 0, r0, c1, c0, 0
	orr	r0, r0, #SCTLR_TE
	mcr	p15, 0, r0, c1, c0, 0
	isb
	ALL_CASES "thumb-handler arm-code"
	blx	thumb_cases_b

	mrc	p15, 0, r0, c1, c0, 0
	bic	r0, r0, #SCTLR_TE
	mcr	p15, 0, r0, c1, c0, 0
	MOV32	r0, arm_vectors
	mcr	p15, 0, r0, c12, c0, 0
	isb
	RESETVEC EXC_SVC
	RESETVEC EXC_UND
	RESETVEC EXC_DABT
	RESETVEC EXC_PABT
	bl	mmu_off

	pop	{r4-r11, lr}
	b	finish

/* ARM handlers */
h_svc:
	add	r0, r0, #1
	movs	r1, #0			/* clobber the flags */
	movs	pc, lr

h_und:
	stmfd	sp!, {r0-r3, lr}
	ldr	r0, [sp]
	add	r0, r0, #1
	str	r0, [sp]
	movs	r1, #0
	ldmfd	sp!, {r0-r3, pc}^

h_dabt:
	add	r0, r0, #1
	movs	r1, #0
	subs	pc, lr, #4

h_pabt:
	push	{r1}
	mrs	r1, spsr
	tst	r1, #PSR_T
	subne	lr, lr, #2		/* BKPT is 16 bits in Thumb state */
	pop	{r1}
	add	r0, r0, #1
	srsdb	sp!, #M_ABT
	movs	r1, #0
	rfeia	sp!

	.thumb
/* Thumb handlers (entered in Thumb state through thumb_vectors) */
	.type ht_svc, %function
	.thumb_func
ht_svc:
	adds	r0, r0, #1
	movs	r1, #0
	subs	pc, lr, #0

	.type ht_und, %function
	.thumb_func
ht_und:
	srsdb	sp!, #M_UND
	adds	r0, r0, #1
	movs	r1, #0
	rfeia	sp!

	.type ht_dabt, %function
	.thumb_func
ht_dabt:
	adds	r0, r0, #1
	movs	r1, #0
	subs	pc, lr, #4

	.type ht_pabt, %function
	.thumb_func
ht_pabt:
	push	{r1}
	mrs	r1, spsr
	tst	r1, #PSR_T
	it	ne
	subne	lr, lr, #2
	pop	{r1}
	adds	r0, r0, #1
	srsdb	sp!, #M_ABT
	movs	r1, #0
	rfeia	sp!

/* The same cases, interrupted in Thumb state */
	.type thumb_cases_a, %function
	.thumb_func
thumb_cases_a:
	push	{r4, lr}
	ALL_CASES "arm-handler thumb-code", ldm.w
	pop	{r4, pc}

	.type thumb_cases_b, %function
	.thumb_func
thumb_cases_b:
	push	{r4, lr}
	ALL_CASES "thumb-handler thumb-code", ldm.w
	pop	{r4, pc}

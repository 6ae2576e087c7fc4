/*
 * start.S - entry point, stacks, vector tables and the recording exception
 * handlers shared by hvd's test guests.
 *
 * _start runs in a privileged mode with the MMU off (both hvd and QEMU start
 * an ELF that way), masks interrupts, gives every mode a stack, clears
 * SCTLR.{M,A,V,TE}, points VBAR at arm_vectors, clears .bss and calls main.
 * main returns an exit status in r0 (or calls finish / exit itself).
 *
 * Vector tables: arm_vectors (ARM code) and thumb_vectors (Thumb code, for
 * SCTLR.TE = 1) both jump through the same pointer table vec_ptrs, so a test
 * installs a handler once (SETVEC) and bit 0 of its address picks its state.
 * By default every entry points to a recording handler: it saves the entry
 * state in exc_rec and returns to the address armed by EXPECT; an exception
 * nobody expected prints a line and exits with status 98.
 */
#include "guest.h"

	.section .text.start, "ax"
	.arm
	.global _start
	.type _start, %function
_start:
	cpsid	aif
	cps	#M_UND
	MOV32	sp, __stack_und
	cps	#M_ABT
	MOV32	sp, __stack_abt
	cps	#M_IRQ
	MOV32	sp, __stack_irq
	cps	#M_FIQ
	MOV32	sp, __stack_fiq
	cps	#M_SYS			/* also the user-mode stack */
	MOV32	sp, __stack_usr
	cps	#M_SVC
	MOV32	sp, __stack_svc

	mrc	p15, 0, r0, c1, c0, 0
	MOV32	r1, (SCTLR_M | SCTLR_A | SCTLR_V | SCTLR_TE)
	bic	r0, r0, r1
	mcr	p15, 0, r0, c1, c0, 0
	isb
	MOV32	r0, arm_vectors
	mcr	p15, 0, r0, c12, c0, 0	/* VBAR */
	isb

	MOV32	r0, __bss_start
	MOV32	r1, __bss_end
	mov	r2, #0
1:	cmp	r0, r1
	strlo	r2, [r0], #4
	blo	1b

	bl	main
	b	exit
	.size _start, . - _start

/* ------------------------------------------------------------------ */
/* Vector tables.  They live in .data so that tests may copy or patch.  */
	.section .vectors, "awx"
	.balign 32
	.global arm_vectors, vec_ptrs, thumb_vectors
arm_vectors:
	.arm
	.rept 8
	ldr	pc, [pc, #24]		/* entry + 8 + 24 = vec_ptrs[i] */
	.endr
vec_ptrs:
	.word	rec_reset, rec_und, rec_svc, rec_pabt
	.word	rec_dabt, rec_unused, rec_irq, rec_fiq
	.balign 32
thumb_vectors:
	.thumb
	.rept 8
	ldr.w	pc, [pc, #-36]		/* Align(entry + 4) - 36 = vec_ptrs[i] */
	.endr
	.arm

	.data
	.balign 4
	.global exc_rec
exc_rec:
	.space	48

	.text
	.arm
/* reset_vector(r0 = n): put the recording handler back into vec_ptrs[n]. */
	.global reset_vector
	.type reset_vector, %function
reset_vector:
	push	{r1, r2}
	MOV32	r1, default_ptrs
	ldr	r2, [r1, r0, lsl #2]
	MOV32	r1, vec_ptrs
	str	r2, [r1, r0, lsl #2]
	pop	{r1, r2}
	bx	lr
	.size reset_vector, . - reset_vector

	.section .rodata
	.balign 4
default_ptrs:
	.word	rec_reset, rec_und, rec_svc, rec_pabt
	.word	rec_dabt, rec_unused, rec_irq, rec_fiq

	.text
	.arm
	.global rec_und, rec_svc, rec_pabt, rec_dabt, rec_irq, rec_fiq
rec_reset:
	push	{r0-r3, r12}
	mov	r0, #0
	b	rec_common
rec_und:
	push	{r0-r3, r12}
	mov	r0, #EXC_UND
	b	rec_common
rec_svc:
	push	{r0-r3, r12}
	mov	r0, #EXC_SVC
	b	rec_common
rec_pabt:
	push	{r0-r3, r12}
	mov	r0, #EXC_PABT
	b	rec_common
rec_dabt:
	push	{r0-r3, r12}
	mov	r0, #EXC_DABT
	b	rec_common
rec_unused:
	push	{r0-r3, r12}
	mov	r0, #5
	b	rec_common
rec_irq:
	push	{r0-r3, r12}
	mov	r0, #EXC_IRQ
	b	rec_common
rec_fiq:
	push	{r0-r3, r12}
	mov	r0, #EXC_FIQ
	/* fall through */
rec_common:
	MOV32	r1, exc_rec
	mrs	r2, cpsr
	str	r2, [r1, #REC_CPSR]
	str	r0, [r1, #REC_VEC]
	ldr	r2, [r1, #REC_COUNT]
	add	r2, r2, #1
	str	r2, [r1, #REC_COUNT]
	str	lr, [r1, #REC_LR]
	mrs	r2, spsr
	str	r2, [r1, #REC_SPSR]
	mrc	p15, 0, r2, c5, c0, 0
	str	r2, [r1, #REC_DFSR]
	mrc	p15, 0, r2, c6, c0, 0
	str	r2, [r1, #REC_DFAR]
	mrc	p15, 0, r2, c5, c0, 1
	str	r2, [r1, #REC_IFSR]
	mrc	p15, 0, r2, c6, c0, 2
	str	r2, [r1, #REC_IFAR]
	ldr	r2, [sp]
	str	r2, [r1, #REC_R0]
	ldr	r2, [r1, #REC_RESUME]
	cmp	r2, #0
	beq	unexpected
	mov	r3, #0
	str	r3, [r1, #REC_RESUME]
	ldr	r3, [r1, #REC_RCPSR]
	cmp	r3, #0
	msrne	spsr_fsxc, r3
	mov	lr, r2
	pop	{r0-r3, r12}
	movs	pc, lr

/* An exception no test armed: report it relative to RAM_BASE and stop. */
unexpected:
	PRINT	"not ok - unexpected exception vec="
	bl	putdec
	PRINT	" lr-ram="
	ldr	r0, [r1, #REC_LR]
	MOV32	r2, RAM_BASE
	sub	r0, r0, r2
	bl	puthex
	PRINT	" spsr="
	ldr	r0, [r1, #REC_SPSR]
	bl	puthex
	PRINT	" dfsr="
	ldr	r0, [r1, #REC_DFSR]
	bl	puthex
	PRINT	" dfar="
	ldr	r0, [r1, #REC_DFAR]
	bl	puthex
	PRINT	" ifsr="
	ldr	r0, [r1, #REC_IFSR]
	bl	puthex
	PRINT	"\n"
	mov	r0, #98
	b	exit

/*
 * mmu_itfill.S - TLB misses inside Thumb IT blocks (portable).
 *
 * Rule checked (ARMv7-A ARM A8.8.54 IT, B1.3.3 ITSTATE): an instruction after the end of an IT
 * block executes unconditionally, whatever the translation of an access inside the block cost.
 *
 * Each round makes the conditional load inside the IT block miss, then changes the flags and
 * takes an indirect branch to an increment. The first rounds invalidate the TLB (TLBIALL); the
 * others rewrite DACR with its own value, which empties an emulator's TLB without invalidating
 * any translation (hvd answers those misses from its fill cache). Under a shadow MMU the miss
 * is answered by the monitor's fill hook, and Unicorn restores the state of the faulting
 * instruction (IT bits included) before calling it; left behind, those bits make the first
 * instruction after the branch conditional on the block's condition.
 */
#include "guest.h"

#define ROUNDS	64

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_itfill: TLB misses inside Thumb IT blocks"
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_on, L1_A
	mov	r3, #0
	mov	r6, #ROUNDS
	ldr	r4, =thumb_rounds + 1
	bx	r4

	.thumb
	.align	2
	.type	thumb_rounds, %function
thumb_rounds:
	cmp	r6, #(ROUNDS / 2)
	bls	1f
	movs	r0, #0
	mcr	p15, 0, r0, c8, c7, 0	@ TLBIALL: the load below misses
	b	2f
1:	mrc	p15, 0, r0, c3, c0, 0
	mcr	p15, 0, r0, c3, c0, 0	@ DACR, unchanged: no translation changes
2:	dsb
	isb
	ldr	r2, =TPAGE(0)
	ldr	r5, =after_block + 1
	movs	r0, #0			@ Z = 1
	it	eq
	ldreq	r1, [r2]		@ the miss, inside the IT block
	movs	r0, #1			@ Z = 0, outside the block
	bx	r5			@ the next block is looked up with the CPU's IT state
after_block:
	adds	r3, r3, #1		@ unconditional: no IT block is active here
	subs	r6, r6, #1
	bne	thumb_rounds
	ldr	r4, =arm_done
	bx	r4
	.ltorg

	.arm
	.align	2
arm_done:
	CHECK	"increments after misses in IT blocks", r3, ROUNDS
	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish
	.ltorg

/*
 * bench_compute.S - the compute benchmark (hvd bench compute).
 *
 * main turns the MMU on (identity map of the guest's 8 MiB, so hvd's shadow
 * serves the fetches and data accesses), prints "@B" through semihosting,
 * runs bench_loop, prints "@E", the checksum, and exits 0.  The host takes
 * the time between the two markers.
 *
 * bench_loop(r0 = iterations, r1 = 256-byte buffer, TPAGE(0)) -> r0 = checksum is a
 * leaf that hvd bench also runs on raw Unicorn: every iteration executes
 * exactly BENCH_BODY_INSNS instructions (ALU work, one load, one store and
 * the loop branch), so the instruction count is
 * iterations * BENCH_BODY_INSNS + BENCH_FIXED_INSNS, from bench_loop's
 * first instruction to its "bx lr" (included).
 */
#include "guest.h"

#ifndef ITERS
#define ITERS 1000000
#endif

	.text
	.arm
	.global bench_loop, bench_loop_end
	.type bench_loop, %function
bench_loop:
	push	{r4-r6}			/* fixed: 1 */
	mov	r2, #0			/* fixed: 2  accumulator */
	mov	r3, #0			/* fixed: 3  buffer offset */
	MOV32	r6, 0x9e3779b9		/* fixed: 5 */
1:	ldr	r4, [r1, r3]		/* body: 1 */
	add	r2, r2, r4		/* 2 */
	eor	r5, r2, r4, ror #7	/* 3 */
	mul	r4, r5, r6		/* 4 */
	add	r4, r4, r0		/* 5 */
	str	r4, [r1, r3]		/* 6 */
	add	r3, r3, #4		/* 7 */
	and	r3, r3, #0xfc		/* 8 */
	subs	r0, r0, #1		/* 9 */
	bne	1b			/* 10 */
	mov	r0, r2			/* fixed: 6 */
	pop	{r4-r6}			/* fixed: 7 */
bench_loop_end:
	bx	lr			/* fixed: 8 */
	.size bench_loop, . - bench_loop

	.global main
	.type main, %function
main:
	push	{r4, lr}
	CALL3	mmu_base_map, L1_A
	CALL3	mmu_on, L1_A
	PRINT	"@B\n"
	MOV32	r0, ITERS
	MOV32	r1, TPAGE(0)		/* data on its own page: never on a code page */
	bl	bench_loop
	mov	r4, r0
	PRINT	"@E\n"
	PRINT	"checksum="
	mov	r0, r4
	bl	puthex
	PRINT	"\n"
	bl	mmu_off
	mov	r0, #0
	pop	{r4, pc}
	.size main, . - main

/*
 * print.S - output and exit through ARM semihosting (A-profile: SVC 0x123456
 * in ARM state, from a privileged mode), plus the self-check helper used by
 * the CHECK macros.  All routines are ARM code; they preserve every register
 * except those documented, so the CHECK/PRINT macros can be used anywhere,
 * also in exception handlers.  They are reached from Thumb code through BLX.
 */
#include "guest.h"

#define SYS_WRITEC          0x03
#define SYS_WRITE0          0x04
#define SYS_EXIT            0x18
#define SYS_EXIT_EXTENDED   0x20
#define ADP_Stopped_ApplicationExit 0x20026

	.text
	.arm

/* semihost(r0 = operation, r1 = argument) -> r0 */
	.global semihost
	.type semihost, %function
semihost:
	svc	#SEMI_SWI
	bx	lr
	.size semihost, . - semihost

/* puts(r0 = NUL-terminated string).  Preserves all registers. */
	.global puts
	.type puts, %function
puts:
	push	{r0, r1, lr}
	mov	r1, r0
	mov	r0, #SYS_WRITE0
	svc	#SEMI_SWI
	pop	{r0, r1, pc}
	.size puts, . - puts

/* putc(r0 = character).  Preserves all registers. */
	.global putc
	.type putc, %function
putc:
	push	{r0, r1, lr}
	mov	r1, sp			/* the low byte of the saved r0 */
	mov	r0, #SYS_WRITEC
	svc	#SEMI_SWI
	pop	{r0, r1, pc}
	.size putc, . - putc

/* puthex(r0): print "0x" and 8 hex digits.  Preserves all registers. */
	.global puthex
	.type puthex, %function
puthex:
	push	{r0-r4, lr}
	sub	sp, sp, #12
	mov	r1, #'0'
	strb	r1, [sp]
	mov	r1, #'x'
	strb	r1, [sp, #1]
	add	r2, sp, #9
	mov	r1, #0
	strb	r1, [r2, #1]
	mov	r3, #8
1:	and	r1, r0, #15
	cmp	r1, #10
	addlo	r1, r1, #'0'
	addhs	r1, r1, #('a' - 10)
	strb	r1, [r2], #-1
	lsr	r0, r0, #4
	subs	r3, r3, #1
	bne	1b
	mov	r0, sp
	bl	puts
	add	sp, sp, #12
	pop	{r0-r4, pc}
	.size puthex, . - puthex

/* putdec(r0): print an unsigned decimal number.  Preserves all registers. */
	.global putdec
	.type putdec, %function
putdec:
	push	{r0-r4, lr}
	sub	sp, sp, #16
	add	r2, sp, #15
	mov	r1, #0
	strb	r1, [r2]
	MOV32	r4, 0xcccccccd		/* divide by 10: (x * 0xcccccccd) >> 35 */
1:	umull	r3, r1, r0, r4
	lsr	r1, r1, #3		/* r1 = r0 / 10 */
	add	r3, r1, r1, lsl #2
	sub	r3, r0, r3, lsl #1	/* r3 = r0 % 10 */
	add	r3, r3, #'0'
	strb	r3, [r2, #-1]!
	movs	r0, r1
	bne	1b
	mov	r0, r2
	bl	puts
	add	sp, sp, #16
	pop	{r0-r4, pc}
	.size putdec, . - putdec

/*
 * check_eq(r0 = description, r1 = value, r2 = expected): print one TAP line,
 * "ok N - desc=0xVALUE" or "not ok N - desc=0xVALUE expected 0xEXPECTED",
 * and count failures.  Clobbers r0-r3, ip (the macros save them).
 */
	.global check_eq
	.type check_eq, %function
check_eq:
	push	{r4-r6, lr}
	mov	r4, r0
	mov	r5, r1
	mov	r6, r2
	MOV32	r3, test_count
	ldr	r0, [r3]
	add	r0, r0, #1
	str	r0, [r3]
	cmp	r5, r6
	beq	1f
	MOV32	r3, fail_count
	ldr	r0, [r3]
	add	r0, r0, #1
	str	r0, [r3]
	MOV32	r0, s_not
	bl	puts
1:	MOV32	r0, s_ok
	bl	puts
	MOV32	r3, test_count
	ldr	r0, [r3]
	bl	putdec
	MOV32	r0, s_dash
	bl	puts
	mov	r0, r4
	bl	puts
	mov	r0, #'='
	bl	putc
	mov	r0, r5
	bl	puthex
	cmp	r5, r6
	beq	2f
	MOV32	r0, s_expected
	bl	puts
	mov	r0, r6
	bl	puthex
2:	mov	r0, #'\n'
	bl	putc
	pop	{r4-r6, pc}
	.size check_eq, . - check_eq

/* finish(): print the summary line and exit with 0 (all passed) or 1. */
	.global finish
	.type finish, %function
finish:
	MOV32	r0, s_plan
	bl	puts
	MOV32	r3, test_count
	ldr	r0, [r3]
	bl	putdec
	MOV32	r0, s_failed
	bl	puts
	MOV32	r3, fail_count
	ldr	r0, [r3]
	bl	putdec
	mov	r0, #'\n'
	bl	putc
	MOV32	r3, fail_count
	ldr	r0, [r3]
	cmp	r0, #0
	movne	r0, #1
	/* fall through */
	.size finish, . - finish

/* exit(r0 = status): SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit. */
	.global exit
	.type exit, %function
exit:
	sub	sp, sp, #8
	MOV32	r1, ADP_Stopped_ApplicationExit
	str	r1, [sp]
	str	r0, [sp, #4]
	mov	r1, sp
	mov	r0, #SYS_EXIT_EXTENDED
	svc	#SEMI_SWI
	/* Semihosting is off or ignored the call: park. */
1:	wfi
	b	1b
	.size exit, . - exit

	.section .rodata
s_not:		.asciz "not "
s_ok:		.asciz "ok "
s_dash:		.asciz " - "
s_expected:	.asciz " expected "
s_plan:		.asciz "# checks "
s_failed:	.asciz ", failed "

	.bss
	.balign 4
	.global test_count, fail_count
test_count:	.space 4
fail_count:	.space 4

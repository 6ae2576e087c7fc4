/*
 * demo.S - the demo guest `make run` boots until Linux replaces it
 * (BeagleBoard-xM only).
 *
 * Prints a banner on UART3, programs GPTIMER1 (32768 Hz) for overflow
 * interrupts at 1 Hz with auto-reload (TLDR = 0xffff8000), unmasks its
 * line 37 in the INTC, and idles in WFI; each interrupt is acknowledged
 * (TISR, then INTC CONTROL.NEWIRQAGR) and the main loop prints a tick line.
 * After demo_ticks ticks (0 = forever; build with -DDEMO_TICKS=n or patch
 * the word) it exits through semihosting; without semihosting it stops the
 * timer and sleeps forever.
 */
#include "guest.h"
#include "omap3.h"

#ifndef DEMO_TICKS
#define DEMO_TICKS 0
#endif

	.data
	.balign 4
	.global demo_ticks
demo_ticks:	.word DEMO_TICKS
ticks:		.word 0
semi_missing:	.word 0

	.text
	.arm
	.global main
	.type main, %function
main:
	SETVEC	EXC_IRQ, irq_handler
	SETVEC	EXC_SVC, svc_handler
	MOV32	r0, s_banner
	bl	uart_puts

	/* INTC: unmask GPTIMER1's line */
	MOV32	r4, INTC_BASE
	mov	r0, #(1 << (GPT1_IRQ - 32))
	str	r0, [r4, #INTC_MIR_CLEAR(1)]

	/* GPTIMER1: stop, non-posted, load 0xffff8000, overflow interrupt, start + autoreload */
	MOV32	r5, GPT1_BASE
	mov	r0, #0
	str	r0, [r5, #GPT_TCLR]
	str	r0, [r5, #GPT_TSICR]
	MOV32	r0, 0xffff8000
	str	r0, [r5, #GPT_TLDR]
	str	r0, [r5, #GPT_TCRR]
	mov	r0, #7
	str	r0, [r5, #GPT_TISR]
	mov	r0, #GPT_OVF
	str	r0, [r5, #GPT_TIER]
	mov	r0, #(TCLR_ST | TCLR_AR)
	str	r0, [r5, #GPT_TCLR]

	MOV32	r6, ticks
	mov	r7, #0			/* ticks printed */
idle:
	cpsid	i
	ldr	r0, [r6]
	cmp	r0, r7
	bne	1f
	wfi				/* wakes on a pending interrupt even while masked */
	cpsie	i
	b	idle
1:	cpsie	i
	add	r7, r7, #1
	MOV32	r0, s_tick
	bl	uart_puts
	mov	r0, r7
	bl	uart_putdec
	MOV32	r0, s_nl
	bl	uart_puts
	MOV32	r0, demo_ticks
	ldr	r0, [r0]
	cmp	r0, #0
	beq	idle
	cmp	r7, r0
	blo	idle

	MOV32	r0, s_bye
	bl	uart_puts
	mov	r0, #0
	str	r0, [r5, #GPT_TCLR]	/* stop the timer */
	bl	exit			/* returns only when semihosting is off */
	cpsid	if
2:	wfi
	b	2b

/* IRQ: acknowledge GPTIMER1, count the tick, let the INTC sort the next one. */
irq_handler:
	sub	lr, lr, #4
	push	{r0-r3, r12, lr}
	MOV32	r0, INTC_BASE
	ldr	r1, [r0, #INTC_SIR_IRQ]
	and	r1, r1, #0x7f
	cmp	r1, #GPT1_IRQ
	bne	1f
	MOV32	r2, GPT1_BASE
	ldr	r3, [r2, #GPT_TISR]
	str	r3, [r2, #GPT_TISR]
	MOV32	r2, ticks
	ldr	r3, [r2]
	add	r3, r3, #1
	str	r3, [r2]
1:	mov	r1, #1
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r3, r12, pc}^

/* An SVC reaching the guest means semihosting is off: note it and return. */
svc_handler:
	push	{r0}
	MOV32	r0, semi_missing
	str	r0, [r0]
	pop	{r0}
	movs	pc, lr

/* uart_puts(r0 = string): polled output on UART3.  Clobbers r0-r2. */
	.global uart_puts
uart_puts:
	MOV32	r1, UART3_BASE
1:	ldrb	r2, [r0], #1
	cmp	r2, #0
	bxeq	lr
2:	ldr	r3, [r1, #UART_LSR]
	tst	r3, #LSR_TXFE
	beq	2b
	str	r2, [r1, #UART_THR]
	b	1b

/* uart_putdec(r0): unsigned decimal on UART3. */
uart_putdec:
	push	{r4, lr}
	sub	sp, sp, #16
	add	r2, sp, #15
	mov	r1, #0
	strb	r1, [r2]
	MOV32	r4, 0xcccccccd
1:	umull	r3, r1, r0, r4
	lsr	r1, r1, #3
	add	r3, r1, r1, lsl #2
	sub	r3, r0, r3, lsl #1
	add	r3, r3, #'0'
	strb	r3, [r2, #-1]!
	movs	r0, r1
	bne	1b
	mov	r0, r2
	bl	uart_puts
	add	sp, sp, #16
	pop	{r4, pc}

	.section .rodata
s_banner:	.asciz "\r\nhvd demo guest: bare metal on a virtual BeagleBoard-xM\r\nGPTIMER1 interrupts at 1 Hz (IRQ 37 through the INTC), idling in WFI\r\n"
s_tick:		.asciz "tick "
s_nl:		.asciz "\r\n"
s_bye:		.asciz "demo done\r\n"

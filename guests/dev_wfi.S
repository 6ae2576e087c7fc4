/*
 * dev_wfi.S - an idle guest (BeagleBoard-xM only): sleeps SLEEP_MS
 * (default 2000) milliseconds of virtual time in WFI, woken by a GPTIMER1
 * one-shot overflow interrupt, and checks with the 32-kHz sync counter that
 * the sleep lasted as long as programmed.  The test measures the host CPU
 * time hvd spends meanwhile: an idle guest must cost (almost) none.
 */
#include "guest.h"
#include "omap3.h"

#ifndef SLEEP_MS
#define SLEEP_MS 2000
#endif
#define SLEEP_TICKS ((SLEEP_MS * 32768) / 1000)

	.bss
	.balign 4
woken:		.space 4

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"dev_wfi: sleeping in WFI until a timer interrupt"
	SETVEC	EXC_IRQ, irq_handler
	MOV32	r4, GPT1_BASE
	MOV32	r5, SYNC32K_CR
	mov	r0, #0
	str	r0, [r4, #GPT_TCLR]
	str	r0, [r4, #GPT_TSICR]
	mov	r0, #7
	str	r0, [r4, #GPT_TISR]
	mov	r0, #GPT_OVF
	str	r0, [r4, #GPT_TIER]
	MOV32	r0, INTC_BASE
	mov	r1, #(1 << (GPT1_IRQ - 32))
	str	r1, [r0, #INTC_MIR_CLEAR(1)]
	MOV32	r0, (0 - SLEEP_TICKS)
	str	r0, [r4, #GPT_TCRR]
	MOV32	r8, woken
	ldr	r6, [r5]
	mov	r0, #TCLR_ST
	str	r0, [r4, #GPT_TCLR]
1:	cpsid	i
	ldr	r0, [r8]
	cmp	r0, #0
	bne	2f
	wfi
	cpsie	i
	b	1b
2:	ldr	r7, [r5]
	cpsie	i
	sub	r0, r7, r6
	NOTEVAL	"sync ticks slept", r0
	MOV32	r1, (SLEEP_TICKS - 2)
	MOV32	r2, (SLEEP_TICKS + SLEEP_TICKS / 2 + 64)
	cmp	r0, r1
	blo	3f
	cmp	r0, r2
	bhi	3f
	mov	r0, #1
	b	4f
3:	mov	r0, #0
4:	CHECK	"slept the programmed time", r0, 1
	MOV32	r0, INTC_BASE
	mov	r1, #(1 << (GPT1_IRQ - 32))
	str	r1, [r0, #INTC_MIR_SET(1)]
	pop	{r4-r11, lr}
	b	finish

irq_handler:
	sub	lr, lr, #4
	push	{r0-r3, lr}
	MOV32	r0, INTC_BASE
	ldr	r1, [r0, #INTC_SIR_IRQ]
	and	r1, r1, #0x7f
	cmp	r1, #GPT1_IRQ
	bne	1f
	MOV32	r2, GPT1_BASE
	ldr	r3, [r2, #GPT_TISR]
	str	r3, [r2, #GPT_TISR]
	MOV32	r2, woken
	mov	r3, #1
	str	r3, [r2]
1:	mov	r1, #1
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r3, pc}^

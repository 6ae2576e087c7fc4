/*
 * dev_timer.S - GPTIMER1 against the 32-kHz sync counter (BeagleBoard-xM only).
 *
 * GPTIMER1 counts its 32768 Hz functional clock, the same clock as the
 * sync counter at 0x4832_0010, so elapsed sync-counter ticks measure the
 * timer's virtual rate.  Checked: one-shot overflow (TISR.OVF, ST cleared,
 * counter left at 0), compare match (TMAR, TCLR.CE, TISR.MAT), prescaler
 * (PRE, PTV = 0: divide by 2), TTGR reload, and auto-reload overflow
 * interrupts through the INTC (line 37) at the right rate.  Rates are
 * checked against windows (-0.5% .. +50%) that allow for a loaded host but
 * catch a wrong rate; the check lines print only whether a measurement was
 * inside its window, "#" lines show the measurements.
 */
#include "guest.h"
#include "omap3.h"

	.bss
	.balign 4
irqs:		.space 4

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"dev_timer: GPTIMER1 rate, overflow, match, prescaler, autoreload"
	SETVEC	EXC_IRQ, irq_handler
	MOV32	r4, GPT1_BASE
	MOV32	r5, SYNC32K_CR
	mov	r0, #0
	str	r0, [r4, #GPT_TCLR]
	str	r0, [r4, #GPT_TSICR]	/* non-posted */
	str	r0, [r4, #GPT_TIER]
	mov	r0, #7
	str	r0, [r4, #GPT_TISR]

	NOTE	"the counters count"
	ldr	r6, [r5]
	bl	delay
	ldr	r7, [r5]
	sub	r0, r7, r6
	cmp	r0, #0
	movne	r0, #1
	CHECK	"sync counter advances", r0, 1
	MOV32	r0, 0xffff0000
	str	r0, [r4, #GPT_TCRR]
	mov	r0, #TCLR_ST
	str	r0, [r4, #GPT_TCLR]
	bl	delay
	ldr	r0, [r4, #GPT_TCRR]
	MOV32	r1, 0xffff0000
	cmp	r0, r1
	movhi	r0, #1
	movls	r0, #0
	CHECK	"tcrr advances", r0, 1
	mov	r0, #0
	str	r0, [r4, #GPT_TCLR]

	NOTE	"one-shot overflow after 8192 ticks"
	MOV32	r0, (0 - 8192)
	mov	r1, #TCLR_ST
	bl	run_until_ovf
	NOTEVAL	"sync ticks", r0
	MOV32	r1, 8150
	MOV32	r2, 12288
	bl	within
	CHECK	"overflow after 8192 ticks", r0, 1
	ldr	r0, [r4, #GPT_TISR]
	CHECKM	"tisr.ovf", r0, GPT_OVF, GPT_OVF
	ldr	r0, [r4, #GPT_TCLR]
	CHECKM	"one-shot cleared st", r0, TCLR_ST, 0
	ldr	r0, [r4, #GPT_TCRR]
	CHECK	"one-shot counter stays 0", r0, 0
	mov	r0, #GPT_OVF
	str	r0, [r4, #GPT_TISR]
	ldr	r0, [r4, #GPT_TISR]
	CHECKM	"tisr write 1 clears", r0, GPT_OVF, 0

	NOTE	"prescaler: PRE = 1, PTV = 0 divides by 2"
	MOV32	r0, (0 - 4096)
	mov	r1, #(TCLR_ST | TCLR_PRE | TCLR_PTV(0))
	bl	run_until_ovf
	NOTEVAL	"sync ticks", r0
	MOV32	r1, 8150
	MOV32	r2, 12288
	bl	within
	CHECK	"prescaled 4096 counts take 8192 ticks", r0, 1
	mov	r0, #7
	str	r0, [r4, #GPT_TISR]

	NOTE	"compare match after 4096 of 8192 ticks"
	MOV32	r0, (0 - 4096)
	str	r0, [r4, #GPT_TMAR]
	MOV32	r0, (0 - 8192)
	str	r0, [r4, #GPT_TCRR]
	ldr	r6, [r5]
	mov	r0, #(TCLR_ST | TCLR_CE)
	str	r0, [r4, #GPT_TCLR]
	MOV32	r2, 50000000
1:	ldr	r0, [r4, #GPT_TISR]
	tst	r0, #GPT_MAT
	bne	2f
	subs	r2, r2, #1
	bne	1b
2:	ldr	r7, [r5]
	sub	r0, r7, r6
	NOTEVAL	"sync ticks", r0
	MOV32	r1, 4060
	MOV32	r2, 6144
	bl	within
	CHECK	"match after 4096 ticks", r0, 1
	ldr	r0, [r4, #GPT_TISR]
	CHECKM	"no overflow yet at the match", r0, GPT_OVF, 0
	mov	r0, #0
	str	r0, [r4, #GPT_TCLR]
	mov	r0, #7
	str	r0, [r4, #GPT_TISR]

	NOTE	"TTGR reloads TCRR from TLDR"
	MOV32	r0, 0xfffe0000
	str	r0, [r4, #GPT_TLDR]
	MOV32	r0, 0x12345678
	str	r0, [r4, #GPT_TCRR]
	str	r0, [r4, #GPT_TTGR]
	ldr	r0, [r4, #GPT_TCRR]
	CHECK	"tcrr after ttgr", r0, 0xfffe0000

	NOTE	"auto-reload: 8 overflow interrupts of 4096 ticks"
	MOV32	r0, 0xfffff000
	str	r0, [r4, #GPT_TLDR]
	str	r0, [r4, #GPT_TCRR]
	mov	r0, #GPT_OVF
	str	r0, [r4, #GPT_TIER]
	MOV32	r0, INTC_BASE
	mov	r1, #(1 << (GPT1_IRQ - 32))
	str	r1, [r0, #INTC_MIR_CLEAR(1)]
	MOV32	r8, irqs
	mov	r0, #0
	str	r0, [r8]
	ldr	r6, [r5]
	mov	r0, #(TCLR_ST | TCLR_AR)
	str	r0, [r4, #GPT_TCLR]
3:	cpsid	i
	ldr	r0, [r8]
	cmp	r0, #8
	bhs	4f
	wfi
	cpsie	i
	b	3b
4:	ldr	r7, [r5]
	cpsie	i
	ldr	r0, [r4, #GPT_TCRR]
	MOV32	r1, 0xfffff000
	cmp	r0, r1
	movhs	r0, #1
	movlo	r0, #0
	CHECK	"reloaded counter >= tldr", r0, 1
	mov	r0, #0
	str	r0, [r4, #GPT_TCLR]
	str	r0, [r4, #GPT_TIER]
	sub	r0, r7, r6
	NOTEVAL	"sync ticks for 8 overflows", r0
	MOV32	r1, 32700
	MOV32	r2, 49152
	bl	within
	CHECK	"8 overflows in 32768 ticks", r0, 1

	MOV32	r0, INTC_BASE
	mov	r1, #(1 << (GPT1_IRQ - 32))
	str	r1, [r0, #INTC_MIR_SET(1)]
	pop	{r4-r11, lr}
	b	finish

/* run_until_ovf(r0 = TCRR start, r1 = TCLR) -> r0 = sync ticks until TISR.OVF. */
run_until_ovf:
	push	{r6, r7}
	str	r0, [r4, #GPT_TCRR]
	mov	r0, #7
	str	r0, [r4, #GPT_TISR]
	ldr	r6, [r5]
	str	r1, [r4, #GPT_TCLR]
	MOV32	r2, 50000000
1:	ldr	r0, [r4, #GPT_TISR]
	tst	r0, #GPT_OVF
	bne	2f
	subs	r2, r2, #1
	bne	1b
2:	ldr	r7, [r5]
	sub	r0, r7, r6
	pop	{r6, r7}
	bx	lr

/* within(r0 = value, r1 = low, r2 = high) -> r0 = 1 if low <= value <= high. */
within:
	cmp	r0, r1
	blo	1f
	cmp	r0, r2
	bhi	1f
	mov	r0, #1
	bx	lr
1:	mov	r0, #0
	bx	lr

delay:
	push	{r0}
	MOV32	r0, 2000000
1:	subs	r0, r0, #1
	bne	1b
	pop	{r0}
	bx	lr

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
	MOV32	r2, irqs
	ldr	r3, [r2]
	add	r3, r3, #1
	str	r3, [r2]
1:	mov	r1, #1
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r3, pc}^

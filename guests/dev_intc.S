/*
 * dev_intc.S - the DM3730 interrupt controller (BeagleBoard-xM only).
 *
 * Software interrupts through ISR_SET: masking (MIR, MIR_SET, MIR_CLEAR,
 * PENDING_IRQ), delivery to the CPU and acknowledgement (SIR_IRQ
 * ACTIVEIRQ, ISR_CLEAR, CONTROL.NEWIRQAGR), priorities (ILR), the priority
 * threshold, FIQ routing (ILR.FIQNIRQ, SIR_FIQ, NEWFIQAGR), IRQ and FIQ
 * exception entry (CPSR mode and A/I/F, SPSR, LR = next instruction + 4,
 * within the loop that waited), CPSR.I keeping
 * a pending interrupt waiting, and the soft reset (SYSSTATUS.RESETDONE).
 * The INTC sorts when a line becomes pending or unmasked and keeps its
 * winner in SIR_IRQ until NEWIRQAGR, so competing lines are made pending
 * while masked and unmasked by one MIR_CLEAR write.
 */
#include "guest.h"
#include "omap3.h"

	.bss
	.balign 4
irq_count:	.space 4
fiq_count:	.space 4
irq_log:	.space 64
last_fiq:	.space 4
irq_entry:	.space 12	/* CPSR, SPSR, LR at the last IRQ entry */
fiq_entry:	.space 12	/* the same for FIQ */

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"dev_intc: INTC masking, priorities, threshold, FIQ"
	SETVEC	EXC_IRQ, irq_handler
	SETVEC	EXC_FIQ, fiq_handler
	MOV32	r4, INTC_BASE

	/* soft reset */
	mov	r0, #2
	str	r0, [r4, #INTC_SYSCONFIG]
	MOV32	r1, 100000
1:	ldr	r0, [r4, #INTC_SYSSTATUS]
	tst	r0, #1
	bne	2f
	subs	r1, r1, #1
	bne	1b
2:	CHECKM	"sysstatus.resetdone", r0, 1, 1
	ldr	r0, [r4, #INTC_MIR(0)]
	CHECK	"mir0 after reset", r0, 0xffffffff
	ldr	r0, [r4, #INTC_MIR(2)]
	CHECK	"mir2 after reset", r0, 0xffffffff

	NOTE	"a masked line is not pending"
	cpsie	i
	mov	r0, #(1 << 10)
	str	r0, [r4, #INTC_ISR_SET(0)]
	dsb
	bl	delay
	ldr	r0, [r4, #INTC_PENDING_IRQ(0)]
	CHECK	"pending_irq0 while masked", r0, 0
	bl	count_irqs
	CHECK	"irqs while masked", r0, 0

	NOTE	"unmasking delivers it"
	cpsie	a
	mov	r0, #(1 << 10)
	MOV32	r1, irq_count
	MOV32	r2, 50000000
irq_window:
	str	r0, [r4, #INTC_MIR_CLEAR(0)]	/* the IRQ comes after this store ... */
	dsb
1:	ldr	r3, [r1]
	cmp	r3, #1
	bhs	2f
	subs	r2, r2, #1
	bne	1b
2:	nop				/* ... and before this instruction completes */
irq_window_end:
	cpsid	a
	bl	delay
	MOV32	r6, irq_entry
	ldr	r0, [r6]
	CHECKM	"irq entry cpsr", r0, 0x3ff, 0x1d2
	ldr	r0, [r6, #4]
	CHECKM	"irq entry spsr", r0, 0x3ff, 0x053
	ldr	r0, [r6, #8]
	sub	r0, r0, #4
	MOV32	r1, irq_window
	MOV32	r2, irq_window_end
	cmp	r0, r1
	blo	8f
	cmp	r0, r2
	bhs	8f
	mov	r0, #1
	b	9f
8:	mov	r0, #0
9:	CHECK	"irq entry lr-4 inside the wait loop", r0, 1
	bl	count_irqs
	CHECK	"irqs after mir_clear", r0, 1
	MOV32	r5, irq_log
	ldr	r0, [r5]
	CHECK	"activeirq", r0, 10
	ldr	r0, [r4, #INTC_MIR(0)]
	CHECK	"mir0 after mir_clear", r0, ~(1 << 10)
	ldr	r0, [r4, #INTC_PENDING_IRQ(0)]
	CHECK	"pending_irq0 after ack", r0, 0

	NOTE	"CPSR.I holds a pending interrupt back"
	cpsid	i
	mov	r0, #(1 << 10)
	str	r0, [r4, #INTC_ISR_SET(0)]
	dsb
	bl	delay
	ldr	r0, [r4, #INTC_PENDING_IRQ(0)]
	CHECK	"pending_irq0 with cpsr.i", r0, (1 << 10)
	ldr	r0, [r4, #INTC_SIR_IRQ]
	CHECKM	"sir_irq with cpsr.i", r0, 0x7f, 10
	bl	count_irqs
	CHECK	"irqs with cpsr.i", r0, 0
	cpsie	i
	mov	r0, #1
	bl	wait_irqs
	bl	count_irqs
	CHECK	"irqs after cpsie", r0, 1

	NOTE	"mir_set masks again"
	mov	r0, #(1 << 10)
	str	r0, [r4, #INTC_MIR_SET(0)]
	str	r0, [r4, #INTC_ISR_SET(0)]
	dsb
	bl	delay
	bl	count_irqs
	CHECK	"irqs after mir_set", r0, 0
	mov	r0, #(1 << 10)
	str	r0, [r4, #INTC_ISR_CLEAR(0)]
	str	r0, [r4, #INTC_MIR_CLEAR(0)]
	bl	delay
	bl	count_irqs
	CHECK	"irqs after isr_clear + unmask", r0, 0

	NOTE	"priorities: the lower ILR priority value wins"
	cpsid	i
	mov	r0, #(10 << 2)
	str	r0, [r4, #INTC_ILR(20)]
	mov	r0, #(5 << 2)
	str	r0, [r4, #INTC_ILR(30)]
	mov	r0, #(20 << 2)
	str	r0, [r4, #INTC_ILR(40)]		/* bank 1, priority 20 */
	/* all three pending while masked, then unmasked together: one sorting sees them all */
	mov	r0, #(1 << 8)
	str	r0, [r4, #INTC_ISR_SET(1)]
	MOV32	r0, ((1 << 20) | (1 << 30))
	str	r0, [r4, #INTC_ISR_SET(0)]
	dsb
	str	r0, [r4, #INTC_MIR_CLEAR(0)]
	mov	r0, #(1 << 8)
	str	r0, [r4, #INTC_MIR_CLEAR(1)]
	dsb
	bl	delay
	ldr	r0, [r4, #INTC_SIR_IRQ]
	CHECKM	"sir_irq highest priority", r0, 0x7f, 30
	bl	count_irqs
	cpsie	i
	mov	r0, #3
	bl	wait_irqs
	bl	count_irqs
	CHECK	"irqs taken", r0, 3
	ldr	r0, [r5]
	CHECK	"first", r0, 30
	ldr	r0, [r5, #4]
	CHECK	"second", r0, 20
	ldr	r0, [r5, #8]
	CHECK	"third", r0, 40

	NOTE	"threshold: only priorities above it (lower values) pass"
	cpsid	i
	mov	r0, #8
	str	r0, [r4, #INTC_THRESHOLD]
	MOV32	r0, ((1 << 20) | (1 << 30))
	str	r0, [r4, #INTC_ISR_SET(0)]
	dsb
	bl	count_irqs
	cpsie	i
	mov	r0, #1
	bl	wait_irqs
	bl	count_irqs
	CHECK	"irqs under threshold 8", r0, 1
	ldr	r0, [r5]
	CHECK	"passed threshold", r0, 30
	mov	r0, #0xff
	str	r0, [r4, #INTC_THRESHOLD]
	dsb
	mov	r0, #1
	bl	wait_irqs
	bl	count_irqs
	CHECK	"irqs with threshold off", r0, 1
	ldr	r0, [r5]
	CHECK	"released", r0, 20

	NOTE	"FIQ routing"
	mov	r0, #((12 << 2) | 1)
	str	r0, [r4, #INTC_ILR(50)]		/* bank 1 bit 18 -> FIQ */
	mov	r0, #(1 << 18)
	str	r0, [r4, #INTC_MIR_CLEAR(1)]
	str	r0, [r4, #INTC_ISR_SET(1)]
	dsb
	bl	delay
	ldr	r0, [r4, #INTC_PENDING_FIQ(1)]
	CHECK	"pending_fiq1 with cpsr.f", r0, (1 << 18)
	ldr	r0, [r4, #INTC_PENDING_IRQ(1)]
	CHECKM	"pending_irq1 for a fiq line", r0, (1 << 18), 0
	bl	count_irqs
	CHECK	"irqs for a fiq line", r0, 0
	cpsie	af
	mov	r0, #1
	bl	wait_fiqs
	cpsid	af
	MOV32	r6, fiq_entry
	ldr	r0, [r6]
	CHECKM	"fiq entry cpsr", r0, 0x3ff, 0x1d1
	ldr	r0, [r6, #4]
	CHECKM	"fiq entry spsr", r0, 0x3ff, 0x013
	MOV32	r0, fiq_count
	ldr	r0, [r0]
	CHECK	"fiqs taken", r0, 1
	MOV32	r0, last_fiq
	ldr	r0, [r0]
	CHECK	"sir_fiq", r0, 50

	cpsid	if
	mov	r0, #0
	str	r0, [r4, #INTC_ILR(50)]
	mvn	r0, #0
	str	r0, [r4, #INTC_MIR_SET(0)]
	str	r0, [r4, #INTC_MIR_SET(1)]
	str	r0, [r4, #INTC_MIR_SET(2)]
	pop	{r4-r11, lr}
	b	finish

/* count_irqs() -> r0 = IRQs since the last call (the log restarts). */
count_irqs:
	MOV32	r1, irq_count
	ldr	r0, [r1]
	mov	r2, #0
	str	r2, [r1]
	bx	lr

/* delay(): about a million instructions: time for an interrupt that should
 * not come to show up anyway. */
delay:
	push	{r0}
	MOV32	r0, 500000
1:	subs	r0, r0, #1
	bne	1b
	pop	{r0}
	bx	lr

/* wait_irqs(r0 = n): spin (bounded) until n IRQs have been taken, then the
 * delay, so that one too many would show up as well.  Preserves r0-r3. */
wait_irqs:
	push	{r0-r3, lr}
	MOV32	r1, irq_count
	MOV32	r2, 50000000
1:	ldr	r3, [r1]
	cmp	r3, r0
	bhs	2f
	subs	r2, r2, #1
	bne	1b
2:	bl	delay
	pop	{r0-r3, pc}

/* wait_fiqs(r0 = n): the same for FIQs. */
wait_fiqs:
	push	{r0-r3, lr}
	MOV32	r1, fiq_count
	MOV32	r2, 50000000
1:	ldr	r3, [r1]
	cmp	r3, r0
	bhs	2f
	subs	r2, r2, #1
	bne	1b
2:	bl	delay
	pop	{r0-r3, pc}

/* IRQ: log ACTIVEIRQ, clear the software interrupt, NEWIRQAGR. */
irq_handler:
	push	{r0-r4, lr}
	MOV32	r0, irq_entry
	mrs	r1, cpsr
	mrs	r2, spsr
	stm	r0, {r1, r2, lr}
	pop	{r0-r4, lr}
	sub	lr, lr, #4
	push	{r0-r4, lr}
	MOV32	r0, INTC_BASE
	ldr	r1, [r0, #INTC_SIR_IRQ]
	and	r1, r1, #0x7f
	MOV32	r2, irq_count
	ldr	r3, [r2]
	cmp	r3, #16
	bhs	1f
	MOV32	r4, irq_log
	str	r1, [r4, r3, lsl #2]
1:	add	r3, r3, #1
	str	r3, [r2]
	lsr	r2, r1, #5		/* bank */
	and	r3, r1, #31
	mov	r4, #1
	lsl	r4, r4, r3
	add	r2, r0, r2, lsl #5
	str	r4, [r2, #INTC_ISR_CLEAR(0)]
	mov	r1, #1
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r4, pc}^

/* FIQ: record SIR_FIQ, clear, NEWFIQAGR. */
fiq_handler:
	push	{r0-r4, lr}
	MOV32	r0, fiq_entry
	mrs	r1, cpsr
	mrs	r2, spsr
	stm	r0, {r1, r2, lr}
	pop	{r0-r4, lr}
	sub	lr, lr, #4
	push	{r0-r4, lr}
	MOV32	r0, INTC_BASE
	ldr	r1, [r0, #INTC_SIR_FIQ]
	and	r1, r1, #0x7f
	MOV32	r2, last_fiq
	str	r1, [r2]
	MOV32	r2, fiq_count
	ldr	r3, [r2]
	add	r3, r3, #1
	str	r3, [r2]
	lsr	r2, r1, #5
	and	r3, r1, #31
	mov	r4, #1
	lsl	r4, r4, r3
	add	r2, r0, r2, lsl #5
	str	r4, [r2, #INTC_ISR_CLEAR(0)]
	mov	r1, #2
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r4, pc}^

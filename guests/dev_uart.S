/*
 * dev_uart.S - UART3 with RX and TX interrupts (BeagleBoard-xM only).
 *
 * An echo guest: it initialises UART3 (MDR1, LCR divisor latch, FCR FIFOs,
 * IER), unmasks line 74 in the INTC, and prints "echo ready".  Received
 * characters arrive by RX interrupt (IIR type RHR or RX timeout, read while
 * LSR.RX_FIFO_E); every character goes back upper-cased through a
 * transmit queue drained by THR interrupts (IER.THR set while the queue is
 * not empty).  CR or LF echoes CR LF; 'q' prints "bye" and exits with
 * status 0 through semihosting.  All of its output goes through UART3.
 */
#include "guest.h"
#include "omap3.h"

#define RING 256

	.bss
	.balign 4
rx_head:	.space 4	/* written by the IRQ handler */
rx_tail:	.space 4	/* written by main */
tx_head:	.space 4	/* written by main */
tx_tail:	.space 4	/* written by the IRQ handler */
rx_buf:		.space RING
tx_buf:		.space RING

	.text
	.arm
	.global main
	.type main, %function
main:
	SETVEC	EXC_IRQ, irq_handler
	MOV32	r4, UART3_BASE
	mov	r0, #7
	str	r0, [r4, #UART_MDR1]	/* disabled while configuring */
	mov	r0, #0x80
	str	r0, [r4, #UART_LCR]	/* divisor latch */
	mov	r0, #26
	str	r0, [r4, #UART_DLL]	/* 115200 baud from 48 MHz */
	mov	r0, #0
	str	r0, [r4, #UART_DLH]
	mov	r0, #0x03
	str	r0, [r4, #UART_LCR]	/* 8N1, operational mode */
	mov	r0, #0x07
	str	r0, [r4, #UART_FCR]	/* FIFOs on, both cleared */
	mov	r0, #0
	str	r0, [r4, #UART_MDR1]	/* UART 16x mode */
	mov	r0, #IER_RHR
	str	r0, [r4, #UART_IER]
	MOV32	r0, INTC_BASE
	mov	r1, #(1 << (UART3_IRQ - 64))
	str	r1, [r0, #INTC_MIR_CLEAR(2)]
	cpsie	i

	MOV32	r0, s_ready
	bl	tx_string

	MOV32	r5, rx_head
	MOV32	r6, rx_tail
	MOV32	r7, rx_buf
loop:
	cpsid	i
	ldr	r0, [r5]
	ldr	r1, [r6]
	cmp	r0, r1
	bne	1f
	wfi
	cpsie	i
	b	loop
1:	cpsie	i
	ldrb	r0, [r7, r1]
	add	r1, r1, #1
	and	r1, r1, #(RING - 1)
	str	r1, [r6]
	cmp	r0, #'q'
	beq	quit
	cmp	r0, #'\r'
	cmpne	r0, #'\n'
	bne	2f
	MOV32	r0, s_crlf
	bl	tx_string
	b	loop
2:	cmp	r0, #'a'
	blo	3f
	cmp	r0, #'z'
	subls	r0, r0, #('a' - 'A')
3:	bl	tx_char
	b	loop

quit:
	MOV32	r0, s_bye
	bl	tx_string
	MOV32	r1, tx_head
	MOV32	r2, tx_tail
4:	ldr	r0, [r1]		/* wait until the IRQ handler drained the queue */
	ldr	r3, [r2]
	cmp	r0, r3
	bne	4b
5:	ldr	r0, [r4, #UART_LSR]	/* and the transmitter is empty */
	tst	r0, #(1 << 6)
	beq	5b
	mov	r0, #0
	b	exit

/* tx_char(r0): queue one character and enable the THR interrupt.  Clobbers r0-r3. */
tx_char:
	cpsid	i
	MOV32	r1, tx_head
	ldr	r2, [r1]
	MOV32	r3, tx_buf
	strb	r0, [r3, r2]
	add	r2, r2, #1
	and	r2, r2, #(RING - 1)
	str	r2, [r1]
	MOV32	r1, UART3_BASE
	ldr	r0, [r1, #UART_IER]
	orr	r0, r0, #IER_THR
	str	r0, [r1, #UART_IER]
	cpsie	i
	bx	lr

/* tx_string(r0 = string).  Clobbers r0-r3. */
tx_string:
	push	{r4, lr}
	mov	r4, r0
1:	ldrb	r0, [r4], #1
	cmp	r0, #0
	popeq	{r4, pc}
	bl	tx_char
	b	1b

irq_handler:
	sub	lr, lr, #4
	push	{r0-r6, lr}
	MOV32	r0, INTC_BASE
	ldr	r1, [r0, #INTC_SIR_IRQ]
	and	r1, r1, #0x7f
	cmp	r1, #UART3_IRQ
	bne	done
	MOV32	r4, UART3_BASE
next:
	ldr	r1, [r4, #UART_IIR]
	tst	r1, #1			/* 1 = no interrupt pending */
	bne	done
	and	r1, r1, #0x3e
	cmp	r1, #0x04		/* RHR */
	cmpne	r1, #0x0c		/* RX timeout */
	beq	rx
	cmp	r1, #0x02		/* THR */
	beq	tx
	ldr	r1, [r4, #UART_LSR]	/* line status or other: read LSR, give up */
	b	done
rx:
	MOV32	r2, rx_head
	ldr	r3, [r2]
	MOV32	r5, rx_buf
1:	ldr	r1, [r4, #UART_LSR]
	tst	r1, #LSR_RX
	beq	2f
	ldr	r1, [r4, #UART_RHR]
	strb	r1, [r5, r3]
	add	r3, r3, #1
	and	r3, r3, #(RING - 1)
	b	1b
2:	str	r3, [r2]
	b	next
tx:
	MOV32	r2, tx_tail
	ldr	r3, [r2]
	MOV32	r5, tx_head
	ldr	r5, [r5]
	MOV32	r6, tx_buf
3:	cmp	r3, r5
	beq	4f
	ldr	r0, [r4, #UART_LSR]	/* only into an empty transmitter */
	tst	r0, #LSR_TXFE
	beq	5f
	ldrb	r0, [r6, r3]
	str	r0, [r4, #UART_THR]
	add	r3, r3, #1
	and	r3, r3, #(RING - 1)
	b	3b
5:	str	r3, [r2]		/* more later, at the next THR interrupt */
	b	next
4:	str	r3, [r2]		/* queue empty: stop THR interrupts */
	ldr	r0, [r4, #UART_IER]
	bic	r0, r0, #IER_THR
	str	r0, [r4, #UART_IER]
	b	next
done:
	MOV32	r0, INTC_BASE
	mov	r1, #1
	str	r1, [r0, #INTC_CONTROL]
	dsb
	ldmfd	sp!, {r0-r6, pc}^

	.section .rodata
s_ready:	.asciz "echo ready\r\n"
s_crlf:		.asciz "\r\n"
s_bye:		.asciz "\r\nbye\r\n"

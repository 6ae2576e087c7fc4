/*
 * omap3.h - DM3730 (OMAP36xx) device registers used by the hvd-only guests.
 * Offsets from the DM3730 TRM (SPRUGN4): INTC (ch. 12, MPU subsystem
 * INTCPS), GPTIMER (ch. 16), 32-kHz sync timer (ch. 16.5), UART/IrDA
 * (ch. 19).  Registers are 32 bits wide (UART registers at a 4-byte stride).
 */
#ifndef HVD_OMAP3_H
#define HVD_OMAP3_H

/* Interrupt controller */
#define INTC_BASE        0x48200000
#define INTC_REVISION    0x000
#define INTC_SYSCONFIG   0x010
#define INTC_SYSSTATUS   0x014
#define INTC_SIR_IRQ     0x040
#define INTC_SIR_FIQ     0x044
#define INTC_CONTROL     0x048	/* bit 0 NEWIRQAGR, bit 1 NEWFIQAGR */
#define INTC_THRESHOLD   0x068
#define INTC_ITR(n)      (0x080 + 0x20 * (n))
#define INTC_MIR(n)      (0x084 + 0x20 * (n))
#define INTC_MIR_CLEAR(n) (0x088 + 0x20 * (n))
#define INTC_MIR_SET(n)  (0x08c + 0x20 * (n))
#define INTC_ISR_SET(n)  (0x090 + 0x20 * (n))
#define INTC_ISR_CLEAR(n) (0x094 + 0x20 * (n))
#define INTC_PENDING_IRQ(n) (0x098 + 0x20 * (n))
#define INTC_PENDING_FIQ(n) (0x09c + 0x20 * (n))
#define INTC_ILR(m)      (0x100 + 4 * (m))	/* bits 7:2 priority, bit 0 FIQNIRQ */

/* GPTIMER1 (wakeup domain, 32 kHz functional clock by default), IRQ 37 */
#define GPT1_BASE        0x48318000
#define GPT1_IRQ         37
#define GPT_TIOCP_CFG    0x10
#define GPT_TISTAT       0x14
#define GPT_TISR         0x18	/* bit 0 MAT, 1 OVF, 2 TCAR; write 1 to clear */
#define GPT_TIER         0x1c
#define GPT_TWER         0x20
#define GPT_TCLR         0x24	/* 0 ST, 1 AR, 4:2 PTV, 5 PRE, 6 CE */
#define GPT_TCRR         0x28
#define GPT_TLDR         0x2c
#define GPT_TTGR         0x30
#define GPT_TWPS         0x34
#define GPT_TMAR         0x38
#define GPT_TSICR        0x40	/* bit 2 POSTED */
#define GPT_MAT          1
#define GPT_OVF          2
#define TCLR_ST          1
#define TCLR_AR          2
#define TCLR_PRE         (1 << 5)
#define TCLR_PTV(n)      ((n) << 2)
#define TCLR_CE          (1 << 6)

/* 32-kHz synchronized counter */
#define SYNC32K_CR       0x48320010

/* UART3: the console, IRQ 74 */
#define UART3_BASE       0x49020000
#define UART3_IRQ        74
#define UART_RHR         0x00
#define UART_THR         0x00
#define UART_DLL         0x00
#define UART_IER         0x04
#define UART_DLH         0x04
#define UART_IIR         0x08
#define UART_FCR         0x08
#define UART_LCR         0x0c
#define UART_MCR         0x10
#define UART_LSR         0x14
#define UART_MDR1        0x20
#define UART_SCR         0x40
#define UART_SYSC        0x54
#define UART_SYSS        0x58
#define IER_RHR          1
#define IER_THR          2
#define LSR_RX           1
#define LSR_TXFE         (1 << 5)

#endif

/*
 * semi.S - semihosting as the guest sees it (portable: hvd and QEMU).
 *
 * SVC 0x123456 in ARM state and SVC 0xAB in Thumb state, from SVC, SYS,
 * ABT, UND and IRQ modes, are handled without entering the guest's SVC
 * vector; r1-r12, LR and SPSR of the calling mode are unchanged.  From User
 * mode the same instruction is an ordinary SVC exception.  Calls: SYS_WRITE0,
 * SYS_WRITEC, SYS_OPEN(":tt"), SYS_WRITE, SYS_CLOSE, SYS_CLOCK, SYS_TIME,
 * and, with the MMU on, pointers that are virtual addresses mapped elsewhere
 * (SYS_ISTTY is left out: QEMU answers for its own stdout, a pipe or not);
 * exit through SYS_EXIT_EXTENDED (finish).  semi_exit.S checks the exits.
 */
#include "guest.h"

#define SYS_OPEN    0x01
#define SYS_CLOSE   0x02
#define SYS_WRITEC  0x03
#define SYS_WRITE0  0x04
#define SYS_WRITE   0x05
#define SYS_CLOCK   0x10
#define SYS_TIME    0x11

/* One SYS_WRITE0 with every other register set to a marker; then count the
 * registers (r1-r12, LR, and SPSR when the mode has one) that changed. */
.macro SEMI_REGS desc:req, text:req, spsr=1
	.pushsection .rodata
.Ltext_\@: .asciz "\text"
	.popsection
	.if \spsr
	MOV32	r0, 0x600001d3
	msr	spsr_fsxc, r0
	.endif
	MOV32	r2, 0x02020202
	MOV32	r3, 0x03030303
	MOV32	r4, 0x04040404
	MOV32	r5, 0x05050505
	MOV32	r6, 0x06060606
	MOV32	r7, 0x07070707
	MOV32	r8, 0x08080808
	MOV32	r9, 0x09090909
	MOV32	r10, 0x0a0a0a0a
	MOV32	r11, 0x0b0b0b0b
	MOV32	r12, 0x0c0c0c0c
	MOV32	lr, 0x1e1e1e1e
	MOV32	r1, .Ltext_\@
	mov	r0, #SYS_WRITE0
	svc	#SEMI_SWI
	push	{r0-r12, lr}
	.if \spsr
	mrs	r0, spsr
	.else
	MOV32	r0, 0x600001d3
	.endif
	str	r0, [sp]		/* slot 0: the SPSR now */
	mov	r0, sp
	MOV32	r1, .Ltext_\@
	bl	count_changed
	add	sp, sp, #56
	CHECK	"\desc registers changed", r0, 0
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"semi: semihosting calls"
	MOV32	r0, exc_rec
	mov	r1, #0
	str	r1, [r0, #REC_COUNT]

	SEMI_REGS "svc mode", "hello from SVC mode\n"
	cps	#M_SYS
	SEMI_REGS "sys mode", "hello from SYS mode\n", 0
	cps	#M_ABT
	SEMI_REGS "abt mode", "hello from ABT mode\n"
	cps	#M_UND
	SEMI_REGS "und mode", "hello from UND mode\n"
	cps	#M_IRQ
	SEMI_REGS "irq mode", "hello from IRQ mode\n"
	cps	#M_SVC
	blx	thumb_semi
	MOV32	r0, exc_rec
	ldr	r0, [r0, #REC_COUNT]
	CHECK	"guest svc vector entered", r0, 0

	NOTE	"SYS_WRITEC"
	mov	r0, #SYS_WRITEC
	MOV32	r1, char_x
	svc	#SEMI_SWI
	mov	r0, #SYS_WRITEC
	MOV32	r1, char_nl
	svc	#SEMI_SWI

	NOTE	"SYS_OPEN :tt, SYS_WRITE, SYS_CLOSE"
	mov	r0, #SYS_OPEN
	MOV32	r1, open_args
	svc	#SEMI_SWI
	mov	r4, r0
	mvn	r1, #0
	cmp	r4, r1
	moveq	r0, #0
	movne	r0, #1
	CHECK	"open :tt succeeded", r0, 1
	MOV32	r1, write_args
	str	r4, [r1]
	mov	r0, #SYS_WRITE
	svc	#SEMI_SWI
	CHECK	"sys_write bytes not written", r0, 0
	MOV32	r1, handle_arg
	str	r4, [r1]
	mov	r0, #SYS_CLOSE
	svc	#SEMI_SWI
	CHECK	"close :tt", r0, 0

	NOTE	"SYS_CLOCK, SYS_TIME"
	mov	r0, #SYS_CLOCK
	mov	r1, #0
	svc	#SEMI_SWI
	mov	r4, r0
	MOV32	r0, 300000
1:	subs	r0, r0, #1
	bne	1b
	mov	r0, #SYS_CLOCK
	mov	r1, #0
	svc	#SEMI_SWI
	mov	r5, r0
	cmp	r4, #0
	movlt	r0, #0
	movge	r0, #1
	CHECK	"clock not an error", r0, 1
	cmp	r5, r4
	movlt	r0, #0
	movge	r0, #1
	CHECK	"clock monotonic", r0, 1
	mov	r0, #SYS_TIME
	mov	r1, #0
	svc	#SEMI_SWI
	MOV32	r1, 1600000000
	cmp	r0, r1
	movhi	r0, #1
	movls	r0, #0
	CHECK	"time after 2020", r0, 1

	NOTE	"with the MMU on, arguments are virtual addresses"
	MOV32	r0, s_remapped
	MOV32	r1, TPAGE(3)
	mov	r2, #0
1:	ldrb	r3, [r0, r2]
	strb	r3, [r1, r2]
	add	r2, r2, #1
	cmp	r3, #0
	bne	1b
	MOV32	r0, (TPAGE(4) + 0x40)
	MOV32	r1, 0x30001000
	str	r1, [r0]		/* SYS_WRITE block: handle, buffer VA, length */
	CALL3	mmu_base_map, L1_A
	CALL3	set_l1, L1_A, 0x30000000, (L2TAB(0) | L1_TABLE)
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l2, L2TAB(0), 0x30000000, (TPAGE(3) | L2_SMALL | L2_AP(AP_PRIV))
	CALL3	set_l2, L2TAB(0), 0x30001000, (TPAGE(3) | L2_SMALL | L2_AP(AP_PRIV))
	CALL3	set_l2, L2TAB(0), 0x30002000, (TPAGE(4) | L2_SMALL | L2_AP(AP_PRIV))
	CALL3	mmu_on, L1_A
	mov	r0, #SYS_WRITE0
	MOV32	r1, 0x30000000
	svc	#SEMI_SWI
	mov	r0, #SYS_OPEN
	MOV32	r1, open_args
	svc	#SEMI_SWI
	MOV32	r1, 0x30002040
	str	r0, [r1]
	MOV32	r0, 0x30002044
	MOV32	r1, 0x30001000
	str	r1, [r0]
	mov	r1, #17
	str	r1, [r0, #4]
	mov	r0, #SYS_WRITE
	MOV32	r1, 0x30002040
	svc	#SEMI_SWI
	mov	r4, r0
	mov	r0, #SYS_WRITEC
	MOV32	r1, 0x30001011		/* the newline */
	svc	#SEMI_SWI
	CHECK	"sys_write through the mmu", r4, 0
	bl	mmu_off

	NOTE	"from User mode it is an ordinary SVC"
	EXPECT	2f, (M_SVC | PSR_A | PSR_I | PSR_F)
	MOV32	lr, user_semi
	mov	r0, #M_USR
	msr	spsr_fsxc, r0
	movs	pc, lr
2:	CHECKREC "usr semihosting svc vec", REC_VEC, 0xff, EXC_SVC
	CHECKRECREL "usr semihosting svc lr-insn", REC_LR, user_semi_svc, 4
	CHECKREC "usr semihosting svc r0", REC_R0, 0xffffffff, SYS_WRITE0

	pop	{r4-r11, lr}
	b	finish

user_semi:
	mov	r0, #SYS_WRITE0
	MOV32	r1, s_user
user_semi_svc:
	svc	#SEMI_SWI
	b	.

/* count_changed(r0 = saved frame: SPSR, r1-r12, LR; r1 = expected r1) -> r0 */
count_changed:
	push	{r4-r6}
	mov	r2, #0
	ldr	r3, [r0]
	MOV32	r4, 0x600001d3
	cmp	r3, r4
	addne	r2, r2, #1
	ldr	r3, [r0, #4]
	cmp	r3, r1
	addne	r2, r2, #1
	mov	r5, #2
	MOV32	r6, 0x01010101
1:	ldr	r3, [r0, r5, lsl #2]
	mul	r4, r5, r6
	cmp	r3, r4
	addne	r2, r2, #1
	add	r5, r5, #1
	cmp	r5, #13
	bne	1b
	ldr	r3, [r0, #52]
	MOV32	r4, 0x1e1e1e1e
	cmp	r3, r4
	addne	r2, r2, #1
	mov	r0, r2
	pop	{r4-r6}
	bx	lr

	.thumb
	.type thumb_semi, %function
	.thumb_func
thumb_semi:
	push	{r4-r7, lr}
	movs	r0, #SYS_WRITE0
	MOV32	r1, s_thumb
	MOV32	r4, 0x44444444
	MOV32	lr, 0x1e1e1e1e
	svc	#0xab
	mov	r5, lr
	CHECK	"thumb svc 0xab r4", r4, 0x44444444
	CHECK	"thumb svc 0xab lr", r5, 0x1e1e1e1e
	pop	{r4-r7, pc}

	.data
	.balign 4
open_args:	.word tt_name, 4, 3
write_args:	.word 0, s_write, 17
handle_arg:	.word 0

	.section .rodata
tt_name:	.asciz ":tt"
s_write:	.ascii "sys_write to :tt\n"
		.byte 0
s_thumb:	.asciz "hello from Thumb state\n"
s_user:		.asciz "this must not be printed\n"
s_remapped:	.asciz "printed from a VA\n"
char_x:		.byte 'x'
char_nl:	.byte '\n'

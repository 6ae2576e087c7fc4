/*
 * semi_exit.S - semihosting exit statuses (portable).  EXIT_KIND selects:
 *   1  SYS_EXIT_EXTENDED (ADP_Stopped_ApplicationExit, 7)  -> exit status 7
 *   2  SYS_EXIT, ADP_Stopped_ApplicationExit              -> exit status 0
 *   3  SYS_EXIT, ADP_Stopped_RunTimeErrorUnknown          -> exit status 1
 * (QEMU's AArch32 SYS_EXIT takes the reason code itself in r1.)
 */
#include "guest.h"

#ifndef EXIT_KIND
#define EXIT_KIND 1
#endif

	.text
	.arm
	.global main
	.type main, %function
main:
	PRINT	"exiting\n"
#if EXIT_KIND == 1
	mov	r0, #7
	b	exit
#elif EXIT_KIND == 2
	mov	r0, #0x18
	MOV32	r1, 0x20026
	svc	#SEMI_SWI
#else
	mov	r0, #0x18
	MOV32	r1, 0x20023
	svc	#SEMI_SWI
#endif
	PRINT	"still running\n"
	mov	r0, #99
	b	exit

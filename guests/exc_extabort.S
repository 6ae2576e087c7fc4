/*
 * exc_extabort.S - external aborts on physical addresses where nothing is
 * mapped (hvd only: QEMU's vexpress-a9 reads such addresses as zero).
 *
 * The BeagleBoard-xM has nothing at 0xe000_0000 .. 0xffff_ffff: a load,
 * store or instruction fetch there is a synchronous external abort (DFSR /
 * IFSR status 0x8, WnR for stores, DFAR / IFAR = the address), with the MMU
 * off and through a section that maps there with the MMU on; an L2 table
 * placed there makes the walk itself abort (status 0xe, external abort on
 * translation table walk, second level).  The VM must survive all of it.
 */
#include "guest.h"

#define NOWHERE		0xf0000000
#define NOWHERE2	0xe0000010
#define VX		0x30000000	/* section -> NOWHERE */
#define VW		0x31000000	/* L2 table at NOWHERE */
#define FS_EXT_L2WALK	0xe

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"exc_extabort: external aborts (hvd only)"

	NOTE	"MMU off"
	PROBE_FAULT "load", NOWHERE, P_READ, DABT_F(FS_EXT)
	PROBE_FAULT "store", (NOWHERE + 4), P_WRITE, DABT_F(FSR_WNR | FS_EXT)
	PROBE_FAULT "load 2", NOWHERE2, P_READ, DABT_F(FS_EXT)
	PROBE_FAULT "fetch", NOWHERE, P_EXEC, PABT_F(FS_EXT)
	PROBE	"ram still fine", TPAGE(0), P_WRITE, 0x600df00d

	NOTE	"MMU on"
	CALL3	mmu_base_map, L1_A
	CALL3	set_l1, L1_A, VX, (NOWHERE | L1_SECT | L1_SECT_AP(AP_PRIV))
	CALL3	set_l1, L1_A, VW, (NOWHERE | L1_TABLE)
	CALL3	mmu_on, L1_A
	PROBE_FAULT "mapped load", (VX + 0x10), P_READ, DABT_F(FS_EXT)
	PROBE_FAULT "mapped store", (VX + 0x20), P_WRITE, DABT_F(FSR_WNR | FS_EXT)
	PROBE_FAULT "mapped fetch", (VX + 0x40), P_EXEC, PABT_F(FS_EXT)
	PROBE_FAULT "walk load", (VW + 0x1000), P_READ, DABT_F(FS_EXT_L2WALK)
	PROBE_FAULT "walk store", (VW + 0x2000), P_WRITE, DABT_F(FSR_WNR | FS_EXT_L2WALK)
	PROBE_FAULT "walk fetch", (VW + 0x3000), P_EXEC, PABT_F(FS_EXT_L2WALK)
	PROBE	"ram still fine with mmu", TPAGE(0), P_READ, 0x600df00d
	bl	mmu_off

	pop	{r4-r11, lr}
	b	finish

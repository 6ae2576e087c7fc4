/*
 * mmu_sizes.S - MMU conformance: supersections (16 MiB) and large pages
 * (64 KiB), with their permissions, XN, and remapping (portable).
 *
 * The supersection maps the first 16 MiB of RAM (RAM_BASE is 16 MiB
 * aligned on both platforms) at VA 0x2000_0000, so any RAM word can be
 * read through it at its offset from RAM_BASE.  The large page maps
 * TPAGE(16..31) (64 KiB aligned) at VA 0x3010_0000.  The architecture
 * requires all 16 copies of a supersection / large-page descriptor to be
 * identical; remapping one rewrites all 16 and invalidates every page of
 * it by MVA.
 */
#include "guest.h"

#define VSS	0x20000000	/* supersection */
#define VSS2	0x21000000	/* second supersection, PL1 read-only */
#define VL	0x30100000	/* large page, via L2TAB(0) */
#define VL2	0x30120000	/* large page, XN */
#define SUPER(pa, ap)	((pa) | L1_SUPER | L1_SECT_AP(ap) | L1_SECT_C | L1_SECT_B)
#define LARGE(pa, ap)	((pa) | L2_LARGE | L2_AP(ap) | 0xc)
#define OFF(pa)		((pa) - RAM_BASE)

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_sizes: supersections and large pages"
	bl	fill_magic
	/* words at RAM_BASE + 15 MiB + n * 0x10000 tell 64 KiB blocks of the supersection apart */
	MOV32	r0, (RAM_BASE + 0xf00000)
	MOV32	r1, 0xd0000000
	str	r1, [r0]
	MOV32	r0, (RAM_BASE + 0xfffffc)
	MOV32	r1, 0xd00000ff
	str	r1, [r0]
	/* tag each 4 KiB page of the large page: offset 0x10 holds 0xe00000nn */
	MOV32	r0, (TPAGE(16) + 0x10)
	MOV32	r1, 0xe0000010
	mov	r2, #32
1:	str	r1, [r0]
	add	r0, r0, #0x1000
	add	r1, r1, #1
	subs	r2, r2, #1
	bne	1b
	CALL3	mmu_base_map, L1_A
	CALL3	set_l1_super, L1_A, VSS, SUPER(RAM_BASE, AP_PRIV)
	CALL3	set_l1_super, L1_A, VSS2, SUPER(RAM_BASE, AP_PRIVRO)
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, VL, (L2TAB(0) | L1_TABLE)
	CALL3	set_l2_large, L2TAB(0), VL, LARGE(TPAGE(16), AP_PRIV)
	CALL3	set_l2_large, L2TAB(0), VL2, (LARGE(TPAGE(16), AP_FULL) | L2_LARGE_XN)
	CALL3	mmu_on, L1_A

	NOTE	"supersection"
	PROBE	"super read tpage0", (VSS + OFF(TPAGE(0))), P_READ, 0xa5000000
	PROBE	"super read tpage5 end", (VSS + OFF(TPAGE(5)) + 0xffc), P_READ, 0xa5000005
	PROBE	"super read tsect3", (VSS + OFF(TSECT(3))), P_READ, 0xb5000003
	PROBE	"super read 15M", (VSS + 0xf00000), P_READ, 0xd0000000
	PROBE	"super read last word", (VSS + 0xfffffc), P_READ, 0xd00000ff
	PROBE	"super write", (VSS + OFF(TPAGE(6)) + 0x20), P_WRITE, 0x66006600
	PROBE	"super write seen", (TPAGE(6) + 0x20), P_READ, 0x66006600
	PROBE_FAULT "super usr read", (VSS + 0x00c00000), (P_READ | P_USER), DABT_F(FS_PERM_SECT)
	PROBE	"ro super read", (VSS2 + OFF(TPAGE(6)) + 0x20), P_READ, 0x66006600
	PROBE_FAULT "ro super write", (VSS2 + 0x00e00010), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE_FAULT "after super", 0x22000000, P_READ, DABT_F(FS_TRANS_SECT)

	NOTE	"supersection remapped"
	CALL3	set_l1_super, L1_A, VSS2, SUPER(RAM_BASE, AP_PRIV)
	mov	r4, #0
2:	MOV32	r0, VSS2
	add	r0, r0, r4, lsl #20
	bl	tlbimva
	add	r4, r4, #1
	cmp	r4, #16
	bne	2b
	PROBE	"rw super write", (VSS2 + 0x00e00010), P_WRITE, 0x77007700
	PROBE	"rw super write seen", (VSS + 0x00e00010), P_READ, 0x77007700
	CALL3	set_l1_super, L1_A, VSS2, 0
	mov	r4, #0
3:	MOV32	r0, VSS2
	add	r0, r0, r4, lsl #20
	bl	tlbimva
	add	r4, r4, #1
	cmp	r4, #16
	bne	3b
	PROBE_FAULT "unmapped super read", (VSS2 + 0x00e00010), P_READ, DABT_F(FS_TRANS_SECT)

	NOTE	"large page"
	PROBE	"large read page0", VL, P_READ, 0xa5000010
	PROBE	"large read page0 tag", (VL + 0x10), P_READ, 0xe0000010
	PROBE	"large read page9 tag", (VL + 0x9010), P_READ, 0xe0000019
	PROBE	"large read page15 end", (VL + 0xfffc), P_READ, 0xa500001f
	PROBE	"large write", (VL + 0x7020), P_WRITE, 0x12120000
	PROBE	"large write seen", (TPAGE(23) + 0x20), P_READ, 0x12120000
	PROBE_FAULT "large usr read", (VL + 0x3000), (P_READ | P_USER), DABT_F(FS_PERM_PAGE)
	PROBE_FAULT "after large", (VL + 0x10000), P_READ, DABT_F(FS_TRANS_PAGE)
	CALL3	exec_stub, (TPAGE(20) + 0x100), 0x4242
	PROBE	"large read xn", (VL2 + 0x4100), P_READ, 0xe3040242
	PROBE	"large exec", (VL + 0x4100), P_EXEC, 0x4242
	PROBE_FAULT "large exec xn", (VL2 + 0x4100), P_EXEC, PABT_F(FS_PERM_PAGE)
	PROBE_FAULT "large usr exec xn", (VL2 + 0x4100), (P_EXEC | P_USER), PABT_F(FS_PERM_PAGE)

	NOTE	"large page remapped and made read-only"
	CALL3	set_l2_large, L2TAB(0), VL, LARGE(TPAGE(32), AP_PRIVRO)
	mov	r4, #0
4:	MOV32	r0, VL
	add	r0, r0, r4, lsl #12
	bl	tlbimva
	add	r4, r4, #1
	cmp	r4, #16
	bne	4b
	PROBE	"remapped large read page0", VL, P_READ, 0xa5000020
	PROBE	"remapped large read page9", (VL + 0x9000), P_READ, 0xa5000029
	PROBE_FAULT "remapped large write", (VL + 0x7020), P_WRITE, DABT_F(FSR_WNR | FS_PERM_PAGE)

	NOTE	"large page next to small pages in one table"
	CALL3	set_l2, L2TAB(0), (VL + 0x10000), (TPAGE(48) | L2_SMALL | L2_AP(AP_PRIV) | 0xc)
	isb
	PROBE	"small after large", (VL + 0x10000), P_READ, 0xa5000030
	PROBE	"large still", (VL + 0xf000), P_READ, 0xa500002f

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

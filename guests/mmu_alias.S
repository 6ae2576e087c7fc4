/*
 * mmu_alias.S - MMU conformance: translation tables edited through alias
 * mappings of the table pages (portable).
 *
 * The page holding L2TAB(0) and L2TAB(1) is also mapped at VA 0x3800_0000
 * (through L2TAB(1) itself), and the first page of L1_A at 0x3900_0000.
 * Descriptors are changed through these aliases only, with the
 * architecture's DSB + TLBIMVA + DSB + ISB (or nothing but DSB + ISB for an
 * invalid -> valid change).  Also: the alias rewrites its own descriptor,
 * an L1 table descriptor is replaced by a section, one L2 table serves two
 * L1 entries, and ordinary data shares a page with live tables (under the
 * wp policy every write to that page traps and must still be done).
 */
#include "guest.h"

#define VP	0x30000000	/* small pages via L2TAB(0) */
#define VS	0x31000000	/* section */
#define VA_L2	0x38000000	/* alias of the page with L2TAB(0), L2TAB(1) */
#define VA_L1	0x38001000	/* alias of L1_A's first 4 KiB */
#define PAGE(pa)	((pa) | L2_SMALL | L2_AP(AP_PRIV) | 0xc)
#define SECT(pa)	((pa) | L1_SECT | L1_SECT_AP(AP_PRIV) | L1_SECT_C | L1_SECT_B)
#define L2E(tab, va)	(((tab) - L2TAB(0)) + 4 * (((va) >> 12) & 0xff))
#define L1E(va)		(4 * ((va) >> 20))

.macro ALIAS_STORE where, value
	PROBE_RAM "alias write", \where, P_WRITE, \value
	dsb
.endm

.macro ALIAS_CLEAR where
	PROBE	"alias clear", \where, P_WRITE, 0
	dsb
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_alias: tables edited through alias mappings"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	memzero, L2TAB(0), 0x800
	CALL3	set_l1, L1_A, VP, (L2TAB(0) | L1_TABLE)
	CALL3	set_l1, L1_A, VA_L2, (L2TAB(1) | L1_TABLE)
	CALL3	set_l2, L2TAB(0), VP, PAGE(TPAGE(1))
	CALL3	set_l2, L2TAB(1), VA_L2, PAGE(L2TAB(0))
	CALL3	set_l2, L2TAB(1), VA_L1, PAGE(L1_A)
	CALL3	mmu_on, L1_A

	PROBE	"page read", VP, P_READ, 0xa5000001
	PROBE_RAM "alias reads the descriptor", (VA_L2 + L2E(L2TAB(0), VP)), P_READ, PAGE(TPAGE(1))

	NOTE	"remap through the alias + TLBIMVA"
	ALIAS_STORE (VA_L2 + L2E(L2TAB(0), VP)), PAGE(TPAGE(2))
	CALL3	tlbimva, VP
	PROBE	"remapped read", VP, P_READ, 0xa5000002
	PROBE_RAM "identity sees the write", (L2TAB(0) + L2E(L2TAB(0), VP)), P_READ, PAGE(TPAGE(2))

	NOTE	"invalid to valid through the alias, no TLB operation"
	PROBE_FAULT "unmapped read", (VP + 0x1000), P_READ, DABT_F(FS_TRANS_PAGE)
	ALIAS_STORE (VA_L2 + L2E(L2TAB(0), VP + 0x1000)), PAGE(TPAGE(3))
	isb
	PROBE	"new page read", (VP + 0x1000), P_READ, 0xa5000003

	NOTE	"valid to invalid through the alias + TLBIMVA"
	ALIAS_CLEAR (VA_L2 + L2E(L2TAB(0), VP + 0x1000))
	CALL3	tlbimva, (VP + 0x1000)
	PROBE_FAULT "invalidated read", (VP + 0x1000), P_READ, DABT_F(FS_TRANS_PAGE)

	NOTE	"L1 entries through the L1 alias"
	PROBE_FAULT "unmapped section", VS, P_READ, DABT_F(FS_TRANS_SECT)
	ALIAS_STORE (VA_L1 + L1E(VS)), SECT(TSECT(0))
	isb
	PROBE	"new section read", VS, P_READ, 0xb5000000
	ALIAS_STORE (VA_L1 + L1E(VS)), SECT(TSECT(1))
	CALL3	tlbimva, VS
	PROBE	"remapped section read", VS, P_READ, 0xb5000001
	NOTE	"a table descriptor replaced by a section"
	ALIAS_STORE (VA_L1 + L1E(VP)), SECT(TSECT(2))
	CALL3	tlbimva, VP
	PROBE	"section instead of table", VP, P_READ, 0xb5000002
	PROBE	"section instead of table 2", (VP + 0xffffc), P_READ, 0xb5000002
	ALIAS_STORE (VA_L1 + L1E(VP)), (L2TAB(0) | L1_TABLE)
	CALL3	tlbimva, VP
	CALL3	tlbimva, (VP + 0x1000)
	CALL3	tlbimva, (VP + 0xff000)
	PROBE	"table again", VP, P_READ, 0xa5000002
	PROBE_FAULT "table again unmapped", (VP + 0x1000), P_READ, DABT_F(FS_TRANS_PAGE)

	NOTE	"the alias rewrites its own descriptor"
	ALIAS_STORE (VA_L2 + L2E(L2TAB(1), VA_L2)), PAGE(TPAGE(9))
	CALL3	tlbimva, VA_L2
	PROBE	"alias now maps another page", VA_L2, P_READ, 0xa5000009
	CALL3	set_l2, L2TAB(1), VA_L2, PAGE(L2TAB(0))
	CALL3	tlbimva, VA_L2
	PROBE_RAM "alias restored", (VA_L2 + L2E(L2TAB(0), VP)), P_READ, PAGE(TPAGE(2))

	NOTE	"one L2 table under two L1 entries"
	CALL3	memzero, L2TAB(2), 0x400
	CALL3	set_l2, L2TAB(2), 0x33000000, PAGE(TPAGE(11))
	CALL3	set_l1, L1_A, 0x33000000, (L2TAB(2) | L1_TABLE)
	CALL3	set_l1, L1_A, 0x34000000, (L2TAB(2) | L1_TABLE)
	isb
	PROBE	"shared table va1", 0x33000000, P_READ, 0xa500000b
	PROBE	"shared table va2", 0x34000000, P_READ, 0xa500000b
	ALIAS_STORE (VA_L2 + L2E(L2TAB(2), 0x33000000)), PAGE(TPAGE(12))
	CALL3	tlbimva, 0x33000000
	CALL3	tlbimva, 0x34000000
	PROBE	"shared table va1 remapped", 0x33000000, P_READ, 0xa500000c
	PROBE	"shared table va2 remapped", 0x34000000, P_READ, 0xa500000c

	NOTE	"ordinary data next to the tables in the same page"
	MOV32	r4, L2TAB(3)
	MOV32	r5, (VA_L2 + 0xc00)
	mov	r6, #0
	MOV32	r7, 0x01000193
1:	mul	r0, r6, r7
	str	r0, [r4, r6, lsl #2]	/* through the identity map */
	add	r0, r0, #1
	add	r1, r6, #128
	str	r0, [r5, r1, lsl #2]	/* through the alias */
	add	r6, r6, #1
	cmp	r6, #128
	bne	1b
	dsb
	mov	r6, #0
	mov	r8, #0
2:	ldr	r0, [r5, r6, lsl #2]
	add	r8, r8, r0
	add	r1, r6, #128
	ldr	r0, [r4, r1, lsl #2]
	add	r8, r8, r0
	add	r6, r6, #1
	cmp	r6, #128
	bne	2b
	CHECK	"data checksum", r8, 0x8063f700
	/* atomic increments (LDREX/STREX, retried until STREX succeeds) in that page */
	MOV32	r4, (L2TAB(3) + 0x3f0)
	mov	r0, #0
	str	r0, [r4]
	mov	r6, #100
3:	ldrex	r0, [r4]
	add	r0, r0, #1
	strex	r1, r0, [r4]
	cmp	r1, #0
	bne	3b
	subs	r6, r6, #1
	bne	3b
	ldr	r0, [r4]
	CHECK	"ldrex/strex counter", r0, 100
	PROBE	"tables intact", VP, P_READ, 0xa5000002
	PROBE	"tables intact 2", 0x34000000, P_READ, 0xa500000c

	NOTE	"the L2 alias made read-only: writes fault, tables unchanged"
	CALL3	set_l2, L2TAB(1), VA_L2, (L2_SMALL | L2_AP(AP_PRIVRO) | 0xc | L2TAB(0))
	CALL3	tlbimva, VA_L2
	PROBE_FAULT "ro alias write", (VA_L2 + L2E(L2TAB(0), VP)), P_WRITE, DABT_F(FSR_WNR | FS_PERM_PAGE)
	CALL3	tlbimva, VP
	PROBE	"mapping unchanged", VP, P_READ, 0xa5000002

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

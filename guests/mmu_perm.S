/*
 * mmu_perm.S - MMU conformance: PL1/PL0 permissions, XN, unprivileged
 * loads/stores (portable).
 *
 * Sections with AP = PL1-only, user read-only, full access and read-only,
 * accessed from SVC mode and from User mode (DFSR permission fault 0x00d /
 * 0x80d with WnR, DFAR), in both orders so that an entry filled for one
 * privilege level is never used with its permissions by the other (the
 * paper's section 3.3).  LDRT/STRT from SVC mode are checked as User
 * accesses, also when an LDR that already ran is rewritten into an LDRT at
 * the same address.  XN sections and pages, PL1-only code run from User mode,
 * and a jump to an unmapped address give prefetch aborts with IFSR/IFAR.
 */
#include "guest.h"

#define V_PRIV	0x30100000	/* AP 001: PL1 rw, PL0 none */
#define V_URO	0x30200000	/* AP 010: PL1 rw, PL0 ro */
#define V_FULL	0x30300000	/* AP 011: rw */
#define V_RO	0x30400000	/* AP 111: ro for both */
#define V_PRO	0x30500000	/* AP 101: PL1 ro, PL0 none */
#define V_XS	0x30600000	/* code section, XN */
#define V_XP	0x30700000	/* code pages through L2TAB(0) */
#define CODE	TPAGE(50)	/* run-time code */
#define SECT(pa, ap)	((pa) | L1_SECT | L1_SECT_AP(ap) | L1_SECT_C | L1_SECT_B)
#define PAGE(pa, ap)	((pa) | L2_SMALL | L2_AP(ap) | 0xc)

/* PROBE_CALL desc, code, va, fault, value: call the template at `code` with
 * r5 = va (probe P_EXEC); it must fault with `fault` at va (DABT_F(..)), or
 * return `value` when fault is 0. */
.macro PROBE_CALL desc:req, code:req, va:req, fault:req, value:req
	push	{r0-r3, ip, lr}
	MOV32	r0, \code
	MOV32	r1, \va
	MOV32	r2, P_EXEC
	bl	probe
	CHECK	"\desc fault", r1, \fault
	.if \fault
	CHECK	"\desc far", r2, \va
	.else
	CHECK	"\desc value", r0, \value
	.endif
	pop	{r0-r3, ip, lr}
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_perm: PL1/PL0 permissions, LDRT/STRT, XN"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	set_l1, L1_A, V_PRIV, SECT(TSECT(0), AP_PRIV)
	CALL3	set_l1, L1_A, V_URO, SECT(TSECT(1), AP_URO)
	CALL3	set_l1, L1_A, V_FULL, SECT(TSECT(2), AP_FULL)
	CALL3	set_l1, L1_A, V_RO, SECT(TSECT(3), AP_RO)
	CALL3	set_l1, L1_A, V_PRO, SECT(TSECT(0), AP_PRIVRO)
	CALL3	mmu_on, L1_A

	NOTE	"kernel first, then user"
	PROBE	"svc read priv", V_PRIV, P_READ, 0xb5000000
	PROBE	"svc write priv", (V_PRIV + 0x100), P_WRITE, 0x01010101
	PROBE_FAULT "usr read priv", V_PRIV, (P_READ | P_USER), DABT_F(FS_PERM_SECT)
	PROBE_FAULT "usr write priv", (V_PRIV + 0x100), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE	"svc read priv again", (V_PRIV + 0x100), P_READ, 0x01010101
	PROBE	"svc write uro", (V_URO + 0x100), P_WRITE, 0x02020202
	PROBE	"usr read uro", (V_URO + 0x100), (P_READ | P_USER), 0x02020202
	PROBE_FAULT "usr write uro", (V_URO + 0x104), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE	"svc write uro after usr", (V_URO + 0x104), P_WRITE, 0x03030303
	PROBE	"svc read full", V_FULL, P_READ, 0xb5000002

	NOTE	"user first, then kernel"
	PROBE	"usr write full", (V_FULL + 0x200), (P_WRITE | P_USER), 0x04040404
	PROBE	"svc read full after usr", (V_FULL + 0x200), P_READ, 0x04040404
	PROBE	"usr read ro", V_RO, (P_READ | P_USER), 0xb5000003
	PROBE_FAULT "svc write ro", (V_RO + 0x10), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE_FAULT "usr write ro", (V_RO + 0x14), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE	"svc read ro", V_RO, P_READ, 0xb5000003
	PROBE_FAULT "usr read pl1-ro", V_PRO, (P_READ | P_USER), DABT_F(FS_PERM_SECT)
	PROBE	"svc read pl1-ro", V_PRO, P_READ, 0xb5000000
	PROBE_FAULT "svc write pl1-ro", (V_PRO + 0x20), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)

	NOTE	"LDRT/STRT from SVC mode are checked as user accesses"
	PROBE_FAULT "svc ldrt priv", (V_PRIV + 0x100), P_LDRT, DABT_F(FS_PERM_SECT)
	PROBE_FAULT "svc strt uro", (V_URO + 0x108), P_STRT, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE	"svc ldrt uro", (V_URO + 0x100), P_LDRT, 0x02020202
	PROBE	"svc strt full", (V_FULL + 0x204), P_STRT, 0x05050505
	PROBE	"svc read after strt", (V_FULL + 0x204), P_READ, 0x05050505

	NOTE	"an LDR rewritten into an LDRT where it already ran"
	INSTALL	CODE, t_ldr, t_ldr_end
	CALL3	tlbimva, V_PRIV		/* the LDR's access fills again */
	PROBE_CALL "svc ldr at code", CODE, (V_PRIV + 0x100), 0, 0x01010101
	INSTALL	CODE, t_ldrt, t_ldrt_end	/* no TLB operation: the entry the LDR used */
	PROBE_CALL "svc ldrt at code", CODE, (V_PRIV + 0x100), DABT_F(FS_PERM_SECT), 0x0
	PROBE_CALL "svc ldrt at code again", CODE, (V_PRIV + 0x100), DABT_F(FS_PERM_SECT), 0x0
	INSTALL	CODE, t_ldr, t_ldr_end
	PROBE_CALL "svc ldr at code again", CODE, (V_PRIV + 0x100), 0, 0x01010101

	NOTE	"page-level permissions"
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, V_XP, (L2TAB(0) | L1_TABLE | L1_DOM(0))
	CALL3	set_l2, L2TAB(0), V_XP, PAGE(TPAGE(10), AP_PRIV)
	CALL3	set_l2, L2TAB(0), (V_XP + 0x1000), PAGE(TPAGE(11), AP_URO)
	isb
	PROBE_FAULT "usr read priv page", (V_XP + 0x8), (P_READ | P_USER), DABT_F(FS_PERM_PAGE)
	PROBE	"svc read priv page", V_XP, P_READ, 0xa500000a
	PROBE	"usr read uro page", (V_XP + 0x1000), (P_READ | P_USER), 0xa500000b
	PROBE_FAULT "usr write uro page", (V_XP + 0x1ffc), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_PERM_PAGE)

	NOTE	"execute permission"
	CALL3	exec_stub, TSECT(2), 0x1234
	CALL3	exec_stub, TPAGE(12), 0x5678
	CALL3	exec_stub, TPAGE(13), 0x9abc
	PROBE	"svc exec full section", V_FULL, P_EXEC, 0x1234
	PROBE	"usr exec full section", V_FULL, (P_EXEC | P_USER), 0x1234
	CALL3	set_l1, L1_A, V_XS, (SECT(TSECT(2), AP_FULL) | L1_SECT_XN)
	isb
	PROBE_FAULT "svc exec xn section", V_XS, P_EXEC, PABT_F(FS_PERM_SECT)
	PROBE_FAULT "usr exec xn section", V_XS, (P_EXEC | P_USER), PABT_F(FS_PERM_SECT)
	PROBE	"svc read xn section", V_XS, P_READ, 0xe3010234
	CALL3	set_l2, L2TAB(0), (V_XP + 0x2000), PAGE(TPAGE(12), AP_FULL)
	CALL3	set_l2, L2TAB(0), (V_XP + 0x3000), (PAGE(TPAGE(13), AP_FULL) | L2_SMALL_XN)
	CALL3	set_l2, L2TAB(0), (V_XP + 0x4000), PAGE(TPAGE(12), AP_PRIV)
	isb
	PROBE	"svc exec page", (V_XP + 0x2000), P_EXEC, 0x5678
	PROBE	"usr exec page", (V_XP + 0x2000), (P_EXEC | P_USER), 0x5678
	PROBE_FAULT "svc exec xn page", (V_XP + 0x3000), P_EXEC, PABT_F(FS_PERM_PAGE)
	PROBE_FAULT "usr exec xn page", (V_XP + 0x3000), (P_EXEC | P_USER), PABT_F(FS_PERM_PAGE)
	PROBE	"svc exec priv page", (V_XP + 0x4000), P_EXEC, 0x5678
	PROBE_FAULT "usr exec priv page", (V_XP + 0x4000), (P_EXEC | P_USER), PABT_F(FS_PERM_PAGE)
	PROBE_FAULT "svc exec unmapped page", (V_XP + 0x5000), P_EXEC, PABT_F(FS_TRANS_PAGE)
	PROBE_FAULT "svc exec unmapped section", 0x3f000000, P_EXEC, PABT_F(FS_TRANS_SECT)
	/* XN cleared again: needs TLBIMVA (valid to valid) */
	CALL3	set_l2, L2TAB(0), (V_XP + 0x3000), PAGE(TPAGE(13), AP_FULL)
	CALL3	tlbimva, (V_XP + 0x3000)
	PROBE	"svc exec page no longer xn", (V_XP + 0x3000), P_EXEC, 0x9abc

	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/* Templates: copied to CODE and run there (probe P_EXEC: r5 = the address). */
	.section .rodata.templates, "a"
	.balign 4
	.arm
t_ldr:
	ldr	r0, [r5]
	bx	lr
t_ldr_end:
t_ldrt:
	ldrt	r0, [r5]
	bx	lr
t_ldrt_end:

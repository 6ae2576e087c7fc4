/*
 * mmu_domain.S - MMU conformance: domains and DACR (portable).
 *
 * A DACR write takes effect after an ISB, with no TLB operation, for
 * entries already used: no access -> domain fault (0x009 section, 0x00b
 * page, DFSR.Domain = the descriptor's domain), client -> AP checked,
 * manager -> AP ignored (even AP = no access, even from User mode).
 * The domain of a page is the one of its L1 table descriptor.  Also after
 * reads of 199 pages of one domain (more than a monitor may keep track of).
 */
#include "guest.h"

#define V_D1	0x30100000	/* section, domain 1, AP = no access */
#define V_D2	0x30200000	/* section, domain 2, AP = PL1 read-only */
#define V_D3	0x30300000	/* pages via an L1 table descriptor in domain 3 */
#define VX	0x30500000	/* code page, L2TAB(1), domain 0 */
#define CODE_A	TPAGE(44)	/* run-time code at VX: a DACR write */
#define CODE_B	TPAGE(45)	/* run-time code at VX later: a MOV in its place */
#define SECT(pa, ap, d)	((pa) | L1_SECT | L1_SECT_AP(ap) | L1_DOM(d) | L1_SECT_C | L1_SECT_B)
#define PAGE(pa, ap)	((pa) | L2_SMALL | L2_AP(ap) | 0xc)
/* DACR values: domain 0 always client */
#define DACR(d1, d2, d3) (1 | ((d1) << 2) | ((d2) << 4) | ((d3) << 6))
#define NOACC 0
#define CLIENT 1
#define MANAGER 3

.macro SETDACR d1, d2, d3
	push	{r0, lr}
	MOV32	r0, DACR(\d1, \d2, \d3)
	bl	set_dacr
	pop	{r0, lr}
.endm

	.text
	.arm
	.global main
	.type main, %function
main:
	push	{r4-r11, lr}
	NOTE	"mmu_domain: domains and DACR changes without TLB operations"
	bl	fill_magic
	CALL3	mmu_base_map, L1_A
	CALL3	set_l1, L1_A, V_D1, SECT(TSECT(1), AP_NONE, 1)
	CALL3	set_l1, L1_A, V_D2, SECT(TSECT(2), AP_PRIVRO, 2)
	CALL3	memzero, L2TAB(0), 0x400
	CALL3	set_l1, L1_A, V_D3, (L2TAB(0) | L1_TABLE | L1_DOM(3))
	CALL3	set_l2, L2TAB(0), V_D3, PAGE(TPAGE(7), AP_PRIV)
	CALL3	mmu_on, L1_A
	SETDACR	CLIENT, CLIENT, CLIENT

	NOTE	"client: AP applies"
	PROBE_FAULT "client no-access read", V_D1, P_READ, DABT_F(FS_PERM_SECT)
	CHECKREC "client no-access dfsr.domain", REC_DFSR, FSR_DOMAIN, (1 << 4)
	PROBE	"client pl1-ro read", V_D2, P_READ, 0xb5000002
	PROBE_FAULT "client pl1-ro write", (V_D2 + 4), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	CHECKREC "client pl1-ro dfsr.domain", REC_DFSR, FSR_DOMAIN, (2 << 4)
	PROBE	"client page read", V_D3, P_READ, 0xa5000007
	PROBE_FAULT "client page usr read", V_D3, (P_READ | P_USER), DABT_F(FS_PERM_PAGE)
	CHECKREC "client page dfsr.domain", REC_DFSR, FSR_DOMAIN, (3 << 4)

	NOTE	"manager: AP ignored"
	SETDACR	MANAGER, MANAGER, MANAGER
	PROBE	"manager no-access read", V_D1, P_READ, 0xb5000001
	PROBE	"manager no-access usr read", (V_D1 + 0xffffc), (P_READ | P_USER), 0xb5000001
	PROBE	"manager pl1-ro write", (V_D2 + 4), P_WRITE, 0x22222222
	PROBE	"manager pl1-ro usr write", (V_D2 + 8), (P_WRITE | P_USER), 0x33333333
	PROBE	"manager page usr write", (V_D3 + 0x10), (P_WRITE | P_USER), 0x44444444

	NOTE	"no access: domain faults"
	SETDACR	NOACC, NOACC, NOACC
	PROBE_FAULT "noacc section read", V_D1, P_READ, DABT_F(FS_DOMAIN_SECT)
	CHECKREC "noacc section dfsr.domain", REC_DFSR, FSR_DOMAIN, (1 << 4)
	PROBE_FAULT "noacc section write", (V_D2 + 4), P_WRITE, DABT_F(FSR_WNR | FS_DOMAIN_SECT)
	CHECKREC "noacc section write dfsr.domain", REC_DFSR, FSR_DOMAIN, (2 << 4)
	PROBE_FAULT "noacc page read", V_D3, P_READ, DABT_F(FS_DOMAIN_PAGE)
	CHECKREC "noacc page dfsr.domain", REC_DFSR, FSR_DOMAIN, (3 << 4)
	PROBE_FAULT "noacc page usr write", (V_D3 + 0x10), (P_WRITE | P_USER), DABT_F(FSR_WNR | FS_DOMAIN_PAGE)
	PROBE_FAULT "noacc exec", V_D2, P_EXEC, PABT_F(FS_DOMAIN_SECT)

	NOTE	"back to client, then manager again, entries already in use"
	SETDACR	CLIENT, CLIENT, CLIENT
	PROBE	"client again pl1-ro read", (V_D2 + 4), P_READ, 0x22222222
	PROBE_FAULT "client again pl1-ro write", (V_D2 + 4), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE_FAULT "client again page usr read", (V_D3 + 0x10), (P_READ | P_USER), DABT_F(FS_PERM_PAGE)
	SETDACR	CLIENT, MANAGER, NOACC
	PROBE	"mixed d2 manager write", (V_D2 + 4), P_WRITE, 0x55555555
	PROBE_FAULT "mixed d3 noacc read", V_D3, P_READ, DABT_F(FS_DOMAIN_PAGE)
	PROBE_FAULT "mixed d1 client read", V_D1, P_READ, DABT_F(FS_PERM_SECT)
	SETDACR	CLIENT, CLIENT, CLIENT
	PROBE_FAULT "client d2 write", (V_D2 + 4), P_WRITE, DABT_F(FSR_WNR | FS_PERM_SECT)
	PROBE	"client d3 read", (V_D3 + 0x10), P_READ, 0x44444444

	NOTE	"a DACR change after reads of 199 pages of one domain"
	MOV32	r4, L2TAB(0)		/* V_D3 + i pages -> TPAGE(i & 63), i = 1..199 */
	mov	r5, #1
1:	and	r0, r5, #63
	MOV32	r1, TPAGE(0)
	add	r0, r1, r0, lsl #12
	MOV32	r1, (L2_SMALL | L2_AP(AP_PRIV) | 0xc)
	orr	r0, r0, r1
	str	r0, [r4, r5, lsl #2]
	add	r5, r5, #1
	cmp	r5, #200
	blo	1b
	dsb
	isb
	MOV32	r4, V_D3
	mov	r5, #1
2:	ldr	r0, [r4, r5, lsl #12]	/* every page in use */
	add	r5, r5, #1
	cmp	r5, #200
	blo	2b
	SETDACR	CLIENT, CLIENT, NOACC
	PROBE_FAULT "many pages noacc read", (V_D3 + 150 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	PROBE_FAULT "many pages noacc read low", (V_D3 + 2 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	SETDACR	CLIENT, CLIENT, CLIENT
	PROBE	"many pages client read", (V_D3 + 130 * 0x1000), P_READ, 0xa5000002

	NOTE	"a domain off, on and off again, its page read while on"
	PROBE	"on page read", (V_D3 + 5 * 0x1000), P_READ, 0xa5000005
	SETDACR	CLIENT, CLIENT, NOACC
	SETDACR	CLIENT, CLIENT, CLIENT
	PROBE	"on again page read", (V_D3 + 5 * 0x1000), P_READ, 0xa5000005
	SETDACR	CLIENT, CLIENT, NOACC
	PROBE_FAULT "off again page read", (V_D3 + 5 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	SETDACR	CLIENT, CLIENT, CLIENT

	NOTE	"other code where a DACR write ran, in another mapping of its VA"
	INSTALL	CODE_A, t_dacr, t_dacr_end
	INSTALL	CODE_B, t_mov, t_mov_end
	CALL3	memzero, L2TAB(1), 0x400
	CALL3	set_l1, L1_A, VX, (L2TAB(1) | L1_TABLE | L1_DOM(0))
	CALL3	set_l2, L2TAB(1), VX, PAGE(CODE_A, AP_PRIV)
	CALL3	tlbimva, VX
	MOV32	r0, DACR(CLIENT, CLIENT, CLIENT)
	MOV32	r3, VX
	blx	r3			/* the DACR write at VX */
	CALL3	set_l2, L2TAB(1), VX, PAGE(CODE_B, AP_PRIV)
	CALL3	tlbimva, VX
	MOV32	r0, DACR(NOACC, NOACC, NOACC)
	mov	r1, #0
	MOV32	r3, VX
	blx	r3			/* a MOV at VX now */
	CHECK	"other code at the dacr write's va", r1, 7
	PROBE	"dacr unchanged", V_D2, P_READ, 0xb5000002

	NOTE	"a DACR write in Thumb code"
	PROBE	"thumb on page read", (V_D3 + 6 * 0x1000), P_READ, 0xa5000006
	MOV32	r0, DACR(CLIENT, CLIENT, NOACC)
	blx	thumb_set_dacr
	PROBE_FAULT "thumb off page read", (V_D3 + 6 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	SETDACR	CLIENT, CLIENT, CLIENT

	NOTE	"the reserved domain value 0b10 gives no access, after client access"
	PROBE	"reserved: page read as client", (V_D3 + 6 * 0x1000), P_READ, 0xa5000006
	SETDACR	CLIENT, CLIENT, 2
	PROBE_FAULT "reserved: page read", (V_D3 + 6 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	SETDACR	CLIENT, CLIENT, CLIENT

	NOTE	"a DACR write in a Thumb IT block whose condition fails does nothing"
	PROBE	"thumb it: page read before", (V_D3 + 6 * 0x1000), P_READ, 0xa5000006
	mov	r0, #1
	mov	r1, #1
	MOV32	r2, DACR(CLIENT, CLIENT, NOACC)
	blx	thumb_set_dacr_ne
	mrc	p15, 0, r0, c3, c0, 0
	CHECK	"thumb it: dacr after mcrne, equal", r0, DACR(CLIENT, CLIENT, CLIENT)
	PROBE	"thumb it: page read after mcrne, equal", (V_D3 + 6 * 0x1000), P_READ, 0xa5000006
	mov	r0, #1
	mov	r1, #2
	MOV32	r2, DACR(CLIENT, CLIENT, NOACC)
	blx	thumb_set_dacr_ne
	mrc	p15, 0, r0, c3, c0, 0
	CHECK	"thumb it: dacr after mcrne, not equal", r0, DACR(CLIENT, CLIENT, NOACC)
	PROBE_FAULT "thumb it: page read after mcrne, not equal", (V_D3 + 6 * 0x1000), P_READ, DABT_F(FS_DOMAIN_PAGE)
	SETDACR	CLIENT, CLIENT, CLIENT

	NOTE	"a DACR write in a Thumb IT block, code after it in the same block"
	mov	r4, #0
1:	MOV32	r0, DACR(CLIENT, CLIENT, NOACC)
	blx	thumb_dacr_it_count
	CHECK	"thumb it: instructions after the block ran once", r0, 3
	SETDACR	CLIENT, CLIENT, CLIENT
	add	r4, r4, #1
	cmp	r4, #4
	bne	1b

	NOTE	"domain 0 code keeps running whatever the others say"
	SETDACR	NOACC, NOACC, NOACC
	PROBE	"domain 0 read", TPAGE(1), P_READ, 0xa5000001

	SETDACR	CLIENT, CLIENT, CLIENT
	bl	mmu_off
	pop	{r4-r11, lr}
	b	finish

/* thumb_set_dacr(r0): DACR = r0 from Thumb code */
	.thumb
	.type thumb_set_dacr, %function
	.thumb_func
thumb_set_dacr:
	mcr	p15, 0, r0, c3, c0, 0
	isb
	bx	lr
	.size thumb_set_dacr, . - thumb_set_dacr

/* thumb_set_dacr_ne(r0, r1, r2): DACR = r2 if r0 != r1, by an MCRNE in an IT block */
	.type thumb_set_dacr_ne, %function
	.thumb_func
thumb_set_dacr_ne:
	cmp	r0, r1
	it	ne
	mcrne	p15, 0, r2, c3, c0, 0
	isb
	bx	lr
	.size thumb_set_dacr_ne, . - thumb_set_dacr_ne

/* thumb_dacr_it_count(r0): DACR = r0 by an MCREQ in an IT block that takes it, with no ISB
   before the next branch; returns 3 (each counting ADD after it once). */
	.type thumb_dacr_it_count, %function
	.thumb_func
thumb_dacr_it_count:
	movs	r1, #0
	cmp	r1, r1
	it	eq
	mcreq	p15, 0, r0, c3, c0, 0
	adds	r1, r1, #1
	b	1f
1:	adds	r1, r1, #1
	b	2f
2:	adds	r1, r1, #1
	isb
	mov	r0, r1
	bx	lr
	.size thumb_dacr_it_count, . - thumb_dacr_it_count
	.arm

/* Templates: copied to CODE_A and CODE_B and run there, never run in place. */
	.section .rodata.templates, "a"
	.balign 4
	.arm
t_dacr:
	mcr	p15, 0, r0, c3, c0, 0	/* DACR = r0 */
	isb
	bx	lr
t_dacr_end:
t_mov:
	mov	r1, #7
	isb
	bx	lr
t_mov_end:

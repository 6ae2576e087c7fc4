"""Shadow page tables: the monitor's own record of the guest translations it has handed out.

Structure (see docs/monitor.md, "Data structures"):

* One :class:`ShadowEntry` per guest mapping *as walked*: the range of virtual addresses whose walk
  reads exactly the same descriptors. That is 1 MiB for anything found at the first level (a
  section, or one of the 16 first-level entries of a supersection) and 4 KiB for anything found at
  the second level (a small page, or one of the 16 second-level entries of a large page). A
  section touched at 256 Unicorn pages (4 KiB each) is still one entry; the page's answer is
  computed (``page + delta``). Keeping to the walked range (not the architectural 16 MiB / 64 KiB)
  makes every hit equal to a fresh walk even when a guest does not repeat its supersection or
  large-page entries 16 times.
* Two dicts, by level: ``_l1`` keyed by VA[31:20] and ``_l2`` keyed by VA[31:12]. A non-global
  entry's key also carries its ASID (``(asid + 1) << 20 | index``); a global entry's does not.
  ASIDs are the only tag a TLB entry has (B3.9): an address space is its ASID, and entries of
  ASIDs not currently in use stay, so switching back costs no refills.
* Entries keep the descriptor's *client* permissions for PL1 and PL0 and its domain; the DACR is
  applied at lookup, so a DACR write needs no shadow change (Unicorn flushes its own TLB then).
* A reverse map from each descriptor's physical address (and from each 4 KiB table page) to the
  entries derived from it, for ``wp`` sync and for precise drops.

Invalidation follows B3.10.2/B4.2.3: TLBIALL drops everything; TLBIMVA(mva, asid) the entries of
that ASID and the global entries whose mapping holds mva; TLBIASID(asid) the non-global entries of
that ASID; TLBIMVAA(mva) every entry whose mapping holds mva. Each returns the Unicorn-page-aligned VAs
the caller must flush from Unicorn's TLB, or ``None`` meaning "flush it all" (the cheaper answer
past ``flush_threshold`` pages).

The shadow never holds a walk that ended in a fault. The architecture promises that an entry
generating a Translation or Access flag fault is never held in a TLB (B3.10.1), so a descriptor
made valid must be used at the next access with no TLB operation; a miss always walks afresh.
"""

from __future__ import annotations

from typing import Iterable

from hvd.cpu.arm import UC_PAGE_MASK, UC_PAGE_SIZE
from hvd.monitor.stats import ShadowStats
from hvd.monitor.tlbops import SCOPE_ALL, SCOPE_ASID, SCOPE_MVA, SCOPE_MVAA, TlbOp, operand
from hvd.monitor.walker import RWX, W, Fault, Read32, Translation, walk

# Extra bit in the perms that lookup() returns: W was withheld because the page holds
# guest translation tables and the shadow write-protects them (wp sync).
WP = 8



class ShadowEntry:
    """One shadow mapping. ``delta`` turns a VA inside ``cover`` into its PA (``va + delta``)."""

    __slots__ = ("key", "level", "kind", "va_base", "size", "cover_base", "cover_size", "delta",
                 "client_pl1", "client_pl0", "domain", "global_", "asid", "sources")

    def __init__(self, key: int, tr: Translation) -> None:
        self.key = key
        self.level = tr.level
        self.kind = tr.kind
        self.va_base = tr.va_base
        self.size = tr.size
        self.cover_base = tr.cover_base
        self.cover_size = tr.cover_size
        self.delta = tr.pa_base - tr.va_base
        self.client_pl1 = tr.client_pl1
        self.client_pl0 = tr.client_pl0
        self.domain = tr.domain
        self.global_ = tr.global_
        self.asid = tr.asid
        src = tr.sources
        if len(src) == 2 and src[0] == src[1]:  # hostile tables: an L1 entry that is its own L2
            src = src[:1]
        self.sources = src

    def contains(self, va: int) -> bool:
        return self.va_base <= va < self.va_base + self.size

    def perms(self, pl: int, dacr: int) -> int:
        d = (dacr >> (self.domain << 1)) & 3
        if d == 3:
            return RWX
        if d == 1:
            return self.client_pl1 if pl else self.client_pl0
        return 0

    def __repr__(self) -> str:
        g = "global" if self.global_ else f"asid={self.asid}"
        return (f"ShadowEntry({self.kind}, cover={self.cover_base:#010x}+{self.cover_size:#x}, "
                f"map={self.va_base:#010x}+{self.size:#x}, delta={self.delta:#x}, "
                f"dom={self.domain}, pl1={self.client_pl1:03b}, pl0={self.client_pl0:03b}, {g})")


class ShadowTables:
    """The shadow page tables of one VM (one vCPU)."""

    def __init__(self, *, write_protect: bool = False, stats: ShadowStats | None = None,
                 flush_threshold: int = 64, max_entries: int = 1 << 18) -> None:
        self.write_protect = write_protect
        self.stats = stats if stats is not None else ShadowStats()
        self.flush_threshold = flush_threshold
        self.max_entries = max_entries
        self._l1: dict[int, ShadowEntry] = {}
        self._l2: dict[int, ShadowEntry] = {}
        self._by_asid: dict[int, set[ShadowEntry]] = {}
        self._by_desc: dict[int, set[ShadowEntry]] = {}
        self._by_page: dict[int, set[ShadowEntry]] = {}
        self._n_super = 0       # entries that are part of a supersection
        self._n_large = 0       # entries that are part of a large page
        #: the C TLB-operation hook's record of the pages entries were held for (see
        #: ``hvd/monitor/_tlbop.c``): bit sets on insert, emptied with the shadow
        self.marks = None
        self._mb_refs: dict[int, int] = {}  # MiB -> entries marking it
        self._pg_refs: dict[int, int] = {}  # 4 KiB page -> entries marking it
        # Set when an insert needs Unicorn's whole TLB flushed (a page became a protected
        # table page in wp mode, or the shadow was reset at max_entries). The caller clears it.
        self.pending_flush_all = False

    # --- the hot path -----------------------------------------------------------------------------

    def lookup(self, va: int, asid: int, pl: int, dacr: int) -> tuple[int, int] | None:
        """(PA of the Unicorn page of ``va``, perms) for the current ASID, PL and DACR, or None.

        None means: no entry, or the entry's domain is no-access under ``dacr`` (the walk then
        produces the domain fault). The perms may lack the access being made (walk to get the
        permission fault); with write protection they may carry :data:`WP` in place of W.
        """
        e = self._l1.get(va >> 20)
        if e is None:
            a = (asid + 1) << 20
            pg = va >> 12
            e = self._l2.get(a | pg)
            if e is None:
                e = self._l2.get(pg)
                if e is None:
                    e = self._l1.get(a | (va >> 20))
                    if e is None:
                        return None
        d = (dacr >> (e.domain << 1)) & 3
        if d == 1:
            perms = e.client_pl1 if pl else e.client_pl0
        elif d == 3:
            perms = RWX
        else:
            return None
        pa = (va & UC_PAGE_MASK) + e.delta
        if self.write_protect and perms & W and (pa >> 12) in self._by_page:
            perms = (perms & ~W) | WP
        return pa, perms

    def entry(self, va: int, asid: int) -> ShadowEntry | None:
        """The entry lookup() would use for ``va`` under ``asid`` (tests, the gdb stub, and the fill
        hook for the answer's global bit and domain)."""
        a = (asid + 1) << 20
        return (self._l1.get(va >> 20) or self._l2.get(a | (va >> 12))
                or self._l2.get(va >> 12) or self._l1.get(a | (va >> 20)))

    def insert(self, tr: Translation) -> ShadowEntry | None:
        """Record a successful walk. Flat (MMU off) translations are not recorded."""
        level = tr.level
        if level == 0:
            return None
        if level == 1:
            key = tr.va >> 20
            table = self._l1
        else:
            key = tr.va >> 12
            table = self._l2
        if not tr.global_:
            key |= (tr.asid + 1) << 20
        old = table.get(key)
        if old is not None:
            self._unlink(old)
        if len(self._l1) + len(self._l2) >= self.max_entries:
            self.clear()
            self.pending_flush_all = True
        e = ShadowEntry(key, tr)
        table[key] = e
        if self.marks is not None:
            self._mark(e, 1)
        if e.kind == "supersection":
            self._n_super += 1
        elif e.kind == "large":
            self._n_large += 1
        if not e.global_:
            s = self._by_asid.get(e.asid)
            if s is None:
                s = self._by_asid[e.asid] = set()
            s.add(e)
        by_desc = self._by_desc
        by_page = self._by_page
        for src in e.sources:
            s = by_desc.get(src)
            if s is None:
                s = by_desc[src] = set()
            s.add(e)
            page = src >> 12
            s = by_page.get(page)
            if s is None:
                s = by_page[page] = set()
                if self.write_protect:
                    self.pending_flush_all = True
            s.add(e)
        return e

    def translate(self, va: int, access: int, pl: int, *, read32: Read32, ttbr0: int,
                  ttbr1: int, ttbcr: int, dacr: int, contextidr: int,
                  sctlr: int) -> tuple[int, int] | Fault:
        """The whole fill path: shadow hit, else walk and insert, else the guest's fault.

        Returns (PA of the Unicorn page, perms) or the :class:`Fault` to inject. The perms may
        carry :data:`WP` (a write to a protected table page, where the guest's tables allow it).
        """
        st = self.stats
        st.fills += 1
        if not sctlr & 1:
            return va & UC_PAGE_MASK, RWX
        hit = self.lookup(va, contextidr & 0xFF, pl, dacr)
        if hit is not None and hit[1] & (access | WP if access == W else access):
            return hit
        r = walk(va, read32=read32, ttbr0=ttbr0, ttbr1=ttbr1, ttbcr=ttbcr, dacr=dacr,
                 contextidr=contextidr, sctlr=sctlr, access=access, pl=pl)
        if isinstance(r, Fault):
            st.guest_faults += 1
            return r
        st.hidden_faults += 1
        e = self.insert(r)
        perms = r.perms_pl1 if pl else r.perms_pl0
        pa = (va & UC_PAGE_MASK) + e.delta  # type: ignore[union-attr]
        if self.write_protect and perms & W and (pa >> 12) in self._by_page:
            perms = (perms & ~W) | WP
        return pa, perms

    # --- invalidation ---------------------------------------------------------------------------

    def invalidate_all(self) -> None:
        """TLBIALL: drop every entry. Returns None: flush all of Unicorn's TLB."""
        self.stats.invalidated += len(self._l1) + len(self._l2)
        self.stats.flush_all += 1
        self.clear()
        return None

    def invalidate_mva(self, mva: int, asid: int) -> list[int] | None:
        """TLBIMVA: entries of ``asid`` and global entries whose mapping holds ``mva``."""
        mva &= 0xFFFFF000
        dropped = self._find_mva(mva, 0) + self._find_mva(mva, (asid + 1) << 20)
        return self._drop(dropped, always=mva)

    def invalidate_mva_all_asids(self, mva: int) -> list[int] | None:
        """TLBIMVAA: every entry, global or of any ASID, whose mapping holds ``mva``."""
        mva &= 0xFFFFF000
        dropped = self._find_mva(mva, 0)
        for asid in list(self._by_asid):
            dropped += self._find_mva(mva, (asid + 1) << 20)
        return self._drop(dropped, always=mva)

    def invalidate_asid(self, asid: int) -> list[int] | None:
        """TLBIASID: every non-global entry of ``asid``."""
        return self._drop(list(self._by_asid.get(asid & 0xFF, ())))

    def drop_by_descriptor(self, pa: int) -> list[int] | None:
        """Drop the entries derived from the descriptor word at physical address ``pa``."""
        return self._drop(list(self._by_desc.get(pa & ~3, ())))

    def drop_by_write(self, pa: int, size: int) -> list[int] | None:
        """Drop the entries derived from any descriptor in the ``size`` bytes written at ``pa``."""
        found: dict[ShadowEntry, None] = {}
        by_desc = self._by_desc
        for word in range(pa & ~3, pa + max(size, 1), 4):
            for e in by_desc.get(word, ()):
                found[e] = None
        return self._drop(list(found))

    def apply_tlb_op(self, op: TlbOp, value: int) -> list[int] | None:
        """Carry out a guest TLB maintenance operation (any side, any shareability)."""
        self.stats.count_tlb_op(op.name)
        mva, asid = operand(op, value)
        scope = op.scope
        if scope == SCOPE_MVA:
            return self.invalidate_mva(mva, asid)  # type: ignore[arg-type]
        if scope == SCOPE_ASID:
            return self.invalidate_asid(asid)  # type: ignore[arg-type]
        if scope == SCOPE_MVAA:
            return self.invalidate_mva_all_asids(mva)  # type: ignore[arg-type]
        assert scope == SCOPE_ALL
        return self.invalidate_all()

    def clear(self) -> None:
        """Forget everything (no statistics counted)."""
        if self.marks is not None:
            self.marks.clear()
        self._mb_refs.clear()
        self._pg_refs.clear()
        self._l1.clear()
        self._l2.clear()
        self._by_asid.clear()
        self._by_desc.clear()
        self._by_page.clear()
        self._n_super = self._n_large = 0

    # --- introspection ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._l1) + len(self._l2)

    def entries(self) -> Iterable[ShadowEntry]:
        yield from self._l1.values()
        yield from self._l2.values()

    def is_table_page(self, pa: int) -> bool:
        """Whether the 4 KiB physical page of ``pa`` holds a descriptor some entry came from."""
        return (pa >> 12) in self._by_page

    def table_pages(self) -> list[int]:
        """Physical addresses of the 4 KiB pages holding descriptors in use."""
        return sorted(p << 12 for p in self._by_page)

    def entries_for_table_page(self, pa: int) -> list[ShadowEntry]:
        return list(self._by_page.get(pa >> 12, ()))

    def asids(self) -> list[int]:
        return sorted(a for a, s in self._by_asid.items() if s)

    # --- internals --------------------------------------------------------------------------------

    def _find_mva(self, mva: int, space: int) -> list[ShadowEntry]:
        out = []
        e = self._l1.get(space | (mva >> 20))
        if e is not None:
            out.append(e)
        if self._n_super:
            # the other first-level entries of a supersection holding mva
            first = (mva >> 20) & ~15
            for mb in range(first, first + 16):
                if mb != mva >> 20:
                    e = self._l1.get(space | mb)
                    if e is not None and e.kind == "supersection" and e.contains(mva):
                        out.append(e)
        e = self._l2.get(space | (mva >> 12))
        if e is not None:
            out.append(e)
        if self._n_large:
            first = (mva >> 12) & ~15
            for pg in range(first, first + 16):
                if pg != mva >> 12:
                    e = self._l2.get(space | pg)
                    if e is not None and e.kind == "large" and e.contains(mva):
                        out.append(e)
        return out

    def _mark(self, e: ShadowEntry, delta: int) -> None:
        """Count ``e`` in (+1) or out (-1) of the C TLB-operation hook's bitmap: a bit is set
        while some entry covers that page or MiB, for every page a by-MVA operation could drop
        ``e`` for (a large page's or supersection's other parts too: _find_mva looks at them)."""
        m = self.marks
        if e.level == 1:
            refs, view, n, big = self._mb_refs, m.mbs, e.cover_base >> 20, e.kind == "supersection"
        else:
            refs, view, n, big = self._pg_refs, m.pages, e.cover_base >> 12, e.kind == "large"
        for i in (range(n & ~15, (n & ~15) + 16) if big else (n,)):
            c = refs.get(i, 0) + delta
            if c > 0:
                refs[i] = c
                if c == 1 and delta > 0:
                    view[i >> 3] |= 1 << (i & 7)
            else:
                refs.pop(i, None)
                view[i >> 3] &= ~(1 << (i & 7)) & 0xFF

    def _unlink(self, e: ShadowEntry) -> None:
        table = self._l1 if e.level == 1 else self._l2
        if table.get(e.key) is e:
            del table[e.key]
            if self.marks is not None:
                self._mark(e, -1)
        if e.kind == "supersection":
            self._n_super -= 1
        elif e.kind == "large":
            self._n_large -= 1
        if not e.global_:
            s = self._by_asid.get(e.asid)
            if s is not None:
                s.discard(e)
                if not s:
                    del self._by_asid[e.asid]
        for src in e.sources:
            s = self._by_desc.get(src)
            if s is not None:
                s.discard(e)
                if not s:
                    del self._by_desc[src]
            s = self._by_page.get(src >> 12)
            if s is not None:
                s.discard(e)
                if not s:
                    del self._by_page[src >> 12]

    def _drop(self, entries: list[ShadowEntry], always: int | None = None) -> list[int] | None:
        """Unlink ``entries``; return the Unicorn pages to flush from Unicorn, or None for all."""
        pages: dict[int, None] = {}
        if always is not None:  # the MVA's own 4 KiB, whatever the shadow holds
            for off in range(0, 0x1000, UC_PAGE_SIZE):
                pages[always + off] = None
        limit = self.flush_threshold
        flush_all = False
        done: set[int] = set()
        for e in entries:
            if id(e) in done:
                continue
            done.add(id(e))
            self._unlink(e)
            self.stats.invalidated += 1
            if flush_all:
                continue
            if e.cover_size // UC_PAGE_SIZE + len(pages) > limit:
                flush_all = True
                continue
            for off in range(0, e.cover_size, UC_PAGE_SIZE):
                pages[e.cover_base + off] = None
        if flush_all:
            self.stats.flush_all += 1
            return None
        return list(pages)

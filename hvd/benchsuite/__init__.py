"""``hvd bench`` suites: compute (hvd vs raw Unicorn vs QEMU), mmu (shadow/tlb vs shadow/wp vs
native on MMU-heavy guests) and linux (Debian's kernel under hvd beside QEMU).

Every figure is reported against a baseline measured in the same run. Each suite module has a
``run(quick: bool, console) -> dict`` returning a JSON-ready result and printing rich tables.
"""

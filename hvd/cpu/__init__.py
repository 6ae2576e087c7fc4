"""The vCPU: Unicorn as the hardware, plus what Unicorn leaves to us (exception entry, CP15 traps)."""

"""The pure core: parse, classify, size, schedule, plan, render; no I/O, no clock."""

//! floe-core: the pure heart of floe (no I/O, no chain).

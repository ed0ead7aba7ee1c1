//! floe-node: the storage node daemon.

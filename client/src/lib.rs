//! floe-client: the SDK behind the `floe` CLI.

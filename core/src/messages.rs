//! The messages nodes sign, byte for byte what the contracts hash to G2.

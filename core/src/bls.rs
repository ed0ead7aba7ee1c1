//! BLS12-381 min-pk signatures (keys in G1, signatures in G2) with `blst`.

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title BLS12-381 min-pk verification with the EIP-2537 precompiles
/// @notice Public keys are G1 points (128 bytes), signatures G2 points (256 bytes), both in the
/// EIP-2537 encoding: each base field element is 64 bytes (16 zero bytes, then 48 big-endian
/// bytes), an Fp2 element is `c0 ‖ c1`, a G1 point `x ‖ y`, a G2 point `x ‖ y`, the identity is
/// all zeros. Messages are hashed to G2 per RFC 9380 (`BLS12381G2_XMD:SHA-256_SSWU_RO_`) with the
/// SHA-256 (0x02) and modexp (0x05) precompiles and MAP_FP2_TO_G2 (0x11) + G2ADD (0x0d).
/// @dev Failure policy:
/// - `verify` and `verifyWithHash` never revert on bad input: wrong lengths, the identity as key or
///   signature, coordinates not below p, points off the curve or outside the subgroup all return
///   false.
/// - Bounded gas: a precompile that rejects its input consumes all the gas it was given, so every
///   precompile call gets a stipend from its gas schedule for that input size (EIP-2537 as in
///   Prague; SHA-256 60 + 12 per word; modexp with headroom over EIP-2565 and EIP-7883) instead of
///   all remaining gas. A malformed or non-subgroup point thus costs at most the stipend (the
///   pairing: 102,900), never 63/64 of the transaction's gas. A fork that raised these prices would
///   make verification fail closed (false), never pass.
/// - `hashToG2` reverts with `InvalidDstLength` for an empty DST or one longer than 255 bytes (and
///   with `PrecompileFailed(MAP_FP2_TO_G2)` only if a precompile is missing or runs out of gas).
/// - The point arithmetic (`g1Add`, `g2Add`, `aggregate`) reverts with `InvalidPointLength` or
///   `PrecompileFailed` on malformed points; `g1Negate` reverts with `InvalidPointLength` only.
///   G1ADD/G2ADD check neither the subgroup nor the identity: the pairing in `verify` does.
/// Gas (Prague pricing): `hashToG2` ~54k, `verify` ~158k (pairing 102.9k + two maps 47.6k + the rest).
library BLS {
    /// @notice A point or key has the wrong number of bytes.
    error InvalidPointLength(uint256 length, uint256 expected);
    /// @notice The DST is empty or longer than 255 bytes (RFC 9380 section 5.3.3 would hash it).
    error InvalidDstLength(uint256 length);
    /// @notice A precompile rejected its input (malformed point) or is missing on this chain.
    error PrecompileFailed(address precompile);
    /// @notice `aggregate` was given no keys.
    error EmptyAggregate();

    /// @notice Domain separation tag of floe's signatures.
    bytes internal constant DST = "FLOE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

    /// @dev Precompile addresses (EIP-2537 as activated in Prague, SHA-256, modexp).
    address internal constant SHA256 = address(0x02);
    address internal constant MODEXP = address(0x05);
    address internal constant G1ADD = address(0x0b);
    address internal constant G2ADD = address(0x0d);
    address internal constant PAIRING = address(0x0f);
    address internal constant MAP_FP2_TO_G2 = address(0x11);

    /// @dev Gas stipends (EIP-2537 Prague schedule): G1ADD 375, G2ADD 600, MAP_FP2_TO_G2 23,800,
    /// pairing 32,600 per pair + 37,700 (2 pairs here); SHA-256 60 + 12 per 32-byte word; modexp
    /// of a 64-byte base, 1-byte exponent, 48-byte modulus costs 200 (EIP-2565) or 500 (EIP-7883).
    uint256 internal constant G1ADD_GAS = 375;
    uint256 internal constant G2ADD_GAS = 600;
    uint256 internal constant MAP_FP2_TO_G2_GAS = 23_800;
    uint256 internal constant PAIRING_2_GAS = 2 * 32_600 + 37_700;
    uint256 internal constant SHA256_BASE_GAS = 60;
    uint256 internal constant SHA256_WORD_GAS = 12;
    uint256 internal constant MODEXP_GAS = 1_200;

    /// @dev The base field modulus p, as its top 16 bytes and its low 32 bytes.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// @dev -G1 generator: x, then p - y, each as (top 16 bytes, low 32 bytes).
    uint256 private constant NEG_G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant NEG_G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    /// @notice Hashes `message` to G2 per RFC 9380 `BLS12381G2_XMD:SHA-256_SSWU_RO_` under `dst`.
    /// @return point The point in the EIP-2537 encoding (256 bytes).
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        uint256 outPtr;
        assembly ("memory-safe") {
            point := mload(0x40)
            mstore(point, 256)
            outPtr := add(point, 0x20)
            mstore(0x40, add(outPtr, 256))
        }
        _hashToG2(message, dst, outPtr);
    }

    /// @notice True if `signature` (G2, 256 bytes) is valid for `message` under `publicKey`
    /// (G1, 128 bytes) and floe's `DST`. Returns false on any malformed input.
    function verify(bytes memory publicKey, bytes memory message, bytes memory signature)
        internal
        view
        returns (bool ok)
    {
        if (publicKey.length != 128 || signature.length != 256) return false;
        bytes memory dst = DST;
        // Pairing input: pk (128) ‖ H(m) (256) ‖ -g1 (128) ‖ signature (256).
        uint256 buf;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, 768))
        }
        _hashToG2(message, dst, buf + 128);
        return _pairingCheck(publicKey, buf, signature);
    }

    /// @notice As `verify`, with the message already hashed to G2 (`hashedMessage`, 256 bytes,
    /// e.g. from `hashToG2`). Returns false on any malformed input.
    function verifyWithHash(bytes memory publicKey, bytes memory hashedMessage, bytes memory signature)
        internal
        view
        returns (bool ok)
    {
        if (publicKey.length != 128 || hashedMessage.length != 256 || signature.length != 256) return false;
        uint256 buf;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, 768))
            mcopy(add(buf, 128), add(hashedMessage, 0x20), 256)
        }
        return _pairingCheck(publicKey, buf, signature);
    }

    /// @notice a + b in G1 (EIP-2537 encodings, 128 bytes each). Reverts on malformed points.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        if (a.length != 128) revert InvalidPointLength(a.length, 128);
        if (b.length != 128) revert InvalidPointLength(b.length, 128);
        bool success;
        assembly ("memory-safe") {
            sum := mload(0x40)
            mstore(sum, 128)
            let out := add(sum, 0x20)
            mstore(0x40, add(out, 128))
            // Input (256 bytes) goes above the result, which the precompile then writes.
            let input := add(out, 128)
            mcopy(input, add(a, 0x20), 128)
            mcopy(add(input, 128), add(b, 0x20), 128)
            success := staticcall(G1ADD_GAS, 0x0b, input, 256, out, 128)
        }
        if (!success) revert PrecompileFailed(G1ADD);
    }

    /// @notice a + b in G2 (EIP-2537 encodings, 256 bytes each), e.g. to aggregate signatures.
    /// Reverts on malformed points.
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        if (a.length != 256) revert InvalidPointLength(a.length, 256);
        if (b.length != 256) revert InvalidPointLength(b.length, 256);
        bool success;
        assembly ("memory-safe") {
            sum := mload(0x40)
            mstore(sum, 256)
            let out := add(sum, 0x20)
            mstore(0x40, add(out, 256))
            let input := add(out, 256)
            mcopy(input, add(a, 0x20), 256)
            mcopy(add(input, 256), add(b, 0x20), 256)
            success := staticcall(G2ADD_GAS, 0x0d, input, 512, out, 256)
        }
        if (!success) revert PrecompileFailed(G2ADD);
    }

    /// @notice -p in G1 (EIP-2537 encoding): y becomes p - y; the identity stays the identity.
    /// @dev Does not validate `p` beyond its length: a y coordinate that is not a canonical field
    /// element yields an encoding every precompile rejects.
    function g1Negate(bytes memory p) internal pure returns (bytes memory neg) {
        if (p.length != 128) revert InvalidPointLength(p.length, 128);
        assembly ("memory-safe") {
            neg := mload(0x40)
            mstore(neg, 128)
            mstore(0x40, add(neg, 0xa0))
            mcopy(add(neg, 0x20), add(p, 0x20), 64)
            let yHi := mload(add(p, 0x60))
            let yLo := mload(add(p, 0x80))
            switch or(yHi, yLo)
            case 0 {
                mstore(add(neg, 0x60), 0)
                mstore(add(neg, 0x80), 0)
            }
            default {
                mstore(add(neg, 0x80), sub(P_LO, yLo))
                mstore(add(neg, 0x60), sub(sub(P_HI, yHi), lt(P_LO, yLo)))
            }
        }
    }

    /// @notice The sum of `keys` (G1, EIP-2537): the key verifying the aggregate of their signatures
    /// on one message. Only safe for keys whose proof of possession was checked. Reverts on
    /// malformed keys or an empty list.
    function aggregate(bytes[] memory keys) internal view returns (bytes memory sum) {
        uint256 count = keys.length;
        if (count == 0) revert EmptyAggregate();
        bytes memory first = keys[0];
        if (first.length != 128) revert InvalidPointLength(first.length, 128);
        uint256 acc;
        assembly ("memory-safe") {
            sum := mload(0x40)
            mstore(sum, 128)
            acc := add(sum, 0x20)
            // Working buffer: acc (128) ‖ next (128); the precompile writes the sum over acc.
            mstore(0x40, add(acc, 128))
            mcopy(acc, add(first, 0x20), 128)
        }
        for (uint256 i = 1; i < count; ++i) {
            bytes memory key = keys[i];
            if (key.length != 128) revert InvalidPointLength(key.length, 128);
            bool success;
            assembly ("memory-safe") {
                mcopy(add(acc, 128), add(key, 0x20), 128)
                success := staticcall(G1ADD_GAS, 0x0b, acc, 256, acc, 128)
            }
            if (!success) revert PrecompileFailed(G1ADD);
        }
    }

    /// @dev Fills `buf` with pk ‖ (H(m) already at buf+128) ‖ -g1 ‖ sig and runs the pairing check
    /// e(pk, H(m)) · e(-g1, sig) == 1. The identity as key or signature never verifies.
    function _pairingCheck(bytes memory publicKey, uint256 buf, bytes memory signature) private view returns (bool ok) {
        assembly ("memory-safe") {
            let pk := add(publicKey, 0x20)
            let sig := add(signature, 0x20)
            let pkZero :=
                iszero(or(or(mload(pk), mload(add(pk, 0x20))), or(mload(add(pk, 0x40)), mload(add(pk, 0x60)))))
            let sigZero :=
                iszero(
                    or(
                        or(or(mload(sig), mload(add(sig, 0x20))), or(mload(add(sig, 0x40)), mload(add(sig, 0x60)))),
                        or(
                            or(mload(add(sig, 0x80)), mload(add(sig, 0xa0))),
                            or(mload(add(sig, 0xc0)), mload(add(sig, 0xe0)))
                        )
                    )
                )
            if iszero(or(pkZero, sigZero)) {
                mcopy(buf, pk, 128)
                let g := add(buf, 384)
                mstore(g, NEG_G1_X_HI)
                mstore(add(g, 0x20), NEG_G1_X_LO)
                mstore(add(g, 0x40), NEG_G1_Y_HI)
                mstore(add(g, 0x60), NEG_G1_Y_LO)
                mcopy(add(buf, 512), sig, 256)
                let success := staticcall(PAIRING_2_GAS, 0x0f, buf, 768, 0x00, 0x20)
                ok := and(success, eq(mload(0x00), 1))
            }
        }
    }

    /// @dev hash_to_curve: expand_message_xmd(msg, dst, 256) with SHA-256, four 64-byte chunks
    /// reduced mod p (u0 = (c0, c1), u1 = (c0, c1)), map_to_curve of each with MAP_FP2_TO_G2 (which
    /// also clears the cofactor) and their sum with G2ADD, written to `out` (256 bytes).
    /// Uses free memory above the free memory pointer as scratch without claiming it.
    function _hashToG2(bytes memory message, bytes memory dst, uint256 out) private view {
        uint256 dstLen = dst.length;
        if (dstLen == 0 || dstLen > 255) revert InvalidDstLength(dstLen);
        bool success;
        assembly ("memory-safe") {
            // Scratch starts past both the free memory pointer and `out`.
            let s := mload(0x40)
            if lt(s, add(out, 256)) { s := add(out, 256) }
            let msgLen := mload(message)

            // ---- b0 = H(Z_pad(64) ‖ msg ‖ I2OSP(256, 2) ‖ 0x00 ‖ DST ‖ I2OSP(len(DST), 1)) ----
            mstore(s, 0)
            mstore(add(s, 0x20), 0)
            mcopy(add(s, 0x40), add(message, 0x20), msgLen)
            let q := add(add(s, 0x40), msgLen)
            // 0x01 0x00 (256 as two bytes), 0x00, then DST and its length.
            mstore(q, shl(240, 0x0100))
            mstore8(add(q, 2), 0)
            mcopy(add(q, 3), add(dst, 0x20), dstLen)
            mstore8(add(add(q, 3), dstLen), dstLen)
            let primeLen := add(add(0x40, msgLen), add(4, dstLen))
            // Hashes go to `u` (uniform bytes, 256), b0 kept in `b0`.
            let u := add(add(s, primeLen), 0x20)
            success := staticcall(
                add(SHA256_BASE_GAS, mul(SHA256_WORD_GAS, shr(5, add(primeLen, 31)))),
                0x02,
                s,
                primeLen,
                u,
                0x20
            )
            let b0 := mload(u)

            // ---- b_i = H((b0 xor b_{i-1}) ‖ I2OSP(i, 1) ‖ DST_prime), i = 1..8 ----
            // Buffer `t`: 32-byte chain value ‖ i ‖ DST ‖ len(DST).
            let t := add(u, 256)
            mcopy(add(t, 33), add(dst, 0x20), dstLen)
            mstore8(add(add(t, 33), dstLen), dstLen)
            let tLen := add(34, dstLen)
            let shaGas := add(SHA256_BASE_GAS, mul(SHA256_WORD_GAS, shr(5, add(tLen, 31))))
            mstore(t, b0)
            mstore8(add(t, 32), 1)
            success := and(success, staticcall(shaGas, 0x02, t, tLen, u, 0x20))
            for { let i := 2 } lt(i, 9) { i := add(i, 1) } {
                let dstPtr := add(u, shl(5, sub(i, 1)))
                mstore(t, xor(b0, mload(sub(dstPtr, 0x20))))
                mstore8(add(t, 32), i)
                success := and(success, staticcall(shaGas, 0x02, t, tLen, dstPtr, 0x20))
            }

            // ---- hash_to_field: four 64-byte chunks mod p via modexp(base, 1, p) ----
            // Modexp input `e`: Lb = 64, Le = 1, Lm = 48, base (64), exponent 0x01, p (48).
            let e := add(t, add(tLen, 0x20))
            mstore(e, 64)
            mstore(add(e, 0x20), 1)
            mstore(add(e, 0x40), 48)
            mstore(add(e, 0xa1), shl(128, P_HI))
            mstore(add(e, 0xb1), P_LO)
            mstore8(add(e, 0xa0), 1)
            // Field elements `f`: u0.c0 ‖ u0.c1 ‖ u1.c0 ‖ u1.c1, 64 bytes each (EIP-2537 Fp).
            let f := add(e, 0x100)
            for { let k := 0 } lt(k, 4) { k := add(k, 1) } {
                let chunk := add(u, shl(6, k))
                mstore(add(e, 0x60), mload(chunk))
                mstore(add(e, 0x80), mload(add(chunk, 0x20)))
                let fk := add(f, shl(6, k))
                mstore(fk, 0)
                success := and(success, staticcall(MODEXP_GAS, 0x05, e, 209, add(fk, 16), 48))
            }

            // ---- map each Fp2 element to G2 and add the two points ----
            let g := add(f, 256)
            success := and(success, staticcall(MAP_FP2_TO_G2_GAS, 0x11, f, 128, g, 256))
            success := and(success, staticcall(MAP_FP2_TO_G2_GAS, 0x11, add(f, 128), 128, add(g, 256), 256))
            success := and(success, staticcall(G2ADD_GAS, 0x0d, g, 512, out, 256))
        }
        if (!success) revert PrecompileFailed(MAP_FP2_TO_G2);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title BLS12-381 min-pk verification with the EIP-2537 precompiles (stub: being written)
library BLS {
    /// @notice Thrown while the library is not implemented yet.
    error NotImplemented();

    /// @notice Domain separation tag of floe's signatures.
    bytes internal constant DST = "FLOE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

    /// @notice Hashes `message` to G2 (EIP-2537 encoding, 256 bytes) per RFC 9380 with `dst`.
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (bytes memory) {
        message;
        dst;
        revert NotImplemented();
    }

    /// @notice True if `signature` (G2, 256 bytes) is valid for `message` under `publicKey` (G1, 128 bytes), DST above.
    function verify(bytes memory publicKey, bytes memory message, bytes memory signature) internal view returns (bool) {
        publicKey;
        message;
        signature;
        revert NotImplemented();
    }

    /// @notice a + b in G1 (EIP-2537 encodings).
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory) {
        a;
        b;
        revert NotImplemented();
    }

    /// @notice -p in G1 (EIP-2537 encoding).
    function g1Negate(bytes memory p) internal pure returns (bytes memory) {
        p;
        revert NotImplemented();
    }
}

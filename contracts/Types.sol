// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// Shared types of the HRSS trust registries. Enum values are part of the wire format (they
// appear as `uint8` in every ABI and in the off-chain receipts), so members may only be appended.

/// @notice Role of an entity in the accreditation tree: Ministry → Province → {Issuer, Employer,
/// DataUser, Court, CardIssuer}, and Ministry → CardIssuer (the national card service platform).
/// A `CardIssuer` (card service platform or provincial card centre) is the only kind that may be
/// allowed the electronic social security card type.
enum Kind {
    None,
    Ministry,
    Province,
    Issuer,
    Employer,
    DataUser,
    Court,
    CardIssuer
}

/// @notice Lifecycle of an entity or a credential. `Revoked` is terminal.
enum Status {
    None,
    Active,
    Suspended,
    Revoked
}

/// @notice What a registered key may be used for; every verifier accepts only keys of the purpose it
/// checks (the token endpoint client authentication, the credential verifier credential signing,
/// labour contract and evidence checks document signing).
enum KeyPurpose {
    None,
    ClientAuthentication,
    CredentialSigning,
    DocumentSigning,
    Anchoring
}

/// @notice The part of `TrustRegistry` that the other registries rely on.
/// @dev Declared here rather than imported from `TrustRegistry.sol` so that the dependent
/// registries compile against the interface only and cannot reach into its storage layout.
interface ITrustRegistry {
    function entity(bytes32 id)
        external
        view
        returns (uint8 kind, uint32 region, bytes32 parent, uint8 status);

    function isActive(bytes32 id) external view returns (bool);

    function isActiveAt(bytes32 id, uint64 t) external view returns (bool);

    function isController(bytes32 id, address account) external view returns (bool);

    function activeAnchoringEntity(address account) external view returns (bytes32 entityId, bool active);
}

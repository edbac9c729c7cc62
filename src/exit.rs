//! Exit codes, as documented in the README.

/// The command did what was asked (including "no changes").
pub const SUCCESS: u8 = 0;
/// The operation failed.
pub const FAILURE: u8 = 1;
/// The command line was wrong.
pub const USAGE: u8 = 2;
/// Manifests are invalid.
pub const INVALID_MANIFESTS: u8 = 3;
/// A deployment failed and was rolled back.
pub const ROLLED_BACK: u8 = 4;
/// Interrupted by the user.
pub const INTERRUPTED: u8 = 130;

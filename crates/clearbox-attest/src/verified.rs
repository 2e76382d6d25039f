//! The proof type that marks a value as cryptographically verified.

use std::ops::Deref;

/// A value whose signature was checked against a public key by a verification function of this
/// crate.
///
/// Only this crate can construct a `Verified<T>`, so code that requires one (reports, admission
/// decisions) cannot be handed a payload whose signature was never checked. Cloning is allowed:
/// a copy of a verified value is still verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    value: T,
}

impl<T> Verified<T> {
    /// Wraps a value whose verification just succeeded.
    pub(crate) fn new(value: T) -> Self {
        Verified { value }
    }

    /// Converts the verified value, keeping the proof; only for conversions that derive the new
    /// value from the verified bytes alone.
    pub(crate) fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Verified<U>, E> {
        f(self.value).map(Verified::new)
    }

    /// The verified value.
    #[must_use]
    pub fn get(&self) -> &T {
        &self.value
    }

    /// Unwraps the value, dropping the proof.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

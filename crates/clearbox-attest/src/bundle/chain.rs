//! Certificate paths (RFC 5280 section 6) from a signing or timestamping certificate to an
//! authority of the trusted root.
//!
//! Only the trusted root's chains are used to build a path, never certificates from the bundle,
//! so the bundle cannot add a trust anchor. For each candidate path:
//!
//! 1. the leaf's issuer name is the subject of a certificate in the authority's chain, and the
//!    leaf's signature verifies with that certificate's key;
//! 2. each certificate above it is issued, by name and signature, by the next one in the chain;
//! 3. every issuing certificate is a CA (`cA` in basic constraints, `keyCertSign` when key usage
//!    is present) whose path length constraint allows the intermediates below it;
//! 4. no certificate on the path has a critical extension this crate does not understand.
//!
//! Validity in time is checked separately, at each verified signing time ([`valid_at`]):
//! every certificate on the path covers the time and so does the authority's `validFor`.

use super::certificate::Certificate;
use super::time::Timestamp;
use super::trusted_root::Authority;

/// A path from a leaf certificate to an authority of the trusted root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertificatePath<'a> {
    pub(crate) authority: &'a Authority,
    /// The certificates above the leaf, its issuer first. Empty when the leaf is itself the
    /// last certificate of the authority's chain.
    pub(crate) issuers: &'a [Certificate],
}

/// Every path from `leaf` to one of `authorities`, or why there is none.
pub(crate) fn paths<'a>(
    leaf: &Certificate,
    authorities: &'a [Authority],
) -> Result<Vec<CertificatePath<'a>>, String> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for authority in authorities {
        match path_to(leaf, authority) {
            Ok(Some(path)) => found.push(path),
            Ok(None) => {}
            Err(problem) => problems.push(format!("{}: {problem}", authority.name)),
        }
    }
    if found.is_empty() {
        return Err(if problems.is_empty() {
            format!(
                "no authority of the trusted root issued the certificate `{}`",
                leaf.subject()
            )
        } else {
            problems.join("; ")
        });
    }
    Ok(found)
}

/// The path from `leaf` into `authority`'s chain; `None` when no certificate of the chain has
/// the leaf's issuer as subject.
fn path_to<'a>(
    leaf: &Certificate,
    authority: &'a Authority,
) -> Result<Option<CertificatePath<'a>>, String> {
    let chain = authority.chain.as_slice();

    // 1. The leaf's issuer, or the leaf itself when the trusted root lists it.
    let start = if let Some(position) = chain.iter().position(|certificate| certificate == leaf) {
        position + 1
    } else {
        let Some(position) = chain
            .iter()
            .position(|certificate| leaf.issuer_der() == certificate.subject_der())
        else {
            return Ok(None);
        };
        leaf.verify_issued_by(&chain[position])?;
        position
    };
    let issuers = &chain[start..];

    // 2-4. Links inside the chain, CA constraints and critical extensions.
    for (depth, issuer) in issuers.iter().enumerate() {
        if let Some(next) = issuers.get(depth + 1) {
            issuer.verify_issued_by(next)?;
        }
        if !issuer.is_ca()? {
            return Err(format!(
                "`{}` is not a CA certificate (basic constraints or key usage)",
                issuer.subject()
            ));
        }
        if let Some(limit) = issuer
            .basic_constraints()?
            .and_then(|constraints| constraints.path_len_constraint)
            && depth > usize::from(limit)
        {
            return Err(format!(
                "`{}` allows {limit} intermediate certificates below it, the path has {depth}",
                issuer.subject()
            ));
        }
        let unknown = issuer.unknown_critical_extensions();
        if !unknown.is_empty() {
            return Err(format!(
                "`{}` has unsupported critical extensions {}",
                issuer.subject(),
                unknown.join(", ")
            ));
        }
    }
    Ok(Some(CertificatePath { authority, issuers }))
}

/// Checks that `leaf`, every certificate of `path` and the authority's trusted interval all
/// cover `time`.
pub(crate) fn valid_at(
    leaf: &Certificate,
    path: &CertificatePath<'_>,
    time: Timestamp,
) -> Result<(), String> {
    if !path.authority.valid_for.contains(time) {
        return Err(format!(
            "{time} is outside the trusted period of `{}` ({})",
            path.authority.name, path.authority.valid_for
        ));
    }
    for certificate in std::iter::once(leaf).chain(path.issuers) {
        let validity = certificate.validity();
        if !validity.contains(time) {
            // Fulcio leaves have an empty subject; RFC 5280 requires one for CAs.
            let subject = certificate.subject();
            let name = if subject.is_empty() {
                "the leaf certificate".to_owned()
            } else {
                format!("`{subject}`")
            };
            return Err(format!(
                "{time} is outside the validity of {name} ({validity})"
            ));
        }
    }
    Ok(())
}

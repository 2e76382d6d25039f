//! Merkle tree inclusion proofs of RFC 6962 section 2.1.1, as restated with the verification
//! algorithm in RFC 9162 section 2.1.3.2: leaves hash as `SHA-256(0x00 ‖ leaf)`, interior
//! nodes as `SHA-256(0x01 ‖ left ‖ right)`.

use sha2::{Digest as _, Sha256};

/// The hash of a leaf's data.
pub(crate) fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of a tree of `tree_size` leaves computed from the leaf at `index` and its audit
/// path `proof`, ordered from the leaf up.
pub(crate) fn root_from_proof(
    index: u64,
    tree_size: u64,
    leaf: [u8; 32],
    proof: &[Vec<u8>],
) -> Result<[u8; 32], String> {
    if index >= tree_size {
        return Err(format!(
            "leaf index {index} is not inside a tree of {tree_size} leaves"
        ));
    }
    let mut position = index;
    let mut last = tree_size - 1;
    let mut hash = leaf;
    for (step, sibling) in proof.iter().enumerate() {
        if sibling.len() != 32 {
            return Err(format!(
                "proof hash {step} has {} bytes, not 32",
                sibling.len()
            ));
        }
        if last == 0 {
            return Err(format!(
                "the proof has {} hashes, more than the tree needs",
                proof.len()
            ));
        }
        if position & 1 == 1 || position == last {
            hash = node_hash(sibling, &hash);
            // A right-most node without a sibling at this level moves up unchanged.
            while position & 1 == 0 && position != 0 {
                position >>= 1;
                last >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        position >>= 1;
        last >>= 1;
    }
    if last != 0 {
        return Err(format!(
            "the proof has {} hashes, fewer than the tree needs",
            proof.len()
        ));
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds every node of a tree over `leaves` by the RFC 6962 definition (split at the
    /// largest power of two below the size) and returns the root and each leaf's audit path.
    fn reference(leaves: &[[u8; 32]]) -> ([u8; 32], Vec<Vec<Vec<u8>>>) {
        fn subtree(leaves: &[[u8; 32]]) -> [u8; 32] {
            if leaves.len() == 1 {
                return leaves[0];
            }
            let split = leaves.len().next_power_of_two() / 2;
            node_hash(&subtree(&leaves[..split]), &subtree(&leaves[split..]))
        }
        fn path(index: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
            if leaves.len() == 1 {
                return Vec::new();
            }
            let split = leaves.len().next_power_of_two() / 2;
            if index < split {
                let mut below = path(index, &leaves[..split]);
                below.push(subtree(&leaves[split..]).to_vec());
                below
            } else {
                let mut below = path(index - split, &leaves[split..]);
                below.push(subtree(&leaves[..split]).to_vec());
                below
            }
        }
        let paths = (0..leaves.len()).map(|index| path(index, leaves)).collect();
        (subtree(leaves), paths)
    }

    #[test]
    fn every_leaf_of_small_trees_proves_the_root() {
        for size in 1..=17u8 {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&[i])).collect();
            let (root, paths) = reference(&leaves);
            for (index, proof) in paths.iter().enumerate() {
                let computed =
                    root_from_proof(index as u64, u64::from(size), leaves[index], proof).unwrap();
                assert_eq!(computed, root, "size {size} index {index}");
            }
        }
    }

    #[test]
    fn flipped_bit_changes_the_root() {
        let leaves: Vec<[u8; 32]> = (0..5u8).map(|i| leaf_hash(&[i])).collect();
        let (root, mut paths) = reference(&leaves);
        paths[3][1][0] ^= 1;
        let computed = root_from_proof(3, 5, leaves[3], &paths[3]).unwrap();
        assert_ne!(computed, root);
    }

    #[test]
    fn wrong_lengths_rejected() {
        let leaves: Vec<[u8; 32]> = (0..4u8).map(|i| leaf_hash(&[i])).collect();
        let (_, paths) = reference(&leaves);
        let mut long = paths[0].clone();
        long.push(vec![0; 32]);
        assert!(root_from_proof(0, 4, leaves[0], &long).is_err());
        assert!(root_from_proof(0, 4, leaves[0], &paths[0][..1]).is_err());
        assert!(root_from_proof(4, 4, leaves[0], &paths[0]).is_err());
        assert!(root_from_proof(0, 4, leaves[0], &[vec![0; 31], vec![0; 32]]).is_err());
    }

    #[test]
    fn leaf_hash_of_empty_input() {
        // RFC 6962's hash of an empty leaf: SHA-256 of the single byte 0x00.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}

//! An epoch's committee: who holds which shard, and quorum math.

use alloy::primitives::Address;
use floe_core::{
    bls::PublicKey,
    ids::BlobId,
    protocol::{Quorum, quorum::max_faulty},
};
use serde::{Deserialize, Serialize};

/// A member of an epoch's committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The operator address (node id).
    pub node: Address,
    /// Its BLS public key.
    pub public_key: PublicKey,
    /// Where its HTTP API is reached (`host:port`), as registered.
    pub network_address: String,
    /// The shards it holds this epoch, ascending.
    pub shards: Vec<u16>,
}

/// An epoch's committee, in bitmap order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    /// The epoch.
    pub epoch: u32,
    /// Total shards `n`.
    pub n_shards: u16,
    /// The members (index = bit in certificate bitmaps).
    pub members: Vec<Member>,
    /// For each shard, the index of the member holding it (length `n`; empty if no committee).
    pub shard_owner: Vec<u16>,
}

impl Committee {
    /// Builds a committee from members and the shard-owner table, filling each member's shards.
    pub fn new(epoch: u32, n_shards: u16, mut members: Vec<Member>, shard_owner: Vec<u16>) -> Self {
        for m in &mut members {
            m.shards.clear();
        }
        for (shard, &owner) in shard_owner.iter().enumerate() {
            if let Some(m) = members.get_mut(usize::from(owner)) {
                m.shards.push(shard as u16);
            }
        }
        Committee {
            epoch,
            n_shards,
            members,
            shard_owner,
        }
    }

    /// `f = floor((n-1)/3)`.
    pub fn f(&self) -> u16 {
        max_faulty(self.n_shards)
    }

    /// True if there are no members (epoch 0).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member holding `shard`.
    pub fn owner_of(&self, shard: u16) -> Option<&Member> {
        let idx = *self.shard_owner.get(usize::from(shard))?;
        self.members.get(usize::from(idx))
    }

    /// The member index of `node`.
    pub fn index_of(&self, node: Address) -> Option<usize> {
        self.members.iter().position(|m| m.node == node)
    }

    /// The member `node`.
    pub fn member(&self, node: Address) -> Option<&Member> {
        self.members.iter().find(|m| m.node == node)
    }

    /// The shards `node` holds (empty if not a member).
    pub fn shards_of(&self, node: Address) -> &[u16] {
        self.member(node)
            .map(|m| m.shards.as_slice())
            .unwrap_or(&[])
    }

    /// The sliver pairs of `blob` that `node` must hold (one per shard), ascending by pair.
    pub fn pairs_of(&self, node: Address, blob: &BlobId) -> Vec<u16> {
        let mut pairs: Vec<u16> = self
            .shards_of(node)
            .iter()
            .map(|&s| blob.pair_for_shard(s, self.n_shards))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// The member holding sliver pair `pair` of `blob`.
    pub fn holder_of_pair(&self, blob: &BlobId, pair: u16) -> Option<&Member> {
        self.owner_of(blob.shard_for_pair(pair, self.n_shards))
    }

    /// Shard counts per member, in member order (what certificates weigh).
    pub fn shard_counts(&self) -> Vec<u16> {
        self.members.iter().map(|m| m.shards.len() as u16).collect()
    }

    /// The weight (shards held) of the members at `indices`.
    pub fn weight<I: IntoIterator<Item = usize>>(&self, indices: I) -> u64 {
        indices
            .into_iter()
            .filter_map(|i| self.members.get(i))
            .map(|m| m.shards.len() as u64)
            .sum()
    }

    /// Availability quorum: `3w >= 2n+1`.
    pub fn is_quorum(&self, weight: u64) -> bool {
        Quorum::Certify.is_met(weight, self.n_shards)
    }

    /// Validity threshold (at least one honest shard): `3w >= n+1`, as the registry checks.
    pub fn is_validity(&self, weight: u64) -> bool {
        Quorum::Invalidate.is_met(weight, self.n_shards)
    }

    /// The least weight meeting the availability quorum.
    pub fn quorum_weight(&self) -> u64 {
        Quorum::Certify.required(self.n_shards)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use floe_core::bls::SecretKey;

    fn committee() -> Committee {
        let members = (0..3u8)
            .map(|i| Member {
                node: Address::repeat_byte(i + 1),
                public_key: SecretKey::from_seed(&[i; 32]).public_key(),
                network_address: format!("127.0.0.1:{}", 9000 + u16::from(i)),
                shards: vec![],
            })
            .collect();
        // 10 shards: member 0 holds 5, member 1 holds 3, member 2 holds 2.
        Committee::new(1, 10, members, vec![0, 0, 1, 0, 2, 1, 0, 1, 2, 0])
    }

    #[test]
    fn shards_follow_the_owner_table() {
        let c = committee();
        assert_eq!(c.members[0].shards, vec![0, 1, 3, 6, 9]);
        assert_eq!(c.shards_of(Address::repeat_byte(3)), &[4, 8]);
        assert_eq!(c.shards_of(Address::repeat_byte(9)), &[] as &[u16]);
        assert_eq!(c.owner_of(5).map(|m| m.node), Some(Address::repeat_byte(2)));
        assert!(c.owner_of(10).is_none());
        assert_eq!(c.shard_counts(), vec![5, 3, 2]);
    }

    #[test]
    fn quorum_math() {
        let c = committee();
        assert_eq!(c.f(), 3);
        assert_eq!(c.quorum_weight(), 7);
        assert!(!c.is_quorum(6));
        assert!(c.is_quorum(7));
        assert!(!c.is_validity(3));
        assert!(c.is_validity(4));
        assert_eq!(c.weight([0, 2]), 7);
        assert_eq!(c.weight([1, 7]), 3);
    }

    #[test]
    fn pairs_of_a_node_map_back_to_its_shards() {
        let c = committee();
        let blob = BlobId([0x5a; 32]);
        let node = Address::repeat_byte(1);
        for pair in c.pairs_of(node, &blob) {
            assert_eq!(c.holder_of_pair(&blob, pair).map(|m| m.node), Some(node));
        }
        assert_eq!(c.pairs_of(node, &blob).len(), 5);
    }
}

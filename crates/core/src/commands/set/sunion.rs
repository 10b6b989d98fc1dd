//! SUNION key [key ...]
//!
//! Also what SINTER, SDIFF and the STORE forms of all three share: [`Combined`] and
//! [`CombinedStore`], for each [`Combination`] of sets.

use super::smembers::members_reply;
use crate::commands::prelude::*;
use crate::keyspace::TableHasher;
use std::marker::PhantomData;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sunion",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output_order"],
    group: "set",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    summary: "Add multiple sets",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// How SINTER, SUNION and SDIFF (and their STORE forms) combine sets.
pub trait Combination {
    /// The combination of `sets` (missing keys are `None`) as a new set, built as Redis builds
    /// it (which decides whether it is an intset).
    fn combine(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> SetValue;

    /// The event of a combination stored (`sunionstore` ...).
    const STORE_EVENT: &'static str;

    /// The members of the combination, in the order Redis replies with them.
    fn members(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> Vec<Bytes> {
        Self::combine(sets, encodings, hasher).iter().map(|member| member.to_bytes()).collect()
    }
}

/// Every member of every set.
pub struct Union;

impl Combination for Union {
    const STORE_EVENT: &'static str = "sunionstore";
    fn combine(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> SetValue {
        SetValue::union(sets.iter().flatten().copied(), encodings, hasher)
    }
}

/// The sets at some keys (WRONGTYPE if one holds something else), and how new sets are made.
fn sets_at<'a>(
    keyspace: &'a Keyspace,
    db: DbIndex,
    keys: &[Bytes],
    now_ms: TimeMs,
) -> Result<(Vec<Option<&'a SetValue>>, &'a Encodings, TableHasher)> {
    let db = keyspace.db(db);
    Ok((values_at::<SetValue>(db, keys, now_ms)?, keyspace.encodings(), db.hasher()))
}

/// SINTER, SUNION, SDIFF: the members of the sets at `keys`, combined.
pub struct Combined<C> {
    keys: Vec<Bytes>,
    combination: PhantomData<C>,
}

pub type SUnion = Combined<Union>;

impl<C: Combination> Command for Combined<C> {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Combined { keys: args.rest(), combination: PhantomData })
    }

    fn reply(members: Vec<Bytes>) -> Reply {
        members_reply(members)
    }
}

impl<C: Combination> ReadCommand for Combined<C> {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let (sets, encodings, hasher) = sets_at(keyspace, ctx.db, &self.keys, ctx.now_ms)?;
        Ok(C::members(&sets, encodings, hasher))
    }
}

/// SINTERSTORE, SUNIONSTORE, SDIFFSTORE: the combination stored at `destination` (removed
/// when it is empty); replies with its size.
pub struct CombinedStore<C> {
    destination: Bytes,
    keys: Vec<Bytes>,
    combination: PhantomData<C>,
}

impl<C: Combination> Command for CombinedStore<C> {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(CombinedStore { destination: args.next_arg()?, keys: args.rest(), combination: PhantomData })
    }

    fn reply(len: usize) -> Reply {
        Reply::Integer(len as i64)
    }
}

impl<C: Combination> WriteCommand for CombinedStore<C> {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let (sets, encodings, hasher) = sets_at(keyspace, ctx.db, &self.keys, ctx.now_ms)?;
        let result = C::combine(&sets, encodings, hasher);
        let len = result.len();
        store_value_notifying(keyspace, ctx, &self.destination, result, (EventClass::SET, C::STORE_EVENT));
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn unites_sets_treating_missing_keys_as_empty() {
        let ks = &mut Keyspace::new();
        sadd(ks, "a", &["a", "b", "c"]);
        sadd(ks, "b", &["b", "c", "d"]);
        let union = read(ks, T, &["sunion", "nokey", "a", "b", "nokey2"]);
        assert!(matches!(union, Reply::Set(_)));
        assert_eq!(texts(union), strings(&["a", "b", "c", "d"]));
        assert_eq!(read(ks, T, &["sunion", "nokey"]), Reply::Set(vec![]));
        sadd(ks, "i", &["3", "1"]);
        sadd(ks, "j", &["2"]);
        assert_eq!(read(ks, T, &["sunion", "i", "j"]), Reply::Set(vec![bulk("1"), bulk("2"), bulk("3")]));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["sunion", "nokey", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["sunion", "a", "str"]), error(WRONGTYPE));
    }
}

//! Where the *STORE commands put their result.

use crate::commands::prelude::*;

/// Replaces `destination` (any type, its expiry dropped) with a sorted set of `pairs`, which
/// are ascending and distinct, or deletes it when there are none, as ZUNIONSTORE,
/// ZRANGESTORE, GEOSEARCHSTORE and the rest do, raising `event` (or `del`). Returns the new
/// cardinality.
pub fn store(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    destination: &[u8],
    pairs: &[(impl AsRef<[u8]>, f64)],
    event: &'static str,
) -> usize {
    let (db, encodings) = keyspace.db_and_encodings(ctx.db);
    if pairs.is_empty() {
        if db.remove(destination).is_some() {
            keyspace.notify(EventClass::GENERIC, "del", ctx.db, destination);
        }
        return 0;
    }
    let zset = ZSetValue::from_sorted(pairs, encodings, db.hasher());
    db.insert(destination, Value::ZSet(zset), None, ctx.index);
    keyspace.notify(EventClass::ZSET, event, ctx.db, destination);
    pairs.len()
}

/// Sorts `pairs` into Redis's order: by score, then member.
pub fn sort(pairs: &mut [(Bytes, f64)]) {
    pairs.sort_by(|a, b| crate::keyspace::score_tree::compare((a.1, &a.0), (b.1, &b.0)));
}

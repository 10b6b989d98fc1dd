//! ZREM key member [member ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrem",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity:
        "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    summary: "Remove one or more members from a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRem {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for ZRem {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(ZRem { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for ZRem {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some((zset, version)) = value_mut::<ZSetValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let removed = self.members.iter().filter(|member| zset.remove(member).is_some()).count();
        if removed > 0 {
            *version = ctx.index;
        }
        let emptied = remove_if_void::<ZSetValue>(db, &self.key);
        if removed > 0 {
            keyspace.notify(EventClass::ZSET, "zrem", ctx.db, &self.key);
            if emptied {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
            }
        }
        Ok(removed)
    }
}

impl MayChangeNothing for ZRem {
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
        let unchanged = match value_at::<ZSetValue>(keyspace.db(db), &self.key, now_ms).ok()? {
            None => true,
            Some(zset) => !self.members.iter().any(|member| zset.score(member).is_some()),
        };
        unchanged.then_some(Reply::Integer(0))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn removes_and_deletes_the_key_when_empty() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
            assert_eq!(run(ks, &["zrem", "z", "a", "nope", "a"]), int(1));
            assert_eq!(run(ks, &["zrem", "z", "b", "c", "d"]), int(2));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(run(ks, &["zrem", "z", "x"]), int(0));
            run(ks, &["set", "s", "v"]);
            assert_eq!(run(ks, &["zrem", "s", "x"]), error(WRONGTYPE));
        });
    }
}

//! KEYS pattern

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "keys",
    arity: 2,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@read", "@slow", "@dangerous"],
    tips: &["request_policy:all_shards", "nondeterministic_output_order"],
    group: "generic",
    since: "1.0.0",
    complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    summary: "Find all keys matching the given pattern",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Keys {
    pattern: Pattern,
}

impl Command for Keys {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Keys { pattern: Pattern::new(&args.next_arg()?) })
    }

    fn reply(keys: Vec<Bytes>) -> Reply {
        Reply::bulks(keys)
    }
}

impl ReadCommand for Keys {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let everything = self.pattern.matches_all();
        Ok(keyspace
            .db(ctx.db)
            .entries()
            .filter(|entry| !entry.is_expired(ctx.now_ms) && (everything || self.pattern.matches(entry.key())))
            .filter(|entry| keyspace.serves(entry.key()))
            .map(|entry| entry.key().to_bytes())
            .collect())
    }
}

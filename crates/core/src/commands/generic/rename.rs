//! RENAME key newkey

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "rename",
    arity: 3,
    flags: &["write"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["OW", "update"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@keyspace", "@write", "@slow"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Rename a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Rename {
    from: Bytes,
    to: Bytes,
}

impl Rename {
    /// Moves `from` to `to` keeping its expiry; with `only_if_missing`, refuses to overwrite.
    /// Returns whether the key was moved.
    pub fn rename(
        from: &Bytes,
        to: &Bytes,
        only_if_missing: bool,
        keyspace: &mut Keyspace,
        ctx: &WriteCtx,
    ) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        if db.get_mut(from, ctx.now_ms).is_none() {
            return Err(Error::NO_SUCH_KEY);
        }
        if from == to {
            return Ok(!only_if_missing);
        }
        // A destination whose time had passed is removed first (and so expires), as Redis's
        // lookup does.
        if db.get_mut(to, ctx.now_ms).is_some() && only_if_missing {
            return Ok(false);
        }
        let entry = db.remove(from).expect("checked to exist");
        let expire_at = entry.expire_at_ms();
        // Redis deletes an existing destination and adds the key anew: `new` either way.
        db.remove(to);
        db.insert(to, entry.value, expire_at, ctx.index);
        keyspace.notify(EventClass::GENERIC, "rename_from", ctx.db, from);
        keyspace.notify(EventClass::GENERIC, "rename_to", ctx.db, to);
        Ok(true)
    }
}

impl Command for Rename {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Rename { from: args.next_arg()?, to: args.next_arg()? })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for Rename {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        Rename::rename(&self.from, &self.to, false, keyspace, ctx).map(drop)
    }
}

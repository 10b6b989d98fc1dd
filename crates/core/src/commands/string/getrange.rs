//! GETRANGE key start end

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "getrange",
    arity: 4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "2.4.0",
    complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
    summary: "Get a substring of the string stored at a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GetRange {
    key: Bytes,
    start: i64,
    end: i64,
}

impl Command for GetRange {
    type Output = Bytes;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(GetRange { key: args.next_arg()?, start: args.next_i64()?, end: args.next_i64()? })
    }

    fn reply(value: Bytes) -> Reply {
        Reply::Bulk(value)
    }
}

impl ReadCommand for GetRange {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Bytes> {
        let Some(value) = string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(Bytes::new());
        };
        Ok(substring(value, self.start, self.end))
    }
}

/// Redis's inclusive range with negative indexes counted from the end, clamped.
pub fn substring(value: &[u8], start: i64, end: i64) -> Bytes {
    let length = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Bytes::new();
    }
    let start = if start < 0 { (length + start).max(0) } else { start };
    let end = if end < 0 { (length + end).max(0) } else { end };
    let end = end.min(length - 1);
    if length == 0 || start > end {
        return Bytes::new();
    }
    Bytes::copy_from_slice(&value[start as usize..=end as usize])
}

#[cfg(test)]
mod tests {
    use super::substring;
    use bytes::Bytes;

    #[test]
    fn ranges() {
        let v = Bytes::from_static(b"This is a string");
        assert_eq!(substring(&v, 0, 3), "This");
        assert_eq!(substring(&v, -3, -1), "ing");
        assert_eq!(substring(&v, 0, -1), "This is a string");
        assert_eq!(substring(&v, 10, 100), "string");
        assert_eq!(substring(&v, 5, 3), "");
        assert_eq!(substring(&v, -1, -5), "");
        assert_eq!(substring(&Bytes::new(), 0, -1), "");
    }
}

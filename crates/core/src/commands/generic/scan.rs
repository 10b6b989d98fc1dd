//! SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "scan",
    arity: -2,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output", "request_policy:special"],
    group: "generic",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    summary: "Incrementally iterate the keys space",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The options shared by SCAN and HSCAN.
pub struct ScanOptions {
    pub cursor: u64,
    pub pattern: Option<Pattern>,
    pub count: usize,
    pub type_name: Option<Bytes>,
}

impl ScanOptions {
    pub fn parse(args: &mut Args, allow_type: bool) -> Result<ScanOptions> {
        let cursor = args.next_arg()?;
        let cursor =
            std::str::from_utf8(&cursor).ok().and_then(|text| text.parse::<u64>().ok()).ok_or(Error::INVALID_CURSOR)?;
        let mut options = ScanOptions { cursor, pattern: None, count: 10, type_name: None };
        while !args.is_empty() {
            let option = args.next_arg()?;
            if is(&option, "MATCH") && !args.is_empty() {
                let pattern = Pattern::new(&args.next_arg()?);
                options.pattern = (!pattern.matches_all()).then_some(pattern);
            } else if is(&option, "COUNT") && !args.is_empty() {
                let count = args.next_i64()?;
                if count < 1 {
                    return Err(Error::SYNTAX);
                }
                options.count = (count as usize).min(SCAN_COUNT_MAX);
            } else if allow_type && is(&option, "TYPE") && !args.is_empty() {
                options.type_name = Some(args.next_arg()?);
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(options)
    }

    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.as_ref().is_none_or(|pattern| pattern.matches(item))
    }
}

/// A cursor and a page of items.
pub fn scan_reply((cursor, items): (u64, Vec<Bytes>)) -> Reply {
    Reply::Array(vec![Reply::bulk_text(cursor.to_string()), Reply::bulks(items)])
}

pub struct Scan {
    options: ScanOptions,
}

impl Command for Scan {
    type Output = (u64, Vec<Bytes>);

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Scan { options: ScanOptions::parse(args, true)? })
    }

    fn reply(page: (u64, Vec<Bytes>)) -> Reply {
        scan_reply(page)
    }
}

impl ReadCommand for Scan {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(u64, Vec<Bytes>)> {
        let (next, found) = keyspace.db(ctx.db).table().scan(self.options.cursor, self.options.count);
        let keys = found
            .into_iter()
            .filter(|entry| {
                !entry.is_expired(ctx.now_ms)
                    && keyspace.serves(entry.key())
                    && self.options.matches(entry.key())
                    && self.options.type_name.as_ref().is_none_or(|name| is(name, entry.value.type_name()))
            })
            .map(|entry| entry.key().to_bytes())
            .collect();
        Ok((next, keys))
    }
}

//! SSCAN key cursor [MATCH pattern] [COUNT count]

use crate::commands::generic::scan::{scan_reply, ScanOptions};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sscan",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output"],
    group: "set",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    summary: "Incrementally iterate Set elements",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SScan {
    key: Bytes,
    /// An option error waits until the key is found (a missing key answers an empty page, as
    /// in Redis); a bad cursor is refused at once.
    options: Result<ScanOptions>,
}

impl Command for SScan {
    type Output = (u64, Vec<Bytes>);

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let options = ScanOptions::parse(args, false);
        if let Err(error) = &options {
            if *error == Error::INVALID_CURSOR {
                return Err(error.clone());
            }
        }
        Ok(SScan { key, options })
    }

    fn reply(page: (u64, Vec<Bytes>)) -> Reply {
        scan_reply(page)
    }
}

impl ReadCommand for SScan {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(u64, Vec<Bytes>)> {
        let Some(set) = value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok((0, Vec::new()));
        };
        let options = self.options.as_ref().map_err(Clone::clone)?;
        let (next, found) = set.scan(options.cursor, options.count);
        let members = found.into_iter().filter(|member| options.matches(&member.as_bytes()));
        Ok((next, members.map(|member| member.to_bytes()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    fn page(reply: Reply) -> (String, Vec<String>) {
        let Reply::Array(parts) = reply else { panic!("{reply:?}") };
        let Reply::Bulk(cursor) = &parts[0] else { panic!() };
        (String::from_utf8(cursor.to_vec()).unwrap(), texts(parts[1].clone()))
    }

    #[test]
    fn an_intset_comes_whole() {
        let ks = &mut Keyspace::new();
        sadd(ks, "i", &["1", "2", "10", "11"]);
        assert_eq!(page(read(ks, T, &["sscan", "i", "0"])), ("0".into(), strings(&["1", "10", "11", "2"])));
        assert_eq!(
            page(read(ks, T, &["sscan", "i", "0", "MATCH", "1*", "COUNT", "1"])),
            ("0".into(), strings(&["1", "10", "11"]))
        );
    }

    #[test]
    fn a_table_is_scanned_in_pages() {
        let ks = &mut Keyspace::new();
        let all: Vec<String> = (0..500).map(|i| format!("m{i}")).collect();
        sadd(ks, "s", &all.iter().map(String::as_str).collect::<Vec<_>>());
        let (mut cursor, mut seen, mut pages) = ("0".to_string(), Vec::new(), 0);
        loop {
            let (next, found) = page(read(ks, T, &["sscan", "s", &cursor, "COUNT", "20"]));
            seen.extend(found);
            pages += 1;
            if next == "0" {
                break;
            }
            cursor = next;
        }
        seen.sort();
        seen.dedup();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(seen, expected);
        assert!(pages > 10, "{pages} pages");
        let (_, found) = page(read(ks, T, &["sscan", "s", "0", "COUNT", "1000", "MATCH", "m1?"]));
        assert_eq!(found.len(), 10);
    }

    #[test]
    fn errors_in_redis_order() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["a"]);
        assert_eq!(read(ks, T, &["sscan", "s", "x"]), error("ERR invalid cursor"));
        assert_eq!(read(ks, T, &["sscan", "missing", "x"]), error("ERR invalid cursor"));
        assert_eq!(read(ks, T, &["sscan", "missing", "0", "foo"]), Reply::Array(vec![bulk("0"), Reply::Array(vec![])]));
        assert_eq!(read(ks, T, &["sscan", "s", "0", "foo"]), error("ERR syntax error"));
        assert_eq!(read(ks, T, &["sscan", "s", "0", "COUNT", "0"]), error("ERR syntax error"));
        assert_eq!(read(ks, T, &["sscan", "s", "0", "TYPE", "set"]), error("ERR syntax error"));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["sscan", "str", "0", "foo"]), error(WRONGTYPE));
    }
}

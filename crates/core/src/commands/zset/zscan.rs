//! ZSCAN key cursor [MATCH pattern] [COUNT count]

use super::score::d2string;
use crate::commands::generic::scan::{scan_reply, ScanOptions};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zscan",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &["nondeterministic_output"],
    group: "sorted-set",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    summary: "Incrementally iterate sorted sets elements and associated scores",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZScan {
    key: Bytes,
    /// Redis reads the cursor first and the other options only once the key is found to
    /// hold a sorted set, so an option error waits for the lookup.
    options: Result<ScanOptions>,
}

impl Command for ZScan {
    type Output = (u64, Vec<Bytes>);

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let options = ScanOptions::parse(args, false);
        if let Err(error) = &options {
            if *error == Error::INVALID_CURSOR {
                return Err(Error::INVALID_CURSOR);
            }
        }
        Ok(ZScan { key, options })
    }

    fn reply(page: (u64, Vec<Bytes>)) -> Reply {
        scan_reply(page)
    }
}

impl ReadCommand for ZScan {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(u64, Vec<Bytes>)> {
        let Some(zset) = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok((0, Vec::new()));
        };
        let options = self.options.as_ref().map_err(Clone::clone)?;
        let (next, found) = zset.scan(options.cursor, options.count);
        let items = found
            .into_iter()
            .filter(|(member, _)| options.matches(member))
            .flat_map(|(member, score)| [bytes_of(member), Bytes::from(d2string(score))])
            .collect();
        Ok((next, items))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn scans_members_and_scores() {
        both(|ks, form| {
            for i in 0..50 {
                run(ks, &["zadd", "z", &format!("{i}.5"), &format!("m{i}")]);
            }
            run(ks, &["zadd", "z", "1e17", "big"]);
            let (mut cursor, mut seen) = ("0".to_string(), Vec::new());
            loop {
                let Reply::Array(page) = run(ks, &["zscan", "z", &cursor, "COUNT", "7"]) else { panic!() };
                let Reply::Bulk(next) = &page[0] else { panic!() };
                let Reply::Array(items) = &page[1] else { panic!() };
                for pair in items.chunks(2) {
                    let (Reply::Bulk(member), Reply::Bulk(score)) = (&pair[0], &pair[1]) else { panic!() };
                    seen.push((
                        String::from_utf8(member.to_vec()).unwrap(),
                        String::from_utf8(score.to_vec()).unwrap(),
                    ));
                }
                cursor = String::from_utf8(next.to_vec()).unwrap();
                if cursor == "0" {
                    break;
                }
            }
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 51, "{form}");
            assert!(seen.contains(&("m7".into(), "7.5".into())));
            assert!(seen.contains(&("big".into(), "100000000000000000".into())), "scores print as d2string");
        });
        let ks = &mut Keyspace::new();
        run(ks, &["zadd", "z", "1", "ab", "2", "cd"]);
        assert_eq!(run(ks, &["zscan", "z", "0", "MATCH", "a*"]), Reply::Array(vec![bulk("0"), bulks(&["ab", "1"])]));
        assert_eq!(run(ks, &["zscan", "z", "x"]), error("ERR invalid cursor"));
        assert_eq!(run(ks, &["zscan", "nokey", "0", "COUNT", "0"]), Reply::Array(vec![bulk("0"), bulks(&[])]));
        assert_eq!(run(ks, &["zscan", "z", "0", "COUNT", "0"]), error("ERR syntax error"));
        run(ks, &["set", "s", "v"]);
        assert_eq!(run(ks, &["zscan", "s", "0", "COUNT", "0"]), error(WRONGTYPE));
    }
}

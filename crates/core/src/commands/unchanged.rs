//! The writes that can be answered as reads when they would change nothing (see
//! [`MayChangeNothing`]): the node asks [`reply_if_unchanged`] before it proposes one, and
//! proposes it only when the answer is `None`.

use super::{hash, hyperloglog, lookup, set, zset};
use crate::args::Args;
use crate::command::{Command, MayChangeNothing};
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;

macro_rules! may_change_nothing {
    ($($module:ident :: $file:ident :: $command:ident),* $(,)?) => {
        /// Whether the command named `name` (in any case) is one of them: a cheap test before
        /// parsing.
        pub fn is_candidate(name: &[u8]) -> bool {
            [$($module::$file::SPEC.name),*].iter().any(|candidate| candidate.as_bytes().eq_ignore_ascii_case(name))
        }

        /// The reply of the write `argv`, if applying it to `keyspace` in `db` at `now_ms` would
        /// change nothing; `None` for any other write, one that would change something, and one
        /// that does not parse (its write answers the error).
        pub fn reply_if_unchanged(argv: &[Bytes], keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
            let entry = lookup(argv.first()?)?;
            if !entry.spec.arity_ok(argv.len()) {
                return None;
            }
            let mut args = Args::new(&argv[1..]);
            $(if entry.spec.name == $module::$file::SPEC.name {
                let command = <$module::$file::$command as Command>::parse(&mut args).ok()?;
                return command.reply_if_unchanged(keyspace, db, now_ms);
            })*
            None
        }
    };
}

may_change_nothing!(
    set::sadd::SAdd,
    set::srem::SRem,
    zset::zrem::ZRem,
    hash::hdel::HDel,
    hyperloglog::pfcount::PfCount,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;
    use crate::rng::Rng;

    /// Whenever an answer is given as unchanged, the write gives the same reply and leaves the
    /// replicated state (digest) as it was; and a write that changes the state is never
    /// answered as unchanged.
    #[test]
    fn an_unchanged_answer_is_exactly_what_the_write_would_do() {
        let mut rng = Rng::new(7);
        let mut ks = Keyspace::new();
        // Database 0 exists from the start: a write makes it on first use, a read does not.
        write(&mut ks, 0, &["set", "str", "x"]);
        let (mut unchanged, mut changed) = (0, 0);
        for step in 0..4_000u64 {
            let key = ["s", "z", "h", "hll", "str"][rng.below(5) as usize];
            let member = format!("m{}", rng.below(6));
            let other = format!("m{}", rng.below(6));
            let words: Vec<&str> = match rng.below(9) {
                0 => vec!["sadd", key, &member, &other],
                1 => vec!["srem", key, &member, &other],
                2 => vec!["zadd", key, "1", &member],
                3 => vec!["zrem", key, &member],
                4 => vec!["hset", key, &member, "v"],
                5 => vec!["hdel", key, &member, &other],
                6 => vec!["pfadd", key, &member],
                7 => vec!["pfcount", key],
                _ => vec!["pfcount", key, "hll"],
            };
            let argv = argv(&words);
            let answer = reply_if_unchanged(&argv, &ks, 0, step);
            let before = ks.clone();
            let reply = write(&mut ks, step + 1, &words);
            match answer {
                Some(answer) => {
                    unchanged += 1;
                    assert_eq!(answer, reply, "{words:?}");
                    assert!(ks == before, "{words:?} changed the state");
                }
                None => changed += usize::from(ks != before),
            }
        }
        assert!(unchanged > 300 && changed > 100, "both kinds were tried: {unchanged} unchanged, {changed} changed");
    }

    #[test]
    fn only_the_listed_writes_are_candidates() {
        assert!(is_candidate(b"sadd") && is_candidate(b"PFCount"));
        assert!(!is_candidate(b"set") && !is_candidate(b"get"));
        let ks = Keyspace::new();
        assert_eq!(reply_if_unchanged(&argv(&["set", "k", "v"]), &ks, 0, 0), None);
        assert_eq!(reply_if_unchanged(&argv(&["srem", "k", "a"]), &ks, 0, 0), Some(Reply::Integer(0)));
        assert_eq!(
            reply_if_unchanged(&argv(&["sadd", "k"]), &ks, 0, 0),
            None,
            "a wrong arity is the write's to answer"
        );
    }
}

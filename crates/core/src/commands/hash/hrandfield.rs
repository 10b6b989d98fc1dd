//! HRANDFIELD key [count [WITHVALUES]]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hrandfield",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@slow"],
    tips: &["nondeterministic_output"],
    group: "hash",
    since: "6.2.0",
    complexity: "O(N) where N is the number of fields returned",
    summary: "Get one or multiple random fields from a hash",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HRandField {
    key: Bytes,
    /// `None`: one field, replied as a bulk string. Negative: may repeat.
    count: Option<i64>,
    with_values: bool,
}

pub enum Picked {
    One(Option<Bytes>),
    Many(Vec<(Bytes, Bytes)>, bool),
}

impl Command for HRandField {
    type Output = Picked;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let count = match args.is_empty() {
            true => None,
            false => match args.next_i64()? {
                i64::MIN => {
                    return Err(Error::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ))
                }
                count => Some(count),
            },
        };
        let with_values = match args.peek() {
            Some(option) if is(option, "WITHVALUES") => {
                args.next_arg()?;
                true
            }
            Some(_) => return Err(Error::SYNTAX),
            None => false,
        };
        args.finish()?;
        // Redis bounds the count so that count * 2 cannot overflow.
        if with_values && count.is_some_and(|count| !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count)) {
            return Err(Error::err("value is out of range"));
        }
        Ok(HRandField { key, count, with_values })
    }

    fn reply(picked: Picked) -> Reply {
        match picked {
            Picked::One(field) => Reply::optional_bulk(field),
            Picked::Many(pairs, true) => {
                Reply::Pairs(pairs.into_iter().map(|(field, value)| (Reply::Bulk(field), Reply::Bulk(value))).collect())
            }
            Picked::Many(pairs, false) => Reply::bulks(pairs.into_iter().map(|(field, _)| field)),
        }
    }
}

impl ReadCommand for HRandField {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Picked> {
        let hash = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        let Some(count) = self.count else {
            let field = hash.and_then(|hash| hash.random(ctx.rng)).map(|(field, _)| bytes_of(field));
            return Ok(Picked::One(field));
        };
        let Some(hash) = hash else {
            return Ok(Picked::Many(Vec::new(), self.with_values));
        };
        let all: Vec<(&[u8], &[u8])> = hash.iter().collect();
        let pairs = random_positions(all.len(), count, ctx.rng)
            .into_iter()
            .map(|at| (bytes_of(all[at].0), bytes_of(all[at].1)))
            .collect();
        Ok(Picked::Many(pairs, self.with_values))
    }
}

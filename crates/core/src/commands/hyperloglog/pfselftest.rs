//! PFSELFTEST

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::hyperloglog;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfselftest",
    arity: 1,
    flags: &["admin"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@hyperloglog", "@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "hyperloglog",
    since: "2.8.9",
    complexity: "N/A",
    summary: "An internal command for testing HyperLogLog values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// Rounds of the register test and elements of the estimate test (Redis's figures).
const CYCLES: usize = 1000;
const ELEMENTS: u64 = 10_000_000;

/// Checks the register layout and the estimator's error, as Redis's PFSELFTEST does. It touches
/// no key, so the node runs it without the log; it takes a fraction of a second.
pub struct PfSelfTest;

impl NodeCommand for PfSelfTest {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(PfSelfTest)
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        let mut rng = crate::rng::Rng::new(host.now_us());
        run(&mut rng, CYCLES, ELEMENTS)?;
        Ok(Action::Reply(Reply::OK))
    }
}

fn run(rng: &mut crate::rng::Rng, cycles: usize, elements: u64) -> Result<()> {
    hyperloglog::self_test_registers(cycles, || rng.next_u64() as u8).map_err(|(register, expected, found)| {
        Error::err(format_args!("TESTFAILED Register {register} should be {expected} but is {found}"))
    })?;
    hyperloglog::self_test_estimates(rng.next_u64(), elements).map_err(Error::err)
}

#[cfg(test)]
mod tests {
    #[test]
    fn passes() {
        assert_eq!(super::run(&mut crate::rng::Rng::new(3), 10, 100_000), Ok(()));
    }
}

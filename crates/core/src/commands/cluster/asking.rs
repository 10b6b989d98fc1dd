//! ASKING: accepted for the cluster clients that send it after an `-ASK` redirect.
//!
//! Concord never answers `-ASK`: a slot being moved is served by its source until the move's
//! fence and by its target only once the target owns it, so there is no window in which a key
//! may be on either side. During the fence itself (usually a fraction of a second) commands on
//! the slot get `-TRYAGAIN`, which cluster clients retry. ASKING therefore has nothing to
//! change and answers `+OK`, as Redis does.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "asking",
    arity: 1,
    flags: &["fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "cluster",
    since: "3.0.0",
    complexity: "O(1)",
    summary: "Sent by cluster clients after an -ASK redirect",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Asking;

impl NodeCommand for Asking {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Asking)
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(Reply::OK))
    }
}

//! SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "shutdown",
    arity: -1,
    flags: &["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "server",
    since: "1.0.0",
    complexity:
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    summary: "Synchronously save the dataset to disk and then shut down the server",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// Every option is accepted as Redis accepts it; none changes what a shutdown does here. Every
/// acknowledged write is already on disk (the log is fsynced before a reply), so there is
/// nothing to save, and a node stops at once: it takes no new clients, lets in-flight
/// commands finish and flushes its log, as on SIGTERM.
pub struct Shutdown {
    abort: bool,
}

impl NodeCommand for Shutdown {
    fn parse(args: &mut Args) -> Result<Self> {
        let (mut save, mut nosave, mut abort, mut others) = (false, false, false, false);
        for option in args.rest() {
            if is(&option, "SAVE") {
                save = true;
            } else if is(&option, "NOSAVE") {
                nosave = true;
            } else if is(&option, "ABORT") {
                abort = true;
            } else if is(&option, "NOW") || is(&option, "FORCE") {
                others = true;
            } else {
                return Err(Error::SYNTAX);
            }
        }
        if (save && nosave) || (abort && (save || nosave || others)) {
            return Err(Error::SYNTAX);
        }
        Ok(Shutdown { abort })
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        if self.abort {
            // A shutdown here never waits for replicas or a save: none is ever in progress.
            return Err(Error::err("No shutdown in progress."));
        }
        host.shutdown();
        // As Redis: the connection closes with no reply (clients take that as success).
        Ok(Action::Hangup)
    }
}

#[cfg(test)]
mod tests {
    use super::Shutdown;
    use crate::args::Args;
    use crate::command::NodeCommand;
    use crate::commands::testing::argv;
    use crate::error::Result;

    fn parse(words: &[&str]) -> Result<Shutdown> {
        Shutdown::parse(&mut Args::new(&argv(words)))
    }

    #[test]
    fn options_as_redis_accepts_them() {
        for words in [&[][..], &["nosave", "now", "force"], &["SAVE"]] {
            assert!(parse(words).is_ok_and(|shutdown| !shutdown.abort), "{words:?}");
        }
        assert!(parse(&["abort"]).is_ok_and(|shutdown| shutdown.abort));
        for words in [&["save", "nosave"][..], &["abort", "now"], &["later"]] {
            assert!(parse(words).is_err(), "{words:?}");
        }
    }
}

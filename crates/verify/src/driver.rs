//! What a verifying client does on the wire, in the simulator and against real processes alike.

use concord_check::history::{Call, Command};
use concord_core::Reply;
use concord_node::client::Client;

/// Sends a call; its reply (EXEC's for a transaction), or why none came.
pub async fn execute(client: &mut Client, call: &Call) -> Result<Reply, String> {
    match call {
        Call::One(command) => client.call(&command.argv()).await.map_err(|e| e.to_string()),
        Call::Multi(commands) => {
            let mut pipeline = vec![vec!["MULTI".to_string()]];
            pipeline.extend(commands.iter().map(Command::argv));
            pipeline.push(vec!["EXEC".to_string()]);
            let mut replies = client.pipeline(&pipeline).await.map_err(|e| e.to_string())?;
            replies.pop().ok_or_else(|| "no reply to EXEC".to_string())
        }
    }
}

/// The number of voters in a CLUSTER MEMBERS reply.
pub fn voters(reply: &Reply) -> usize {
    match reply {
        Reply::Bulk(text) => usize::from(&text[..] == b"voter"),
        Reply::Array(items) => items.iter().map(voters).sum(),
        Reply::Map(pairs) => pairs.iter().map(|(_, value)| voters(value)).sum(),
        _ => 0,
    }
}

/// Asks a node for its applied log index and the digest of its state there (DEBUG REPLICA).
pub async fn replica_state(client: &mut Client) -> Option<(u64, String)> {
    match client.call(&["DEBUG", "REPLICA"]).await {
        Ok(Reply::Array(items)) => match &items[..] {
            [Reply::Integer(index), Reply::Status(digest)] => {
                Some((*index as u64, String::from_utf8_lossy(digest).into_owned()))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voters_are_counted_in_either_protocol() {
        let member =
            |role: &'static str| vec![Reply::bulk("id"), Reply::bulk("1"), Reply::bulk("role"), Reply::bulk(role)];
        let resp2 = Reply::Array(vec![
            Reply::Array(member("voter")),
            Reply::Array(member("learner")),
            Reply::Array(member("voter")),
        ]);
        assert_eq!(voters(&resp2), 2);
        let resp3 = Reply::Array(vec![Reply::Map(vec![(Reply::bulk("role"), Reply::bulk("voter"))])]);
        assert_eq!(voters(&resp3), 1);
    }
}

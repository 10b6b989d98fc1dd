//! Every limit Concord enforces, in one place, with the assertions that tie them together.
//!
//! Limits that Redis makes configurable (`proto-max-bulk-len`, `maxclients`,
//! `client-query-buffer-limit`, `databases`) have their defaults here; the node reads the
//! configured value at runtime and clamps it to the `_MAX` bounds below.

/// Databases per node unless configured otherwise (Redis's `databases`).
pub const DATABASES_DEFAULT: u32 = 16;
/// Upper bound on the `databases` setting.
pub const DATABASES_MAX: u32 = 1 << 16;

/// Longest inline (telnet-style) request line (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_REQUEST_BYTES_MAX: usize = 64 * 1024;
/// Longest `*<count>` or `$<len>` header line before the request is refused.
pub const HEADER_LINE_BYTES_MAX: usize = 64 * 1024;
/// Most arguments in one multibulk request (Redis refuses counts above `INT_MAX`).
pub const MULTIBULK_ARGS_MAX: usize = i32::MAX as usize;
/// Default for `proto-max-bulk-len`: the longest single argument.
pub const BULK_BYTES_MAX_DEFAULT: usize = 512 * 1024 * 1024;
/// Default for `client-query-buffer-limit`: bytes one client may have buffered in requests.
pub const QUERY_BUFFER_BYTES_MAX_DEFAULT: usize = 1024 * 1024 * 1024;
/// Bookkeeping cost charged per parsed argument against the query-buffer limit, so a flood
/// of empty arguments is bounded too.
pub const ARGUMENT_OVERHEAD_BYTES: usize = 32;
/// Default for `maxclients`.
pub const CLIENTS_MAX_DEFAULT: usize = 10_000;

/// Largest string value, and the largest offset `SETRANGE` may create.
pub const STRING_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Longest float text accepted by `INCRBYFLOAT` and friends (Redis's `MAX_LONG_DOUBLE_CHARS`).
pub const FLOAT_TEXT_BYTES_MAX: usize = 5 * 1024;

/// Largest sparse HyperLogLog, header included, before it turns dense (Redis's
/// `hll-sparse-max-bytes` default; fixed in Concord, since the representation is replicated).
pub const HLL_SPARSE_BYTES_MAX: usize = 3000;
/// Largest `(len(a) + 1) * (len(b) + 1)` table `LCS` fills. Redis refuses a table whose 4-byte
/// cells would exceed `proto-max-bulk-len`; this is the same bound at the default (512 MiB / 4,
/// so two strings of about 11,585 bytes each), so Concord accepts exactly what a default Redis
/// does. Concord's table holds one bit per cell (a bit-parallel fill), so at the bound it costs
/// 16 MiB and about 25 ms here instead of Redis's 512 MiB and 1 to 2 seconds.
pub const LCS_TABLE_CELLS_MAX: u64 = (BULK_BYTES_MAX_DEFAULT / 4) as u64;

/// Commands one connection may have in flight (pipelined, awaiting their replies) before the
/// node stops reading from it: the back-pressure that keeps a pipelining client bounded.
pub const PIPELINE_COMMANDS_MAX: usize = 1024;
/// Commands queued by one `MULTI` before `EXEC`.
pub const TRANSACTION_COMMANDS_MAX: usize = 100_000;
/// Bytes of arguments queued by one `MULTI` before `EXEC`.
pub const TRANSACTION_BYTES_MAX: usize = QUERY_BUFFER_BYTES_MAX_DEFAULT;
/// Keys one `WATCH`ing connection may watch.
pub const WATCHED_KEYS_MAX: usize = 100_000;

/// Bytes of Pub/Sub messages one subscriber may have waiting to be written before it is
/// disconnected: Redis's `client-output-buffer-limit pubsub` hard limit (32mb). A subscriber
/// that stops reading costs at most this much, never unbounded memory.
pub const SUBSCRIBER_PENDING_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Redis's `client-output-buffer-limit pubsub` soft limit: a subscriber whose waiting messages
/// stay past this many bytes for longer than [`SUBSCRIBER_PENDING_SOFT_SECS`] is disconnected.
pub const SUBSCRIBER_PENDING_SOFT_BYTES: usize = 8 * 1024 * 1024;
pub const SUBSCRIBER_PENDING_SOFT_SECS: u64 = 60;
/// The most `CONFIG SET client-output-buffer-limit` may raise the pubsub hard limit to (and
/// what a hard limit of 0, "none" in Redis, stands for): every subscriber stays bounded.
pub const SUBSCRIBER_PENDING_BYTES_CEILING: usize = 1024 * 1024 * 1024;
const _: () = assert!(SUBSCRIBER_PENDING_SOFT_BYTES <= SUBSCRIBER_PENDING_BYTES_MAX);
const _: () = assert!(SUBSCRIBER_PENDING_BYTES_MAX <= SUBSCRIBER_PENDING_BYTES_CEILING);
/// Bytes counted for each pending message on top of its channel, pattern and payload.
pub const SUBSCRIBER_MESSAGE_OVERHEAD_BYTES: usize = 64;
/// Keyspace notifications one log entry may raise; past it they are dropped (Pub/Sub delivers
/// at most once). An entry's requests are bounded by the log record size, and most raise an
/// event or two per key they name, so this is reached only by entries of many small keys.
pub const NOTIFICATIONS_PER_ENTRY_MAX: usize = 1 << 16;
/// How long PUBLISH waits for each other node to deliver and count its subscribers, in
/// milliseconds; a node that does not answer in time counts 0 (delivery is at most once).
pub const PUBLISH_PEER_DEADLINE_MS: u64 = 1_000;
/// Publications queued for one other node before publishers wait: they go in publish order,
/// many per call, so one publisher is not held to a round trip per message.
pub const PUBLISH_RELAY_QUEUE_MAX: usize = 1024;
/// Most publications one call to another node carries, and most bytes of them (a larger
/// single message goes alone).
pub const PUBLISH_BATCH_MESSAGES_MAX: usize = 256;
pub const PUBLISH_BATCH_BYTES_MAX: usize = 1 << 20;

const _: () = assert!(PUBLISH_BATCH_MESSAGES_MAX <= PUBLISH_RELAY_QUEUE_MAX, "a batch fits in its queue");

/// Distinct error codes (`ERR`, `WRONGTYPE`, ...) INFO errorstats counts; past it, new codes
/// are not tracked (Redis's `ERROR_STATS_NUMBER`), so clients cannot grow the table.
pub const ERROR_CODES_TRACKED_MAX: usize = 128;

/// Clients one node may have blocked at once (BLPOP and friends): each holds a waiter in the
/// replicated state until it is served, times out or is cancelled.
pub const BLOCKED_CLIENTS_MAX: usize = 50_000;
/// Longest a blocking command may ask to wait, in seconds (Redis refuses timeouts that
/// overflow its clock; this bound keeps deadlines far from overflowing ours).
pub const BLOCK_TIMEOUT_SECS_MAX: u64 = 100 * 365 * 24 * 3600;

/// Largest `COUNT` honoured by one `SCAN`-family call (a hint; larger values are clamped).
pub const SCAN_COUNT_MAX: usize = 100_000;
/// Most values one SORT may return or store beyond the size of the collection it sorts: its
/// GET patterns multiply the range it selects, and the request alone must not make a reply
/// (or a stored list) without bound.
pub const SORT_VALUES_MAX: usize = 1 << 24;
/// Keys the leader expires per sweep proposal.
pub const EXPIRE_BATCH_KEYS_MAX: usize = 512;
/// Slots in each database's deletion clock (see `keyspace::Db`); a power of two.
pub const DELETION_CLOCK_SLOTS: usize = 1024;

/// Largest payload of one log record on disk. Records carry a `u32` length.
pub const LOG_RECORD_BYTES_MAX: usize = (u32::MAX as usize) >> 1;

/// Bytes in a `CLIENT SETNAME` name and in `CLIENT SETINFO` values.
pub const CLIENT_NAME_BYTES_MAX: usize = 1024;

/// Longest a batch of writes may wait for more clients (`--batch-linger-us`): beyond this a
/// batch would trade far more latency than an fsync costs.
pub const BATCH_LINGER_US_MAX: u64 = 100_000;

/// How long a node keeps sending a client's write again while its outcome is unknown (the
/// leader died or was cut off with it in flight) before it tells the client `-UNKNOWN`.
pub const WRITE_RETRY_MS: u64 = 8_000;
/// Log time a shard remembers the requests of a sender (a node incarnation) that sent nothing
/// since (see `once`): far longer than any sender keeps retrying.
pub const ONCE_SESSION_TTL_MS: u64 = 2 * 60 * 1000;
/// Senders a shard remembers requests of at once; the least recently used goes first.
pub const ONCE_SESSIONS_MAX: usize = 256;
/// Replies one sender may have remembered at once (one per write in flight from it, as long
/// as its senders keep saying what they are done with).
pub const ONCE_REPLIES_PER_SESSION_MAX: usize = 65_536;
/// Bytes of remembered replies per sender.
pub const ONCE_SESSION_BYTES_MAX: usize = 4 * 1024 * 1024;
/// A reply larger than this is remembered only as "applied".
pub const ONCE_REPLY_BYTES_MAX: usize = 16 * 1024;

/// Scripts the script cache keeps (EVAL and SCRIPT LOAD), and the bytes of their bodies: the
/// cache is replicated state, so it is bounded like any other. Past either, SCRIPT LOAD is
/// refused and EVAL runs its script without keeping it.
pub const SCRIPTS_MAX: usize = 10_000;
pub const SCRIPTS_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Lua instructions one script (or function call) may run before it is stopped. Scripts run
/// inside the log's apply, so they are stopped by a count, not a clock: every replica stops
/// the same script at the same instruction with the same error. This stands for Redis's
/// `busy-reply-threshold` (5 s there, after which Redis only answers BUSY to others): at the
/// Lua 5.1 interpreter's 100 to 300 million instructions a second, about 0.1 to 0.3 s, well
/// under an election timeout, so that the shard's heartbeats keep going meanwhile.
pub const SCRIPT_INSTRUCTIONS_MAX: u64 = 30_000_000;
/// How often (in instructions) the count above is checked.
pub const SCRIPT_HOOK_INSTRUCTIONS: u32 = 1_000;
/// Bytes of Lua memory one script run may allocate, above what the kept interpreter holds
/// between runs (see `scripting::vm`).
pub const SCRIPT_MEMORY_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Full collections a kept interpreter may take after a run to come back to the size it had
/// when it was built (each halves Lua's string table and buffer by at most a step, and the
/// second frees what the first finalized); past them it is dropped and a fresh one is built,
/// which costs about as much as twenty.
pub const SCRIPT_VM_SETTLE_COLLECTIONS_MAX: usize = 10;
/// Deepest nesting of tables a script's reply (or a command reply given to it) may have: a
/// table that contains itself would otherwise never end.
pub const SCRIPT_REPLY_DEPTH_MAX: usize = 1_000;
/// Widest integer the `struct` library packs (`i32`), as its C original allows.
pub const STRUCT_INTEGER_BYTES_MAX: usize = 32;
/// Values a C function may leave on the Lua 5.1 stack (`LUAI_MAXCSTACK`): `struct.unpack`
/// stops with Lua's "too many results" past it, as it does in Redis.
pub const LUA_C_STACK_SLOTS_MAX: usize = 8_000;
/// Libraries FUNCTION LOAD keeps, and the bytes of their code.
pub const LIBRARIES_MAX: usize = 1_000;
pub const LIBRARIES_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Functions one library may register.
pub const LIBRARY_FUNCTIONS_MAX: usize = 1_000;

/// Number of hash slots in the cluster (Redis Cluster's fixed count).
pub const SLOTS: u16 = 16384;

/// Longest failure-domain label (`--zone`) a node may carry in the cluster map.
pub const ZONE_BYTES_MAX: usize = 64;

/// Most shards (data groups) a cluster may have: each is a Raft group with its own timers, so
/// a node hosting them all must still idle cheaply; a sharded SCAN cursor keeps the shard in
/// its top 8 bits.
pub const SHARDS_MAX: usize = 256;
/// Slot moves one rebalancing plan makes at most. Each move narrows the gap between the most
/// and the least loaded shard, so a plan rarely needs more than a few per shard; the bound
/// keeps a plan (and the copying it starts) short, and the next plan goes on from there.
pub const PLAN_SLOT_MOVES_MAX: usize = 4 * SHARDS_MAX;
/// Keys (and tombstones) one batch of a slot move carries at most, and its bytes (a larger
/// key goes alone): each batch is one log entry of the source and one of the target.
pub const MOVE_BATCH_KEYS_MAX: usize = 1_000;
pub const MOVE_BATCH_BYTES_MAX: usize = 1 << 20;
/// Entries one export step looks at at most, so a step over slots with few keys stays short
/// (a look that skips an entry is a comparison of its version and slot: a step of this many
/// takes about a millisecond). The fence's round looks at every entry of the source, so this
/// is what sets the write pause of a large shard.
pub const MOVE_SCAN_ENTRIES_MAX: usize = 250_000;
/// Keys one step of dropping a move's leftovers removes at most.
pub const MOVE_DROP_KEYS_MAX: usize = 10_000;
/// A move is fenced once a round exports no more than this many keys (or after
/// `MOVE_ROUNDS_MAX` rounds): the fence then lasts about one short round.
pub const MOVE_FENCE_KEYS_MAX: u64 = 2_000;
pub const MOVE_ROUNDS_MAX: u32 = 8;
/// Slot moves in progress at once, cluster-wide.
pub const MOVES_MAX: usize = 64;
/// Voters of the metadata group at most; further members follow it as learners.
pub const METADATA_VOTERS_MAX: usize = 5;

const _: () = assert!(SHARDS_MAX <= 1 << 8);
const _: () = assert!(MOVE_BATCH_BYTES_MAX < LOG_RECORD_BYTES_MAX / 4, "a batch fits a log entry");
const _: () = assert!(MOVE_BATCH_KEYS_MAX <= MOVE_SCAN_ENTRIES_MAX);
const _: () = assert!(MOVE_FENCE_KEYS_MAX >= MOVE_BATCH_KEYS_MAX as u64, "the last round takes a few batches");
const _: () = assert!(SCRIPT_HOOK_INSTRUCTIONS as u64 <= SCRIPT_INSTRUCTIONS_MAX);
const _: () = assert!(SCRIPTS_BYTES_MAX < LOG_RECORD_BYTES_MAX, "the cache fits a snapshot frame");
const _: () = assert!(LIBRARIES_BYTES_MAX < LOG_RECORD_BYTES_MAX, "the libraries fit a snapshot frame");
const _: () = assert!(WRITE_RETRY_MS * 10 <= ONCE_SESSION_TTL_MS, "a session outlives its sender's retries");
const _: () = assert!(ONCE_REPLY_BYTES_MAX <= ONCE_SESSION_BYTES_MAX);
// Every default client of a node may have a write in flight to one shard, twice over.
const _: () = assert!(ONCE_REPLIES_PER_SESSION_MAX >= 2 * CLIENTS_MAX_DEFAULT);
const _: () =
    assert!(ONCE_SESSION_BYTES_MAX >= ONCE_REPLIES_PER_SESSION_MAX * 64, "room for an OK (about 50 bytes) each");
// Remembered replies of every sender of one shard, at most: bounded memory per shard.
const _: () = assert!(ONCE_SESSIONS_MAX * ONCE_SESSION_BYTES_MAX <= 1024 * 1024 * 1024);
const _: () = assert!(SHARDS_MAX <= SLOTS as usize);
const _: () = assert!(METADATA_VOTERS_MAX % 2 == 1);
const _: () = assert!(DELETION_CLOCK_SLOTS.is_power_of_two());
const _: () = assert!(BLOCKED_CLIENTS_MAX >= CLIENTS_MAX_DEFAULT, "every default client may block");
const _: () = assert!(STRING_BYTES_MAX <= BULK_BYTES_MAX_DEFAULT);
const _: () = assert!(BULK_BYTES_MAX_DEFAULT <= QUERY_BUFFER_BYTES_MAX_DEFAULT);
// A request that fits the query buffer must fit one log record, with room for framing.
const _: () = assert!(QUERY_BUFFER_BYTES_MAX_DEFAULT < LOG_RECORD_BYTES_MAX);
const _: () = assert!(TRANSACTION_BYTES_MAX < LOG_RECORD_BYTES_MAX);
const _: () = assert!(INLINE_REQUEST_BYTES_MAX <= QUERY_BUFFER_BYTES_MAX_DEFAULT);
const _: () = assert!(SLOTS.is_power_of_two());
// A sparse HyperLogLog is never longer than a dense one (16 header bytes, 12288 of registers).
const _: () = assert!(HLL_SPARSE_BYTES_MAX < 16 + 12288);

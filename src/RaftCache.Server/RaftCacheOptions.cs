using Microsoft.Extensions.Options;
using RaftCache.StateMachine;

namespace RaftCache.Server;

/// <summary>Settings of the cache replicas, bound from the configuration section <c>RaftCache</c>.</summary>
public sealed class RaftCacheOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "RaftCache";

    /// <summary>The interval of a Raft tick. Default 100 ms.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Ticks without a leader before a follower campaigns (randomized up to twice this). Default 10.</summary>
    public int ElectionTicks { get; set; } = 10;

    /// <summary>Ticks between leader heartbeats. Default 3.</summary>
    public int HeartbeatTicks { get; set; } = 3;

    /// <summary>Ticks of the election timeout not trusted for lease reads, to cover clock drift. Default 2.</summary>
    public int LeaseSafetyMarginTicks { get; set; } = 2;

    /// <summary>
    /// The number of voters each group keeps when enough silos are live, on distinct silos chosen by placement.
    /// Default 3.
    /// </summary>
    public int Voters { get; set; } = 3;

    /// <summary>
    /// The number of Raft groups the keyspace is sharded over, fixed when the cluster is first formed (later silos
    /// adopt the cluster's number and log a warning if theirs differs). Each group replicates the keys of its slots on
    /// <see cref="Voters"/> silos, with its own leader, log and client sessions. Default 1, the cheapest for a small
    /// cluster: measured on silos that share two cores, eight groups cost four times as much per put as one, because
    /// every silo then leads groups and exchanges Raft messages with every other one. Groups add capacity and write
    /// throughput when silos have cores of their own: then use a few groups per silo.
    /// </summary>
    public int Groups { get; set; } = 1;

    /// <summary>
    /// The number of hash slots keys are divided into, fixed when the cluster is first formed; each group owns a
    /// contiguous range of slots. Default 4,096.
    /// </summary>
    public int Slots { get; set; } = 4096;

    /// <summary>The largest total entry size in one append message. Default 1 MiB.</summary>
    public int MaxSizePerMessage { get; set; } = 1024 * 1024;

    /// <summary>Append messages in flight per follower. Default 256.</summary>
    public int MaxInflightMessages { get; set; } = 256;

    /// <summary>Writes waiting for their outcome on this replica beyond which new writes fail with Overloaded. Default 10,000.</summary>
    public int MaxPendingProposals { get; set; } = 10_000;

    /// <summary>Reads waiting for their read index beyond which new reads fail with Overloaded. Default 10,000.</summary>
    public int MaxPendingReads { get; set; } = 10_000;

    /// <summary>How long the façade tries (following leaders, retrying dropped proposals) before it gives up. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The leader proposes a time-only entry when nothing was proposed for this long, so expiry advances. Default 1 s.</summary>
    public TimeSpan TimeEntryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Applied entries kept in the log below the applied index, so that briefly lagging followers catch up from the
    /// log rather than by snapshot; also the smallest step by which the log is compacted. Default 1,000.
    /// </summary>
    public int CompactionRetainedEntries { get; set; } = 1_000;

    /// <summary>
    /// The log's byte budget. Below it, the leader keeps every entry a healthy follower still needs; above it, the
    /// log is compacted to <see cref="CompactionRetainedEntries"/> below the applied index, and a follower further
    /// behind catches up by snapshot. Default 64 MiB.
    /// </summary>
    public long MaxLogBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The size of one piece of a snapshot streamed between silos. Default 1 MiB.</summary>
    public int SnapshotChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>How often the leader reconciles Raft membership with the Orleans cluster. Default 500 ms.</summary>
    public TimeSpan MembershipCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How far behind the leader's commit index a learner may be and still be promoted to voter. Default 100 entries.</summary>
    public int PromotionMaxLag { get; set; } = 100;

    /// <summary>
    /// How long the membership view must stay unchanged before the oldest silo may create a new group.
    /// Default 2 s.
    /// </summary>
    public TimeSpan BootstrapStableFor { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What happens when a group loses a majority of its voters at once: <see cref="QuorumLossRecoveryMode.Manual"/>
    /// (the default) waits for an operator's <c>raftcache recover --confirm</c>; <see cref="QuorumLossRecoveryMode.Automatic"/>
    /// re-forms the group from its survivors once Orleans has declared the majority dead and
    /// <see cref="QuorumLossRecoveryAfter"/> has passed. Either way, writes only the dead voters held are lost (design §4,
    /// "Quorum-loss recovery", in docs/design.md, states the bound and the risk).
    /// </summary>
    public QuorumLossRecoveryMode QuorumLossRecovery { get; set; } = QuorumLossRecoveryMode.Manual;

    /// <summary>
    /// Under <see cref="QuorumLossRecoveryMode.Automatic"/>: how long a group must have had a majority of its voters on
    /// silos Orleans declared dead before it is re-formed. It should exceed the time a silo declared dead takes to notice
    /// and stop (Orleans' membership table refresh). Default 1 minute.
    /// </summary>
    public TimeSpan QuorumLossRecoveryAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The largest Orleans message header a silo accepts: 1 MiB (Orleans' default is 10 MB).</summary>
    public const int MaxMessageHeaderBytes = 1024 * 1024;

    /// <summary>
    /// The largest Orleans message body a silo accepts from any connection (Orleans'
    /// <c>MessagingOptions.MaxMessageBodySize</c>, which <c>AddRaftCache</c> sets from this value; a connection that
    /// sends a larger message is closed before its body is read). Derived, not configured: four times the largest
    /// message RaftCache itself sends (a Raft append of <see cref="MaxSizePerMessage"/>, a snapshot chunk of
    /// <see cref="SnapshotChunkBytes"/>, or a put of the largest key and value), and at least 4 MiB for Orleans' own
    /// messages. With the defaults: 4 MiB.
    /// </summary>
    public int MaxMessageBodyBytes
    {
        get
        {
            long largest = Math.Max(Math.Max(MaxSizePerMessage, SnapshotChunkBytes), (long)(Cache?.MaxKeyBytes ?? 0) + (Cache?.MaxValueBytes ?? 0) + CommandCodec.MaxOverheadBytes);
            return (int)Math.Clamp(largest * 4, 4L * 1024 * 1024, int.MaxValue);
        }
    }

    /// <summary>
    /// A deliberate bug for the linearizability tests' canary, never set otherwise: a read served by read index does
    /// not wait until the replica has applied that index. A follower behind the leader then answers from stale state,
    /// which the checker must catch.
    /// </summary>
    internal bool CanaryServeReadsBeforeApplying { get; set; }

    /// <summary>Limits and bounds of the cache itself (key and value sizes, TTL, capacity, sessions).</summary>
    public CacheStateMachineOptions Cache { get; set; } = new();
}

/// <summary>How a group that lost a majority of its voters is re-formed (<see cref="RaftCacheOptions.QuorumLossRecovery"/>).</summary>
public enum QuorumLossRecoveryMode
{
    /// <summary>Only by an operator's command (<c>raftcache recover --confirm</c>, or <c>IRaftCacheClient.RecoverQuorumAsync</c>).</summary>
    Manual = 0,

    /// <summary>
    /// Also automatically, <see cref="RaftCacheOptions.QuorumLossRecoveryAfter"/> after Orleans declared a majority of the
    /// group's voters dead: the cache stays available without an operator, at the cost of the writes only the dead held.
    /// </summary>
    Automatic = 1,
}

/// <summary>
/// Rejects invalid <see cref="RaftCacheOptions"/> at start-up with one message per invalid setting, each naming the
/// setting by its configuration path (<c>RaftCache:Cache:MaxKeyBytes must be between 1 and 67108864 (is 0).</c>).
/// </summary>
/// <remarks>
/// <c>AddRaftCache()</c> registers it. A host can also run it before starting, to report these errors together
/// with its own (the RaftCache silo program does, with the settings that did not convert).
/// </remarks>
public sealed class RaftCacheOptionsValidator : IValidateOptions<RaftCacheOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, RaftCacheOptions options)
    {
        var errors = GetErrors(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every invalid setting of <paramref name="options"/>, one message each; empty when they are valid.</summary>
    public static IReadOnlyList<string> GetErrors(RaftCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void Positive(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero) errors.Add($"{RaftCacheOptions.SectionName}:{setting} must be positive (is {value}).");
        }

        void AtLeast(long value, long minimum, string setting)
        {
            if (value < minimum) errors.Add($"{RaftCacheOptions.SectionName}:{setting} must be at least {minimum} (is {value}).");
        }

        Positive(options.TickInterval, nameof(options.TickInterval));
        Positive(options.RequestTimeout, nameof(options.RequestTimeout));
        Positive(options.TimeEntryInterval, nameof(options.TimeEntryInterval));
        Positive(options.MembershipCheckInterval, nameof(options.MembershipCheckInterval));
        Positive(options.QuorumLossRecoveryAfter, nameof(options.QuorumLossRecoveryAfter));
        if (!Enum.IsDefined(options.QuorumLossRecovery))
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.QuorumLossRecovery)} must be {nameof(QuorumLossRecoveryMode.Manual)} or {nameof(QuorumLossRecoveryMode.Automatic)} (is {options.QuorumLossRecovery}).");
        if (options.BootstrapStableFor < TimeSpan.Zero) errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.BootstrapStableFor)} must not be negative.");
        AtLeast(options.HeartbeatTicks, 1, nameof(options.HeartbeatTicks));
        if (options.ElectionTicks <= options.HeartbeatTicks)
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.ElectionTicks)} ({options.ElectionTicks}) must be greater than {nameof(options.HeartbeatTicks)} ({options.HeartbeatTicks}).");
        if (options.LeaseSafetyMarginTicks < 1 || options.LeaseSafetyMarginTicks >= options.ElectionTicks)
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.LeaseSafetyMarginTicks)} must be at least 1 and less than {nameof(options.ElectionTicks)}.");
        AtLeast(options.Voters, 1, nameof(options.Voters));
        if (options.Slots is < 1 or > 1 << 20)
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.Slots)} must be between 1 and {1 << 20} (is {options.Slots}).");
        if (options.Groups < 1 || options.Groups > Math.Min(options.Slots, 65_536))
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.Groups)} must be between 1 and the number of slots ({options.Slots}), at most 65536 (is {options.Groups}).");
        AtLeast(options.MaxSizePerMessage, 1024, nameof(options.MaxSizePerMessage));
        AtLeast(options.MaxInflightMessages, 1, nameof(options.MaxInflightMessages));
        AtLeast(options.MaxPendingProposals, 1, nameof(options.MaxPendingProposals));
        AtLeast(options.MaxPendingReads, 1, nameof(options.MaxPendingReads));
        AtLeast(options.MaxLogBytes, options.MaxSizePerMessage, nameof(options.MaxLogBytes));
        AtLeast(options.CompactionRetainedEntries, 0, nameof(options.CompactionRetainedEntries));
        AtLeast(options.SnapshotChunkBytes, 1024, nameof(options.SnapshotChunkBytes));
        AtLeast(options.PromotionMaxLag, 0, nameof(options.PromotionMaxLag));
        if (options.Cache is null)
        {
            errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.Cache)} is required.");
        }
        else
        {
            errors.AddRange(options.Cache.GetErrors($"{RaftCacheOptions.SectionName}:{nameof(options.Cache)}:"));

            // In long: both limits may be as large as int allows when they are themselves invalid.
            var largestPut = (long)options.Cache.MaxValueBytes + options.Cache.MaxKeyBytes + CommandCodec.MaxOverheadBytes;
            if (largestPut > options.MaxSizePerMessage)
            {
                errors.Add($"{RaftCacheOptions.SectionName}:{nameof(options.Cache)}:{nameof(options.Cache.MaxValueBytes)} ({options.Cache.MaxValueBytes}) plus the key limit " +
                    $"and the command overhead ({largestPut} bytes) must fit in {nameof(options.MaxSizePerMessage)} ({options.MaxSizePerMessage} bytes).");
            }
        }

        return errors;
    }
}

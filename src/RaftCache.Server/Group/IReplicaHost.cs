using System.Diagnostics.CodeAnalysis;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Group;

/// <summary>
/// What a group replica needs from the silo that hosts it: the per-silo concerns (identity, timer, transport,
/// membership view, routes), shared by all of the silo's group replicas.
/// </summary>
/// <remarks>
/// Every member is called on the host's scheduler, one call at a time, like the replicas' own methods.
/// </remarks>
internal interface IReplicaHost
{
    /// <summary>This silo.</summary>
    SiloAddress Self { get; }

    /// <summary>This silo's member id, the same in every group (design §4, "Identity and membership").</summary>
    ulong MemberId { get; }

    /// <summary>The replica settings.</summary>
    RaftCacheOptions Options { get; }

    /// <summary>The metrics.</summary>
    RaftCacheInstruments Instruments { get; }

    /// <summary>The clock, for deadlines, command timestamps and Raft ticks (never for the replicated state).</summary>
    TimeProvider Time { get; }

    /// <summary>The replica services of other silos.</summary>
    IRaftReplicaClient Peers { get; }

    /// <summary>The latest Orleans membership view.</summary>
    ClusterMembershipSnapshot Membership { get; }

    /// <summary>True once the silo is stopping: no new groups, no membership changes.</summary>
    bool Stopping { get; }

    /// <summary>The silo that hosts <paramref name="memberId"/>, if known.</summary>
    bool TryRoute(ulong memberId, [NotNullWhen(true)] out SiloAddress? silo);

    /// <summary>Records where <paramref name="memberId"/> lives (from a configuration change or a message).</summary>
    void LearnRoute(ulong memberId, SiloAddress silo);

    /// <summary>Every member route known, for a snapshot's header.</summary>
    IReadOnlyCollection<(ulong MemberId, SiloAddress Silo)> Routes { get; }

    /// <summary>
    /// The silos placement chooses for <paramref name="group"/>'s replicas (<see cref="RaftCacheOptions.Voters"/> of
    /// them, or every active silo if there are fewer), from the current membership view.
    /// </summary>
    IReadOnlyList<SiloAddress> PlacementOf(int group);

    /// <summary>The silo that should lead <paramref name="group"/> so that leaders spread evenly, or null if unknown.</summary>
    SiloAddress? PreferredLeaderOf(int group);

    /// <summary>Queues <paramref name="messages"/> of <paramref name="group"/> for <paramref name="to"/> on <paramref name="silo"/>; sent at the end of the pass.</summary>
    void Send(SiloAddress silo, GroupId group, ulong to, IReadOnlyList<Message> messages);

    /// <summary>Asks for a Ready pass over the groups with work, once the requests already queued have run (group commit).</summary>
    void ScheduleFlush();
}

using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>
/// The membership configuration in force, as recorded in snapshots and returned by <see cref="RawNode.ApplyConfChange"/>
/// (thesis §4.3; the same shape as etcd raft's ConfState).
/// </summary>
/// <remarks>All id lists are sorted ascending, so that equal configurations compare and serialize equally.</remarks>
public sealed record ConfState
{
    /// <summary>The empty configuration of a node that has not been bootstrapped.</summary>
    public static ConfState Empty { get; } = new();

    /// <summary>The voters of the incoming (or only) configuration.</summary>
    public ImmutableArray<ulong> Voters { get; init; } = [];

    /// <summary>Learners: receive the log, never vote or count toward a quorum.</summary>
    public ImmutableArray<ulong> Learners { get; init; } = [];

    /// <summary>The voters of the outgoing configuration while joint; empty otherwise.</summary>
    public ImmutableArray<ulong> VotersOutgoing { get; init; } = [];

    /// <summary>Voters of the outgoing configuration that become learners when the joint configuration is left.</summary>
    public ImmutableArray<ulong> LearnersNext { get; init; } = [];

    /// <summary>Whether the leader leaves the joint configuration by itself once it is applied.</summary>
    public bool AutoLeave { get; init; }

    /// <summary>True while a joint configuration is in force.</summary>
    public bool IsJoint => !VotersOutgoing.IsEmpty;

    /// <inheritdoc/>
    public bool Equals(ConfState? other) =>
        other is not null && AutoLeave == other.AutoLeave &&
        Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners) &&
        VotersOutgoing.SequenceEqual(other.VotersOutgoing) && LearnersNext.SequenceEqual(other.LearnersNext);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var id in Voters) hash.Add(id);
        hash.Add(-1);
        foreach (var id in Learners) hash.Add(id);
        hash.Add(-2);
        foreach (var id in VotersOutgoing) hash.Add(id);
        hash.Add(-3);
        foreach (var id in LearnersNext) hash.Add(id);
        hash.Add(AutoLeave);
        return hash.ToHashCode();
    }
}

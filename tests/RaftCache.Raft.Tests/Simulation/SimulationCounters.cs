using System.Text;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// What a run exercised. Summed over a seed set, these prove the seeds reach the cases the invariants are about
/// (elections, commits, snapshots, restarts, reads) instead of passing vacuously.
/// </summary>
internal sealed class SimulationCounters
{
    public long Ticks;
    public long MessagesSent;
    public long MessagesDelivered;
    public long MessagesDropped;
    public long MessagesDuplicated;
    public long LeadersElected;
    public long ProposalsAccepted;
    public long ProposalsForwarded;
    public long ProposalsDropped;
    public long EntriesCommitted;
    public long Compactions;
    public long SnapshotsSent;
    public long SnapshotsInstalled;
    public long Crashes;
    public long Restarts;
    public long Partitions;
    public long Transfers;
    public long ReadsRequested;
    public long ReadsRefused;
    public long ReadsAnswered;

    /// <summary>Reads answered at the instant they were requested: served from the leader lease.</summary>
    public long ReadsServedByLease;
    public long HealTicks;

    /// <summary>Seeds in which at least one follower installed a snapshot from the leader.</summary>
    public long SeedsWithSnapshotInstall;

    // Membership (thesis §4.3). Changes are counted once per log index, when the entry is first applied anywhere.
    public long ConfChangesProposed;
    public long ConfChangesAccepted;
    public long ConfChangesApplied;

    /// <summary>Joint configurations entered that the leader leaves by itself (Auto with several voters changed, JointImplicit).</summary>
    public long JointsEnteredAutoLeave;

    /// <summary>Joint configurations entered with JointExplicit: left only by a proposed empty change.</summary>
    public long JointsEnteredExplicit;
    public long JointsLeftAuto;
    public long JointsLeftExplicit;

    /// <summary>Nodes that were not members and became learners or voters.</summary>
    public long NodesAdded;
    public long LearnersPromoted;

    /// <summary>Voters made learners (staged in LearnersNext while joint).</summary>
    public long VotersDemoted;
    public long NodesRemoved;

    /// <summary>Changes that, applied on the leader of the moment, took away its vote: it stepped down.</summary>
    public long LeaderRemovals;

    /// <summary>Member restarts while the newest applied configuration was joint.</summary>
    public long RestartsWhileJoint;

    public void Add(SimulationCounters other)
    {
        Ticks += other.Ticks;
        MessagesSent += other.MessagesSent;
        MessagesDelivered += other.MessagesDelivered;
        MessagesDropped += other.MessagesDropped;
        MessagesDuplicated += other.MessagesDuplicated;
        LeadersElected += other.LeadersElected;
        ProposalsAccepted += other.ProposalsAccepted;
        ProposalsForwarded += other.ProposalsForwarded;
        ProposalsDropped += other.ProposalsDropped;
        EntriesCommitted += other.EntriesCommitted;
        Compactions += other.Compactions;
        SnapshotsSent += other.SnapshotsSent;
        SnapshotsInstalled += other.SnapshotsInstalled;
        Crashes += other.Crashes;
        Restarts += other.Restarts;
        Partitions += other.Partitions;
        Transfers += other.Transfers;
        ReadsRequested += other.ReadsRequested;
        ReadsRefused += other.ReadsRefused;
        ReadsAnswered += other.ReadsAnswered;
        ReadsServedByLease += other.ReadsServedByLease;
        HealTicks += other.HealTicks;
        SeedsWithSnapshotInstall += other.SeedsWithSnapshotInstall;
        ConfChangesProposed += other.ConfChangesProposed;
        ConfChangesAccepted += other.ConfChangesAccepted;
        ConfChangesApplied += other.ConfChangesApplied;
        JointsEnteredAutoLeave += other.JointsEnteredAutoLeave;
        JointsEnteredExplicit += other.JointsEnteredExplicit;
        JointsLeftAuto += other.JointsLeftAuto;
        JointsLeftExplicit += other.JointsLeftExplicit;
        NodesAdded += other.NodesAdded;
        LearnersPromoted += other.LearnersPromoted;
        VotersDemoted += other.VotersDemoted;
        NodesRemoved += other.NodesRemoved;
        LeaderRemovals += other.LeaderRemovals;
        RestartsWhileJoint += other.RestartsWhileJoint;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"ticks {Ticks} (heal {HealTicks}), messages sent {MessagesSent} delivered {MessagesDelivered} ");
        text.Append($"dropped {MessagesDropped} duplicated {MessagesDuplicated}; leaders elected {LeadersElected}; ");
        text.Append($"proposals accepted {ProposalsAccepted} forwarded {ProposalsForwarded} dropped {ProposalsDropped}; ");
        text.Append($"entries committed {EntriesCommitted}; compactions {Compactions}; snapshots sent {SnapshotsSent} ");
        text.Append($"installed {SnapshotsInstalled} (in {SeedsWithSnapshotInstall} seeds); crashes {Crashes} restarts {Restarts}; ");
        text.Append($"partitions {Partitions}; transfers {Transfers}; reads requested {ReadsRequested} refused {ReadsRefused} ");
        text.Append($"answered {ReadsAnswered} (served by lease {ReadsServedByLease})");
        if (ConfChangesProposed > 0)
        {
            text.Append($"; conf changes proposed {ConfChangesProposed} accepted {ConfChangesAccepted} applied {ConfChangesApplied}: ");
            text.Append($"joint entered {JointsEnteredAutoLeave} auto-leave + {JointsEnteredExplicit} explicit, left {JointsLeftAuto} auto + {JointsLeftExplicit} explicit; ");
            text.Append($"added {NodesAdded}, promoted {LearnersPromoted}, demoted {VotersDemoted}, removed {NodesRemoved}, ");
            text.Append($"leader removals {LeaderRemovals}, restarts while joint {RestartsWhileJoint}");
        }

        return text.ToString();
    }
}

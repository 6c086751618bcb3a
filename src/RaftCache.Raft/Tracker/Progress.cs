namespace RaftCache.Raft.Tracker;

/// <summary>
/// The leader's view of one member's log (etcd raft's Progress): what is known to match, what to send next, and
/// how to send it (probe one message at a time, pipeline in replicate, or wait for a snapshot).
/// </summary>
/// <remarks>Invariant: Match &lt; Next.</remarks>
internal sealed class Progress
{
    public Progress(ulong next, int maxInflight, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight);
        IsLearner = isLearner;
    }

    public ulong Match { get; set; }

    public ulong Next { get; set; }

    public ProgressState State { get; private set; }

    public ulong PendingSnapshot { get; private set; }

    /// <summary>Heard from within the current check-quorum window (thesis §6.2).</summary>
    public bool RecentActive { get; set; }

    /// <summary>In probe state: an append was sent and its answer (or a heartbeat response) is awaited.</summary>
    public bool MsgAppFlowPaused { get; set; }

    public Inflights Inflights { get; }

    public bool IsLearner { get; set; }

    /// <summary>Whether no append should be sent now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => MsgAppFlowPaused,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // After a snapshot the follower holds at least the snapshot: probe from there rather than from Match.
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>Accounts for an append carrying entries up to <paramref name="lastIndex"/> (or none).</summary>
    public void UpdateOnEntriesSend(int entries, long bytes, ulong lastIndex)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (entries > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }

                break;
            case ProgressState.Probe:
                MsgAppFlowPaused = true;
                break;
            default:
                Throw.Invariant($"sending an append in state {State}.");
                break;
        }
    }

    /// <summary>
    /// An acknowledgement of <paramref name="index"/>: raises Match (never lowers it, so reordered or duplicated
    /// responses are harmless). Returns whether Match grew.
    /// </summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            MsgAppFlowPaused = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// A rejection of the append after <paramref name="rejected"/>, with the follower's hint
    /// <paramref name="matchHint"/>. Returns false when the rejection is stale (for an append we no longer consider).
    /// </summary>
    public bool MaybeDecrTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match) return false;
            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected) return false;
        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>The snapshot was not delivered: probe from Match again rather than from the snapshot.</summary>
    public void OnSnapshotFailed() => PendingSnapshot = 0;

    public ProgressStatus ToStatus() =>
        new(Match, Next, State, IsLearner, RecentActive, PendingSnapshot, Inflights.Count);

    private void ResetState(ProgressState state)
    {
        MsgAppFlowPaused = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }
}

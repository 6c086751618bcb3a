using System.Diagnostics.Metrics;

namespace RaftCache.Server;

/// <summary>
/// The replica's metrics, on a <see cref="Meter"/> named <c>RaftCache</c>. Counters are also kept as plain totals so
/// that tests and the status call can read one silo's numbers.
/// </summary>
public sealed class RaftCacheInstruments : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = RaftCacheTelemetry.MeterName;

    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _proposals;
    private readonly Counter<long> _proposalsDropped;
    private readonly Histogram<double> _proposalDuration;
    private readonly Counter<long> _reads;
    private readonly Counter<long> _messagesSent;
    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _snapshotsSent;
    private readonly Counter<long> _snapshotsReceived;
    private long _messagesSentTotal;
    private long _snapshotsSentTotal;
    private long _snapshotsReceivedTotal;
    private long _snapshotPiecesSentTotal;
    private long _followerReadsTotal;
    private long _proposalsTotal;
    private long _leaderChangesTotal;
    private long _orleansMessagesSentTotal;
    private readonly MeterListener _orleansListener = new();
    private Func<(int Replicas, int Leaders)> _observe = () => default;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public RaftCacheInstruments(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);

        // Every Orleans message this silo sends is recorded in Orleans' own size histogram, on a meter its silo's
        // factory made: counting those recordings gives the messages per operation that bench reports. Several silos
        // may share a process, so only this silo's meter is counted.
        _orleansListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Microsoft.Orleans" && instrument.Name == "orleans-messaging-sent-messages-size" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                listener.EnableMeasurementEvents(instrument);
        };
        _orleansListener.SetMeasurementEventCallback<int>((_, _, _, _) => Interlocked.Increment(ref _orleansMessagesSentTotal));
        _orleansListener.Start();
        _proposals = meter.CreateCounter<long>("raftcache.proposals", description: "Commands proposed by this replica as leader.");
        _proposalsDropped = meter.CreateCounter<long>("raftcache.proposals.dropped", description: "Proposals the Raft core dropped (no leader, transfer, limits).");
        // In seconds, as OpenTelemetry's semantic conventions have every duration; with buckets fit for commits of a
        // fraction of a millisecond to seconds (the default buckets are made for milliseconds).
        _proposalDuration = meter.CreateHistogram("raftcache.proposal.duration", "s", "From proposing to applying a command.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _reads = meter.CreateCounter<long>("raftcache.reads", description: "Reads served, by consistency level.");
        _messagesSent = meter.CreateCounter<long>("raftcache.raft.messages.sent", description: "Raft messages sent to other replicas.");
        _leaderChanges = meter.CreateCounter<long>("raftcache.raft.leader.changes", description: "Times this replica saw the leader change.");
        _snapshotsSent = meter.CreateCounter<long>("raftcache.snapshots.sent", description: "Snapshots transferred to lagging replicas.");
        _snapshotsReceived = meter.CreateCounter<long>("raftcache.snapshots.received", description: "Snapshots installed from the leader.");
        meter.CreateObservableGauge("raftcache.replicas", () => _observe().Replicas, description: "Group replicas this silo hosts.");
        meter.CreateObservableGauge("raftcache.replicas.leading", () => _observe().Leaders, description: "Group replicas on this silo that lead their group.");
    }

    /// <summary>Raft messages sent by this silo's replica.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSentTotal);

    /// <summary>Snapshots this silo's replica sent.</summary>
    public long SnapshotsSent => Interlocked.Read(ref _snapshotsSentTotal);

    /// <summary>Orleans messages this silo sent (to other silos and to clients), of any kind.</summary>
    public long OrleansMessagesSent => Interlocked.Read(ref _orleansMessagesSentTotal);

    /// <summary>Linearizable reads this silo's replicas served as followers (thesis §6.4).</summary>
    public long FollowerReads => Interlocked.Read(ref _followerReadsTotal);

    /// <summary>Pieces of snapshots this silo's replicas streamed to others.</summary>
    public long SnapshotPiecesSent => Interlocked.Read(ref _snapshotPiecesSentTotal);

    /// <summary>Snapshots this silo's replica installed.</summary>
    public long SnapshotsReceived => Interlocked.Read(ref _snapshotsReceivedTotal);

    /// <summary>Commands this silo's replica proposed.</summary>
    public long Proposals => Interlocked.Read(ref _proposalsTotal);

    /// <summary>Leader changes this silo's replica observed.</summary>
    public long LeaderChanges => Interlocked.Read(ref _leaderChangesTotal);

    /// <inheritdoc/>
    public void Dispose() => _orleansListener.Dispose();

    internal void Observe(Func<(int Replicas, int Leaders)> observe) => _observe = observe;

    internal void OnProposed()
    {
        _proposals.Add(1);
        Interlocked.Increment(ref _proposalsTotal);
    }

    internal void OnProposalDropped(string reason) => _proposalsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void OnProposalApplied(TimeSpan duration) => _proposalDuration.Record(duration.TotalSeconds);

    internal void OnRead(ReadConsistency consistency, bool byFollower = false)
    {
        _reads.Add(1, new KeyValuePair<string, object?>("consistency", consistency.ToString()), new KeyValuePair<string, object?>("replica", byFollower ? "follower" : "leader"));
        if (byFollower && consistency != ReadConsistency.Local) Interlocked.Increment(ref _followerReadsTotal);
    }

    internal void OnMessagesSent(int count)
    {
        _messagesSent.Add(count);
        Interlocked.Add(ref _messagesSentTotal, count);
    }

    internal void OnLeaderChanged()
    {
        _leaderChanges.Add(1);
        Interlocked.Increment(ref _leaderChangesTotal);
    }

    internal void OnSnapshotSent()
    {
        _snapshotsSent.Add(1);
        Interlocked.Increment(ref _snapshotsSentTotal);
    }

    internal void OnSnapshotPieceSent() => Interlocked.Increment(ref _snapshotPiecesSentTotal);

    internal void OnSnapshotReceived()
    {
        _snapshotsReceived.Add(1);
        Interlocked.Increment(ref _snapshotsReceivedTotal);
    }
}

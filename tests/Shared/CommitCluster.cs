namespace RaftCache.Raft.Testing;

/// <summary>
/// Three RawNodes driven synchronously on one thread with no I/O: storage is <see cref="MemStorage"/>, messages are
/// handed to their recipient directly (the same instance: messages are immutable once sent), committed entries are
/// counted, logs compacted. What remains is the cost of the consensus core itself. Shared by the commit benchmark
/// and the allocation tests; kept apart from the simulation so that only the core's own allocations are measured.
/// </summary>
internal sealed class CommitCluster
{
    private const int NodeCount = 3;
    // Compacting every so many applied entries keeps each log, and so memory, bounded over long runs.
    private const ulong CompactEvery = 16 * 1024;

    private readonly RawNode[] _nodes = new RawNode[NodeCount];
    private readonly MemStorage[] _storages = new MemStorage[NodeCount];
    private readonly ulong[] _applied = new ulong[NodeCount];
    private readonly ulong[] _compacted = new ulong[NodeCount];
    private readonly List<EntryId>[] _appliedIds = [[], [], []];
    private List<Message> _inbox = new(64);
    private List<Message> _delivering = new(64);

    public CommitCluster(bool recordApplied = false)
    {
        RecordApplied = recordApplied;
        var voters = new ConfState { Voters = [1, 2, 3] };
        for (var i = 0; i < NodeCount; i++)
        {
            _storages[i] = MemStorage.CreateBootstrapped(voters);
            _nodes[i] = new RawNode(new RaftConfig { Id = (ulong)i + 1, Random = new Random(i + 1) }, _storages[i]);
        }

        _nodes[0].Campaign();
        Pump();
        if (_nodes[0].Status.SoftState.Role != StateRole.Leader) throw new InvalidOperationException("Node 1 did not become leader.");
    }

    /// <summary>Whether every applied entry id is recorded (for checks; allocates).</summary>
    public bool RecordApplied { get; }

    /// <summary>Application entries the leader has applied.</summary>
    public long LeaderCommittedPayloads { get; private set; }

    /// <summary>The ids of the entries node <paramref name="i"/> (0-based) applied, when recorded.</summary>
    public IReadOnlyList<EntryId> AppliedIds(int i) => _appliedIds[i];

    /// <summary>The storage of node <paramref name="i"/> (0-based).</summary>
    public MemStorage Storage(int i) => _storages[i];

    /// <summary>
    /// Proposes <paramref name="batchSize"/> entries, runs every Ready cycle until the cluster is quiet, and repeats
    /// until <paramref name="entries"/> more entries are committed on the leader; returns the leader's total.
    /// </summary>
    public long Commit(int entries, int batchSize, ReadOnlyMemory<byte> payload)
    {
        var target = LeaderCommittedPayloads + entries;
        var leader = _nodes[0];
        while (LeaderCommittedPayloads < target)
        {
            var batch = (int)Math.Min(batchSize, target - LeaderCommittedPayloads);
            for (var i = 0; i < batch; i++)
            {
                if (!leader.Propose(payload).IsAccepted) throw new InvalidOperationException("The leader dropped a proposal.");
            }

            Pump();
        }

        return LeaderCommittedPayloads;
    }

    private void Pump()
    {
        bool busy;
        do
        {
            busy = false;
            for (var i = 0; i < NodeCount; i++)
            {
                if (!_nodes[i].HasReady) continue;
                busy = true;
                HandleReady(i);
            }

            if (_inbox.Count > 0)
            {
                busy = true;
                (_inbox, _delivering) = (_delivering, _inbox);
                foreach (var message in _delivering) _nodes[(int)message.To - 1].Step(message);
                _delivering.Clear();
            }
        }
        while (busy);
    }

    private void HandleReady(int i)
    {
        var node = _nodes[i];
        var storage = _storages[i];
        var ready = node.GetReady();
        if (ready.Snapshot is { } snapshot) storage.ApplySnapshot(snapshot);
        if (!ready.Entries.IsEmpty) storage.Append(ready.Entries);
        if (ready.HardState is { } hardState) storage.SetHardState(hardState);
        // As a span: List.AddRange(IEnumerable) would box the ImmutableArray (24 B per Ready, about 100 B per
        // unbatched entry), a cost of this driver, not of the core.
        _inbox.AddRange(ready.Messages.AsSpan());
        var committed = ready.CommittedEntries;
        if (!committed.IsEmpty)
        {
            if (i == 0)
            {
                foreach (var entry in committed)
                {
                    if (!entry.Data.IsEmpty) LeaderCommittedPayloads++;
                }
            }

            if (RecordApplied)
            {
                foreach (var entry in committed) _appliedIds[i].Add(entry.Id);
            }

            _applied[i] = committed[^1].Index;
        }

        node.Advance(ready);
        if (_applied[i] >= _compacted[i] + (2 * CompactEvery))
        {
            var compactTo = _applied[i] - CompactEvery;
            storage.CreateSnapshot(compactTo, null, ReadOnlyMemory<byte>.Empty);
            storage.Compact(compactTo);
            _compacted[i] = compactTo;
        }
    }
}

using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// Drives one RawNode the way a real replica does: persists what a Ready asks, then sends its messages, then
/// applies, then advances. <see cref="Stable"/> models stable storage and survives crashes; the RawNode and the
/// state machine are volatile and are rebuilt on restart.
/// </summary>
internal sealed class SimulatedNode
{
    private readonly SimulationRun _run;
    private readonly ForgetfulStorage? _forgetful;

    // The membership canary: a driver that never calls ApplyConfChange.
    private readonly bool _forgetConfChanges;
    private bool _becameLeader;

    /// <summary>
    /// Creates a node of the initial group (<paramref name="bootstrap"/> set) or a spare that waits, with empty storage,
    /// until a leader adds it and sends it a snapshot; until it is a voter it never campaigns.
    /// </summary>
    public SimulatedNode(SimulationRun run, ulong id, ConfState? bootstrap, HardStateLoss forgetOnRestart, bool forgetConfChanges = false)
    {
        _run = run;
        Id = id;
        _forgetConfChanges = forgetConfChanges;
        Stable = bootstrap is null ? new MemStorage() : MemStorage.CreateBootstrapped(bootstrap);
        if (forgetOnRestart != HardStateLoss.None)
        {
            _forgetful = new ForgetfulStorage(Stable, keepCommit: forgetOnRestart == HardStateLoss.TermAndVote);
            View = _forgetful;
        }
        else
        {
            View = Stable;
        }
    }

    public ulong Id { get; }

    /// <summary>What the node has persisted: the only thing a crash leaves behind.</summary>
    public MemStorage Stable { get; }

    /// <summary>What the RawNode reads: <see cref="Stable"/> itself, or the canary's lying wrapper around it.</summary>
    public IStorage View { get; }

    public RawNode? Raft { get; private set; }

    public bool IsUp => Raft is not null;

    /// <summary>Incremented on every restart, so that transport reports for an earlier incarnation are dropped.</summary>
    public int Incarnation { get; private set; }

    public SimulatedStateMachine Machine { get; private set; } = new();

    /// <summary>The role last reported through <see cref="Ready.SoftState"/>.</summary>
    public StateRole Role { get; private set; }

    /// <summary>The leader last reported through <see cref="Ready.SoftState"/>.</summary>
    public ulong Leader { get; private set; }

    /// <summary>The hard state as this incarnation knows it (what it restarted from, then what it persisted).</summary>
    public HardState Hard { get; private set; }

    /// <summary>When the node crashed and when it comes back, in ticks; meaningful while down.</summary>
    public long CrashedAtTick { get; set; }

    public long RestartAtTick { get; set; }

    public void Start(FaultPlan plan, int randomSeed)
    {
        if (Incarnation > 0 && _forgetful is not null) _forgetful.HasRestarted = true;
        Incarnation++;

        // The state machine is volatile: rebuild it from the stored snapshot; RawNode then hands out the log after it.
        Machine = new SimulatedStateMachine();
        var snapshot = Stable.Snapshot(0);
        Machine.Restore(snapshot);
        if (!snapshot.IsEmpty) _run.Checker.OnStateMachineRestored(this, snapshot);

        // The configuration is applied state, like the state machine, and RawNode takes the stored ConfState as the
        // one in force at Applied (etcd's contract). The state machine restarts from the snapshot, so the
        // configuration does too, and the log after it (conf changes included) is applied again in order. Keeping
        // the newest ConfState instead would apply those conf changes twice (a joint change twice is invalid).
        // Until they are applied again, the node does not campaign (RawNode refuses while conf changes are
        // committed but unapplied).
        Stable.SetConfState(snapshot.Metadata.ConfState);
        Hard = View.InitialState().HardState;
        Role = StateRole.Follower;
        Leader = RaftConfig.None;
        _becameLeader = false;
        var config = new RaftConfig
        {
            Id = Id,
            Applied = Machine.Applied,
            Random = new Random(randomSeed),
            MaxSizePerMsg = plan.MaxSizePerMsg,
            MaxInflightMsgs = plan.MaxInflightMsgs,
            MaxUncommittedEntriesSize = plan.MaxUncommittedEntriesSize,
        };
        Raft = new RawNode(config, View);
        if (_run.Scenario.Membership) _run.Checker.CheckConfigInForce(this);
    }

    /// <summary>Loses everything volatile; <see cref="Stable"/> stays as it was after the last completed Ready.</summary>
    public void Crash()
    {
        Raft = null;
        Role = StateRole.Follower;
        Leader = RaftConfig.None;
    }

    /// <summary>Handles every Ready the node has, then checks what must hold between steps.</summary>
    public void HandleReadies()
    {
        var raft = Raft!;
        while (raft.HasReady)
        {
            var ready = raft.GetReady();
            HandleReady(ready);
            raft.Advance(ready);
        }

        if (_becameLeader)
        {
            // Checked once the new leader's Readies are drained, when its whole log is in stable storage.
            _becameLeader = false;
            _run.Checker.CheckLeaderHasEveryCommittedEntry(this);
        }

        MaybeCompact();
    }

    private void HandleReady(Ready ready)
    {
        var checker = _run.Checker;
        if (ready.SoftState is { } soft)
        {
            if (soft.Role == StateRole.Leader && Role != StateRole.Leader)
            {
                var term = ready.HardState?.Term ?? Hard.Term;
                checker.OnBecameLeader(this, term);
                _run.Trace.Record(new TraceEvent(_run.Now, TraceKind.BecameLeader, Id, 0, default, term, Stable.LastIndex(), 0));
                _becameLeader = true;
            }

            Role = soft.Role;
            Leader = soft.Leader;
        }

        // 1. Persist: snapshot, then entries, then hard state (its commit may point into the new entries).
        var snapshot = ready.Snapshot is { IsEmpty: false } s ? s : null;
        if (snapshot is not null)
        {
            checker.OnSnapshotPersisting(this, snapshot);
            Stable.ApplySnapshot(snapshot);
        }

        if (!ready.Entries.IsEmpty)
        {
            checker.OnEntriesPersisting(this, ready.Entries);
            Stable.Append(ready.Entries);
        }

        if (ready.HardState is { } hardState)
        {
            checker.OnHardStatePersisting(this, Stable.HardState, hardState);
            Stable.SetHardState(hardState);
            Hard = hardState;
        }

        // 2. Send: only now is the state the messages promise durable (thesis §3.8).
        foreach (var message in ready.Messages)
        {
            checker.OnMessageSent(this, message);
            if (message.Type == MessageType.InstallSnapshot) _run.Counters.SnapshotsSent++;
            _run.Network.Send(message, Id, _run.Now, Incarnation);
        }

        // 3. Apply: the snapshot first, then the committed entries after it.
        if (snapshot is not null)
        {
            if (snapshot.Metadata.Index <= Machine.Applied)
            {
                throw new InvariantViolationException(
                    "snapshot application",
                    $"node {Id} was handed snapshot {snapshot.Metadata.Index} but has applied {Machine.Applied} already");
            }

            Machine.Restore(snapshot);
            checker.OnStateMachineRestored(this, snapshot);
            _run.Counters.SnapshotsInstalled++;
            _run.Trace.Record(new TraceEvent(_run.Now, TraceKind.InstallSnapshot, Id, 0, default, snapshot.Metadata.Term, snapshot.Metadata.Index, 0));
        }

        foreach (var entry in ready.CommittedEntries)
        {
            if (entry.Index != Machine.Applied + 1)
            {
                throw new InvariantViolationException(
                    "apply order", $"node {Id} was handed committed entry {entry.Index} after applying {Machine.Applied}");
            }

            if (entry.Index > Hard.Commit)
            {
                throw new InvariantViolationException(
                    "apply order", $"node {Id} was handed entry {entry.Index} to apply but its commit index is {Hard.Commit}");
            }

            var dataHash = Hashing.Of(entry.Data.Span);
            if (entry.Type == EntryType.ConfChange)
            {
                ApplyConfChange(entry, dataHash);
                continue;
            }

            if (entry.Type != EntryType.Normal)
            {
                throw new InvariantViolationException("apply", $"node {Id} applied an unexpected {entry.Type} entry at {entry.Index}");
            }

            Machine.Apply(entry, dataHash);
            checker.OnApplied(this, entry, dataHash);
        }

        // 4. Reads: the read point is answered after the entries it may depend on are applied above.
        foreach (var readState in ready.ReadStates)
        {
            checker.OnReadState(this, readState);
            _run.Trace.Record(new TraceEvent(_run.Now, TraceKind.ReadAnswered, Id, 0, default, 0, readState.Index, readState.RequestId));
        }
    }

    /// <summary>
    /// Applies a committed configuration change (thesis §4.3: the change takes effect on every node when applied,
    /// etcd's rule) and persists the configuration now in force, which later snapshots carry.
    /// </summary>
    private void ApplyConfChange(in Entry entry, ulong dataHash)
    {
        if (!_run.Scenario.Membership)
        {
            // Nobody proposes configuration changes in the other scenarios.
            throw new InvariantViolationException("apply", $"node {Id} applied an unexpected {entry.Type} entry at {entry.Index}");
        }

        var change = ConfChangeCodec.Decode(entry.Data.Span);
        var wasLeader = Role == StateRole.Leader;
        if (!_forgetConfChanges)
        {
            var confState = Raft!.ApplyConfChange(change);
            Stable.SetConfState(confState);
        }

        // The entry is part of the applied log like any other, so it enters the state hash.
        Machine.Apply(entry, dataHash);
        _run.Checker.OnApplied(this, entry, dataHash);
        _run.Checker.OnConfChangeApplied(this, entry, change, Raft!.Status.ConfState, wasLeader);
    }

    /// <summary>Snapshots the state machine and compacts the log so that lagging or restarted followers need InstallSnapshot.</summary>
    private void MaybeCompact()
    {
        var plan = _run.Plan;
        var snapshotIndex = Stable.Snapshot(0).Metadata.Index;
        if (Machine.Applied < snapshotIndex + (ulong)plan.CompactEvery) return;
        var confState = Raft!.Status.ConfState;
        var created = Stable.CreateSnapshot(Machine.Applied, confState, Machine.Serialize());
        if (_run.Scenario.Membership) _run.Checker.OnSnapshotCreated(this, created);
        var compactTo = Machine.Applied - Math.Min(Machine.Applied, (ulong)plan.CompactKeep);
        if (compactTo >= Stable.FirstIndex()) Stable.Compact(compactTo);
        _run.Counters.Compactions++;
        _run.Trace.Record(new TraceEvent(_run.Now, TraceKind.Compact, Id, 0, default, 0, Machine.Applied, compactTo));
    }
}

namespace RaftCache.Raft;

/// <summary>
/// A Raft node as a synchronous state machine, in the manner of etcd raft's RawNode: no threads, no clock, no I/O.
/// Time advances only through <see cref="Tick"/>; the outside world arrives through <see cref="Step"/> and the
/// proposal and read methods; everything the node wants done leaves through <see cref="GetReady"/>.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: one caller at a time. Between <see cref="GetReady"/> and <see cref="Advance"/> call nothing else
/// on the node.</para>
/// <para>Appends to followers are coalesced: proposals only extend the leader's log, and the append messages are
/// built when the next <see cref="Ready"/> is taken (or <see cref="HasReady"/> is asked), so a batch of proposals
/// leaves in as few messages as <see cref="RaftConfig.MaxSizePerMsg"/> and the inflight window allow.</para>
/// <para>Clock assumption: a tick is the driver's unit of time, and lease reads (<see cref="ReadMode.LeaseBased"/>)
/// assume that over one election timeout the tick rates of any two nodes differ by less than
/// <see cref="RaftConfig.LeaseSafetyMarginTicks"/> ticks. So a driver must tick by elapsed time, not once per timer
/// callback (a process frozen for any length of time would otherwise resume one tick later, its lease looking fresh),
/// and must run the ticks due before it asks for a lease read (thesis §6.4.1). Safe reads assume nothing about
/// clocks.</para>
/// </remarks>
public sealed class RawNode
{
    private readonly RaftConfig _config;
    private readonly Raft _raft;
    private SoftState _prevSoftState;
    private HardState _prevHardState;

    /// <summary>
    /// Creates a node that restarts from <paramref name="storage"/>'s <see cref="IStorage.InitialState"/> and
    /// <see cref="RaftConfig.Applied"/>. A node whose storage has an empty configuration waits to be added by a
    /// leader; it never campaigns until it is a voter.
    /// </summary>
    /// <remarks>
    /// The state machine must be at <see cref="RaftConfig.Applied"/>: 0 means it reflects the storage's snapshot (the
    /// node starts with applied = the snapshot index, <see cref="IStorage.FirstIndex"/> − 1); any other value must be
    /// between the snapshot index and the storage's commit index. The committed entries after it are handed out in
    /// the first Readies.
    /// </remarks>
    /// <exception cref="ArgumentException">The configuration is invalid, and the message names every bad setting; or
    /// <see cref="RaftConfig.Applied"/> is nonzero and below the storage's snapshot index (restore the state machine
    /// from the snapshot first) or above its commit index, and the message gives the valid range.</exception>
    public RawNode(RaftConfig config, IStorage storage)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(storage);
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid Raft configuration: " + string.Join(" ", errors), nameof(config));
        _config = config;
        _raft = new Raft(config, storage);
        _prevSoftState = _raft.SoftState;
        _prevHardState = storage.InitialState().HardState;
    }

    /// <summary>This node's id.</summary>
    public ulong Id => _raft.Id;

    /// <summary>Advances logical time by one tick: election timeout for followers, heartbeats and check-quorum for the leader.</summary>
    public void Tick() => _raft.Tick();

    /// <summary>Starts an election now (a pre-vote first when <see cref="RaftConfig.PreVote"/> is on).</summary>
    public void Campaign() => _raft.Hup(Raft.CampaignKind.Election);

    /// <summary>
    /// Proposes application data to be appended to the log. On the leader the result carries the entry's
    /// (term, index); a follower forwards it (<see cref="ProposeOutcome.Forwarded"/>) unless
    /// <see cref="RaftConfig.DisableProposalForwarding"/> is set (<see cref="ProposeOutcome.NotLeader"/> with the
    /// known leader); with no leader, during a leadership transfer, or past the uncommitted-size limit it is
    /// <see cref="ProposeOutcome.ProposalDropped"/>.
    /// </summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data) => _raft.Propose(EntryType.Normal, data);

    /// <summary>Proposes a membership change (thesis §4.3). Only one may be pending (appended, not applied) at a time.</summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return _raft.ProposeConfChange(change);
    }

    /// <summary>
    /// Applies a committed configuration change; the driver calls this when it applies a
    /// <see cref="EntryType.ConfChange"/> entry. Returns the configuration now in force.
    /// </summary>
    /// <exception cref="Membership.InvalidConfChangeException">The change is invalid in the configuration in force.</exception>
    public ConfState ApplyConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return _raft.ApplyConfChange(change);
    }

    /// <summary>Steps a message received from a peer. Messages of another term or unknown senders are handled as Raft says.</summary>
    /// <remarks>
    /// The message is first checked against what a correct peer can send (a local message type such as
    /// <see cref="MessageType.Hup"/>, a missing term or snapshot, entries that do not follow the append's index, and
    /// so on). A malformed message is refused with <see cref="MalformedMessageException"/> before any state changes,
    /// and the node keeps working: drop the message and log it. <see cref="RaftInvariantException"/>, by contrast,
    /// only ever reports this node's own state as corrupt.
    /// </remarks>
    /// <exception cref="MalformedMessageException">The message is malformed; the node changed nothing.</exception>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var problem = MessageValidator.Problem(message, _raft);
        if (problem is not null)
        {
            throw new MalformedMessageException(
                $"Malformed {message.Type} from {message.From} to {message.To} (term {message.Term}) refused: {problem}.", nameof(message));
        }

        _raft.Step(message);
    }

    /// <summary>
    /// Requests a linearizable read point (thesis §6.4). The answer arrives as a <see cref="ReadState"/> with
    /// <paramref name="requestId"/> in a later <see cref="Ready"/>. Returns false if the request was dropped at once
    /// (no leader known); an accepted request may still go unanswered if leadership changes, so callers time out.
    /// </summary>
    /// <remarks>
    /// The leader answers only once an entry of its term is committed (earlier requests wait). A
    /// <see cref="ReadMode.LeaseBased"/> request is answered at once while the lease holds: for
    /// ElectionTick − LeaseSafetyMarginTicks ticks from the sending of the last heartbeat round a quorum
    /// acknowledged, never during a leadership transfer, and not for an election timeout after the leader sent
    /// TimeoutNow (the transferee may still win, even if the transfer was cancelled); otherwise it is confirmed as
    /// <see cref="ReadMode.Safe"/>.
    /// </remarks>
    public bool ReadIndex(ulong requestId, ReadMode mode = ReadMode.Safe) => _raft.ReadIndex(requestId, mode);

    /// <summary>Asks the leader to hand leadership to <paramref name="transferee"/> (thesis §3.10).</summary>
    /// <remarks>
    /// While a transfer is pending the leader drops proposals, until the transferee takes over or an election timeout
    /// passes. As in etcd raft, a request for another voter replaces the pending transfer, and a request naming the
    /// leader itself cancels it: the leader stays and accepts proposals again. Learners and non-members are ignored.
    /// A follower forwards the request to the leader it knows.
    /// </remarks>
    public void TransferLeader(ulong transferee) => _raft.TransferLeader(transferee);

    /// <summary>Tells the node that the last message to <paramref name="id"/> could not be delivered.</summary>
    public void ReportUnreachable(ulong id) => _raft.Step(new Message { Type = MessageType.Unreachable, From = id });

    /// <summary>Tells the leader whether the snapshot sent to <paramref name="id"/> was delivered and applied.</summary>
    public void ReportSnapshot(ulong id, bool success) =>
        _raft.Step(new Message { Type = MessageType.SnapshotStatus, From = id, Reject = !success });

    /// <summary>Whether <see cref="GetReady"/> has anything to hand out.</summary>
    public bool HasReady
    {
        get
        {
            _raft.FlushLeaderWork();
            var log = _raft.Log;
            return _raft.SoftState != _prevSoftState ||
                   (_raft.HardState != _prevHardState && !_raft.HardState.IsEmpty) ||
                   log.Unstable.Snapshot is not null ||
                   log.Unstable.Count > 0 ||
                   _raft.Messages.Count > 0 ||
                   _raft.ReadStates.Count > 0 ||
                   log.HasNextCommittedEntries;
        }
    }

    /// <summary>Takes the work the node wants done; pass it back to <see cref="Advance"/> once done.</summary>
    public Ready GetReady()
    {
        _raft.FlushLeaderWork();
        var log = _raft.Log;
        var softState = _raft.SoftState;
        var hardState = _raft.HardState;
        var committed = log.NextCommittedEntries(_config.MaxCommittedSizePerReady);
        _raft.ReduceUncommittedSize(committed);
        var entries = log.Unstable.ToImmutable();
        var hardChanged = hardState != _prevHardState && !hardState.IsEmpty;
        var ready = new Ready
        {
            SoftState = softState != _prevSoftState ? softState : null,
            HardState = hardChanged ? hardState : null,
            ReadStates = [.. _raft.ReadStates],
            Entries = entries,
            Snapshot = log.Unstable.Snapshot,
            CommittedEntries = committed,
            Messages = [.. _raft.Messages],
            MustSync = !entries.IsEmpty || (hardChanged && (hardState.Term != _prevHardState.Term || hardState.Vote != _prevHardState.Vote)),
        };
        _raft.Messages.Clear();
        _raft.ReadStates.Clear();
        _prevSoftState = softState;
        return ready;
    }

    /// <summary>Reports that <paramref name="ready"/> was persisted, sent and applied.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        var log = _raft.Log;
        if (ready.HardState is { } hardState) _prevHardState = hardState;
        if (!ready.Entries.IsEmpty) log.StableTo(ready.Entries[^1].Id);
        if (ready.Snapshot is { } snapshot) log.StableSnapTo(snapshot.Metadata.Index);
        if (!ready.CommittedEntries.IsEmpty) log.AppliedTo(ready.CommittedEntries[^1].Index);
        _raft.OnApplied();
    }

    /// <summary>A snapshot of the node's state and, on the leader, of every member's progress.</summary>
    public Status Status => new()
    {
        Id = _raft.Id,
        HardState = _raft.HardState,
        SoftState = _raft.SoftState,
        Applied = _raft.Log.Applied,
        LastIndex = _raft.Log.LastIndex,
        ConfState = _raft.Tracker.Config.ToConfState(),
        LeadTransferee = _raft.LeadTransferee,
        Progress = _raft.State == StateRole.Leader ? _raft.Tracker.ToStatus() : System.Collections.Immutable.ImmutableSortedDictionary<ulong, ProgressStatus>.Empty,
    };
}

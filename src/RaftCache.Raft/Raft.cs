using System.Collections.Immutable;
using RaftCache.Raft.Membership;
using RaftCache.Raft.Quorum;
using RaftCache.Raft.Tracker;

namespace RaftCache.Raft;

/// <summary>
/// The Raft state machine of one node (Raft §5, thesis §3–§6, §9.6): roles, terms, votes, replication, reads,
/// leadership transfer and membership. <see cref="RawNode"/> wraps it with the Ready/Advance contract.
/// </summary>
/// <remarks>
/// Appends are coalesced: a proposal only appends to the leader's log and marks replication dirty; messages to
/// followers are built once per <see cref="Ready"/> in <see cref="FlushLeaderWork"/>, so the proposals made between
/// two Ready cycles leave in as few Append messages as the size limit and inflight window allow.
/// </remarks>
internal sealed class Raft
{
    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly ProgressTracker _tracker;
    private readonly ReadOnlyQueue _readOnly = new();
    private readonly List<ReadOnlyQueue.PendingRead> _released = [];
    private readonly List<Message> _msgs = [];

    /// <summary>A TimeoutNow arrived while committed configuration changes were unapplied: campaign once they are.</summary>
    private bool _campaignAfterApply;
    private readonly List<ReadState> _readStates = [];

    // Read requests that arrived before an entry of this leader's term was committed (thesis §6.4).
    private readonly List<Message> _pendingReadIndexMessages = [];

    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private ulong _pendingConfIndex;
    private long _uncommittedSize;

    // Logical time: ticks since start; lease arithmetic only compares differences of this counter.
    private long _ticks;
    private long _leaseSentTick = -1;

    // When this leader last sent TimeoutNow (-1: not as leader of this term). The transferee campaigns when it
    // arrives and voters grant a transfer campaign inside their lease, so none holds for an election timeout after.
    private long _timeoutNowSentTick = -1;

    private bool _appendDirty;
    private bool _commitAdvanced;
    private bool _readRoundRequested;

    public Raft(RaftConfig config, IStorage storage)
    {
        _config = config;
        Id = config.Id;
        _log = new RaftLog(storage);
        _tracker = new ProgressTracker(config.MaxInflightMsgs);
        var state = storage.InitialState();
        _tracker.SetConfig(MembershipConfig.FromConfState(state.ConfState), _log.LastIndex + 1);
        if (!state.HardState.IsEmpty) LoadState(state.HardState);
        if (config.Applied > 0)
        {
            CheckApplied(config);
            _log.AppliedTo(config.Applied);
        }

        BecomeFollower(Term, RaftConfig.None);
    }

    /// <summary>
    /// Refuses a restart point the state machine cannot be at, as etcd raft does: below the storage's snapshot the
    /// entries in between are compacted and can never be handed out, so the driver did not restore the snapshot;
    /// above the commit index the state machine holds entries that were never known committed. Raising or lowering
    /// <see cref="RaftConfig.Applied"/> silently would hide that driver bug and let the state machine diverge.
    /// </summary>
    private void CheckApplied(RaftConfig config)
    {
        var applied = config.Applied;

        // The log starts empty after the storage's snapshot: applied = first index - 1 (RaftLog's constructor).
        var snapshotIndex = _log.Applied;
        var commit = _log.Committed;
        if (applied >= snapshotIndex && applied <= commit) return;
        var range = $"{nameof(RaftConfig)}.{nameof(RaftConfig.Applied)} ({applied}) must be 0 or within [{snapshotIndex}, {commit}], " +
                    "from the index of the storage's snapshot (the index its log starts after) to its commit index. ";
        var advice = applied < snapshotIndex
            ? $"The entries up to {snapshotIndex} are compacted into the snapshot and can no longer be handed out, so the state " +
              $"machine would miss those after {applied}: restore the state machine from the storage's snapshot first, then " +
              "pass the snapshot's index, or 0."
            : "The state machine claims entries the storage does not hold as committed: persist each Ready's hard state " +
              "before applying its committed entries, or restore the state machine from the storage's snapshot and pass " +
              "the snapshot's index, or 0.";
        throw new ArgumentException(range + advice, nameof(config));
    }

    public ulong Id { get; }

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    public ulong Lead { get; private set; }

    public StateRole State { get; private set; }

    public ulong LeadTransferee { get; private set; }

    public RaftLog Log => _log;

    public ProgressTracker Tracker => _tracker;

    public List<Message> Messages => _msgs;

    public List<ReadState> ReadStates => _readStates;

    public HardState HardState => new(Term, Vote, _log.Committed);

    public SoftState SoftState => new(Lead, State);

    /// <summary>Whether this node may campaign: a voter of its configuration with no snapshot waiting.</summary>
    public bool Promotable => _tracker.IsVoter(Id) && _log.Unstable.Snapshot is null;

    private void LoadState(HardState state)
    {
        if (state.Commit < _log.Committed || state.Commit > _log.LastIndex)
            Throw.Invariant($"persisted commit {state.Commit} is out of range [{_log.Committed}, {_log.LastIndex}].");
        _log.RestoreCommit(state.Commit);
        Term = state.Term;
        Vote = state.Vote;
    }

    // ---- Role transitions (Raft §5.1, §5.2; thesis §9.6) ----

    public void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        Lead = lead;
        State = StateRole.Follower;
    }

    private void BecomeCandidate()
    {
        if (State == StateRole.Leader) Throw.Invariant("a leader cannot become candidate directly.");
        Reset(Term + 1);
        Vote = Id;
        State = StateRole.Candidate;
    }

    private void BecomePreCandidate()
    {
        if (State == StateRole.Leader) Throw.Invariant("a leader cannot become pre-candidate directly.");

        // The pre-vote phase changes neither term nor vote: a node that cannot win leaves no trace (thesis §9.6).
        _tracker.ResetVotes();
        Lead = RaftConfig.None;
        State = StateRole.PreCandidate;
    }

    private void BecomeLeader()
    {
        if (State == StateRole.Follower) Throw.Invariant("a follower cannot become leader without an election.");
        Reset(Term);
        Lead = Id;
        State = StateRole.Leader;
        _tracker[Id].BecomeReplicate();

        // Any configuration change in the uncommitted tail may be pending; refuse new ones until it is applied.
        _pendingConfIndex = _log.LastIndex;

        // Raft §5.4.2 / thesis §6.4: an entry of the new term lets earlier entries commit and reads be served.
        // It does not count against the uncommitted-size limit.
        AppendEntry(new Entry(Term, _log.LastIndex + 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty));
        _uncommittedSize = 0;
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = RaftConfig.None;
        }

        Lead = RaftConfig.None;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTick + _config.Random.Next(_config.ElectionTick);
        LeadTransferee = RaftConfig.None;
        _tracker.ResetVotes();
        _tracker.ResetProgress(_log.LastIndex + 1, Id, _log.LastIndex);
        _pendingConfIndex = 0;
        _uncommittedSize = 0;
        _readOnly.Reset();
        _pendingReadIndexMessages.Clear();
        _leaseSentTick = -1;
        _timeoutNowSentTick = -1;
        _appendDirty = false;
        _commitAdvanced = false;
        _readRoundRequested = false;
        _campaignAfterApply = false;
    }

    // ---- Time ----

    public void Tick()
    {
        _ticks++;
        if (State == StateRole.Leader) TickHeartbeat();
        else TickElection();
    }

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Hup(CampaignKind.Election);
        }
    }

    private void TickHeartbeat()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTick)
        {
            _electionElapsed = 0;

            // Thesis §6.2: a leader that cannot reach a quorum steps down so clients look elsewhere.
            if (_config.CheckQuorum && !_tracker.QuorumActive(Id))
            {
                BecomeFollower(Term, RaftConfig.None);
                return;
            }

            // Thesis §3.10: a transfer that did not finish within an election timeout is abandoned.
            if (LeadTransferee != RaftConfig.None) AbortLeaderTransfer();

            // A leader removed from the configuration hands over (see SwitchToConfig); if that did not happen in an
            // election timeout, it steps down regardless.
            if (!_tracker.IsVoter(Id))
            {
                BecomeFollower(Term, RaftConfig.None);
                return;
            }
        }

        if (_heartbeatElapsed >= _config.HeartbeatTick)
        {
            _heartbeatElapsed = 0;
            BcastHeartbeat();
        }
    }

    // ---- Elections (Raft §5.2, thesis §9.6, §3.10) ----

    internal enum CampaignKind
    {
        PreElection,
        Election,
        Transfer,
    }

    public void Hup(CampaignKind kind)
    {
        if (State == StateRole.Leader || !Promotable) return;

        // A configuration change committed but not applied may change who votes; wait for it (etcd's rule).
        if (_log.HasUnappliedConfChanges()) return;
        Campaign(kind == CampaignKind.Election && _config.PreVote ? CampaignKind.PreElection : kind);
    }

    private void Campaign(CampaignKind kind)
    {
        ulong term;
        MessageType type;
        if (kind == CampaignKind.PreElection)
        {
            BecomePreCandidate();
            type = MessageType.RequestPreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.RequestVote;
            term = Term;
        }

        var responseType = type == MessageType.RequestVote ? MessageType.RequestVoteResponse : MessageType.RequestPreVoteResponse;
        if (Poll(Id, responseType, granted: true) == VoteResult.Won)
        {
            // A single voter wins at once.
            if (kind == CampaignKind.PreElection) Campaign(CampaignKind.Election);
            else BecomeLeader();
            return;
        }

        var last = _log.LastEntryId;
        foreach (var id in _tracker.Quorum.AllVoters)
        {
            if (id == Id) continue;
            _msgs.Add(new Message
            {
                Type = type,
                To = id,
                From = Id,
                Term = term,
                Index = last.Index,
                LogTerm = last.Term,
                CampaignTransfer = kind == CampaignKind.Transfer,
            });
        }
    }

    private VoteResult Poll(ulong id, MessageType type, bool granted)
    {
        _ = type;
        _tracker.RecordVote(id, granted);
        return _tracker.TallyVotes();
    }

    // ---- Step ----

    public void Step(Message m)
    {
        if (m.Term == 0)
        {
            // Local messages and forwarded proposals and reads carry no term.
        }
        else if (m.Term > Term)
        {
            if (m.Type is MessageType.RequestVote or MessageType.RequestPreVote)
            {
                // Thesis §4.2.3: a node that heard from a live leader within the minimum election timeout ignores
                // vote requests, so a removed or partitioned node cannot disrupt the group; a transfer campaign is
                // exempt because the leader itself asked for it (thesis §3.10).
                var inLease = _config.CheckQuorum && Lead != RaftConfig.None && _electionElapsed < _config.ElectionTick;
                if (!m.CampaignTransfer && inLease) return;
            }

            if (m.Type == MessageType.RequestPreVote || (m.Type == MessageType.RequestPreVoteResponse && !m.Reject))
            {
                // A pre-vote does not change our term; a granted pre-vote response carries the future term.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, RaftConfig.None);
            }
        }
        else if (m.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.Append or MessageType.Heartbeat)
            {
                // A stale leader would otherwise never learn of the new term: with check-quorum or pre-vote, the
                // node that deposed it may never send it anything with a higher term.
                Send(new Message { Type = MessageType.AppendResponse, To = m.From });
            }
            else if (m.Type == MessageType.RequestPreVote)
            {
                Send(new Message { Type = MessageType.RequestPreVoteResponse, To = m.From, Term = Term, Reject = true });
            }

            return;
        }

        switch (m.Type)
        {
            case MessageType.Hup:
                Hup(CampaignKind.Election);
                return;
            case MessageType.RequestVote or MessageType.RequestPreVote:
                HandleVoteRequest(m);
                return;
        }

        switch (State)
        {
            case StateRole.Leader:
                StepLeader(m);
                break;
            case StateRole.Candidate or StateRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    private void HandleVoteRequest(Message m)
    {
        var preVote = m.Type == MessageType.RequestPreVote;

        // Raft §5.2: one vote per term; a pre-vote for a future term binds nothing.
        var canVote = Vote == m.From || (Vote == RaftConfig.None && Lead == RaftConfig.None) || (preVote && m.Term > Term);

        // Raft §5.4.1: only for a candidate whose log is at least as up to date as ours.
        var responseType = preVote ? MessageType.RequestPreVoteResponse : MessageType.RequestVoteResponse;
        if (canVote && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            Send(new Message { Type = responseType, To = m.From, Term = m.Term });
            if (!preVote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, To = m.From, Term = Term, Reject = true });
        }
    }

    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Beat:
                BcastHeartbeat();
                return;
            case MessageType.Propose:
                AppendForwardedProposal(m);
                return;
            case MessageType.ReadIndex:
                HandleReadIndex(m);
                return;
            case MessageType.TransferLeader:
                HandleTransferLeader(m.From);
                return;
        }

        if (!_tracker.TryGet(m.From, out var pr)) return;
        switch (m.Type)
        {
            case MessageType.AppendResponse:
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m, pr);
                break;
            case MessageType.SnapshotStatus:
                if (pr.State != ProgressState.Snapshot) return;
                if (m.Reject) pr.OnSnapshotFailed();
                pr.BecomeProbe();

                // Wait for the next heartbeat response before probing: the follower may still be applying it.
                pr.MsgAppFlowPaused = true;
                break;
            case MessageType.Unreachable:
                // Optimistic pipelining assumed delivery; go back to probing one message at a time.
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                break;
        }
    }

    private void StepCandidate(Message m)
    {
        var myResponse = State == StateRole.PreCandidate ? MessageType.RequestPreVoteResponse : MessageType.RequestVoteResponse;
        switch (m.Type)
        {
            case MessageType.Append:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.InstallSnapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case var t when t == myResponse:
                switch (Poll(m.From, m.Type, !m.Reject))
                {
                    case VoteResult.Won:
                        if (State == StateRole.PreCandidate) Campaign(CampaignKind.Election);
                        else BecomeLeader();
                        break;
                    case VoteResult.Lost:
                        // Raft §5.2: back to follower; a pre-candidate keeps its term.
                        BecomeFollower(Term, RaftConfig.None);
                        break;
                }

                break;
        }
    }

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Propose:
                // Only proposals forwarded to us by a peer that thought we lead arrive here; pass them on.
                if (Lead != RaftConfig.None && !_config.DisableProposalForwarding && m.From != Lead)
                    Send(m with { To = Lead, Term = 0 });
                break;
            case MessageType.Append:
                _electionElapsed = 0;
                Lead = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.InstallSnapshot:
                _electionElapsed = 0;
                Lead = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TransferLeader:
                if (Lead != RaftConfig.None) Send(m with { To = Lead, Term = 0 });
                break;
            case MessageType.TimeoutNow:
                // Thesis §3.10: the leader asked us to take over; campaign now, without pre-vote. A committed
                // configuration change not yet applied may decide who votes, so then campaign once it is applied;
                // the old leader may have stepped down already (it was removed), and nobody else would start soon.
                if (_log.HasUnappliedConfChanges()) _campaignAfterApply = true;
                else Hup(CampaignKind.Transfer);
                break;
            case MessageType.ReadIndex:
                if (Lead != RaftConfig.None) Send(m with { To = Lead, Term = 0 });
                break;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    // ---- Replication, follower side (Raft §5.3) ----

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            // Everything up to our commit index already matches the leader's log (Log Matching); say so.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = _log.Committed });
            return;
        }

        if (_log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries, out var lastNew))
        {
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = lastNew });
            return;
        }

        // Consistency check failed. Hint the largest index at or below the probe whose term is at most the
        // leader's term there: no index above it can match, so the leader skips whole terms at once.
        var hintIndex = Math.Min(m.Index, _log.LastIndex);
        var (index, term) = _log.FindConflictByTerm(hintIndex, m.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse,
            To = m.From,
            From = Id,
            Term = Term,
            Index = m.Index,
            Reject = true,
            RejectHint = index,
            LogTerm = term,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        // The leader sends min(commit, our match), so this never points past entries we hold from it.
        _log.CommitTo(Math.Min(m.Commit, _log.LastIndex));
        Send(new Message { Type = MessageType.HeartbeatResponse, To = m.From, From = Id, Term = Term, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        // RawNode.Step refused an InstallSnapshot without a snapshot (MessageValidator); one here is our own bug.
        var snapshot = m.Snapshot ?? Throw.Invariant<Snapshot>("InstallSnapshot without a snapshot passed validation.");
        var index = Restore(snapshot) ? _log.LastIndex : _log.Committed;
        Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = index });
    }

    /// <summary>Installs <paramref name="snapshot"/> if it is news to us (Raft §7), with its configuration.</summary>
    private bool Restore(Snapshot snapshot)
    {
        var meta = snapshot.Metadata;
        if (meta.Index <= _log.Committed) return false;
        if (State != StateRole.Follower)
        {
            // Only a leader of our term sends snapshots, so we are its follower.
            BecomeFollower(Term + 1, RaftConfig.None);
            return false;
        }

        if (_log.MatchTerm(meta.Index, meta.Term))
        {
            // We already hold the entries: just fast-forward the commit index.
            _log.CommitTo(meta.Index);
            return false;
        }

        _log.Restore(snapshot);
        var config = MembershipConfig.FromConfState(meta.ConfState);
        _tracker.SetConfig(config, _log.LastIndex + 1);
        _tracker.ResetProgress(_log.LastIndex + 1, Id, _log.LastIndex);
        return true;
    }

    // ---- Replication, leader side ----

    private void HandleAppendResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject)
        {
            var nextProbe = m.RejectHint;
            if (m.LogTerm > 0) nextProbe = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            if (pr.MaybeDecrTo(m.Index, nextProbe))
            {
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                MaybeSendAppend(m.From, sendIfEmpty: true);
            }

            return;
        }

        if (pr.MaybeUpdate(m.Index) || (pr.Match == m.Index && pr.State == ProgressState.Probe))
        {
            switch (pr.State)
            {
                case ProgressState.Probe:
                    pr.BecomeReplicate();
                    break;
                case ProgressState.Snapshot when pr.Match + 1 >= _log.FirstIndex:
                    // The snapshot (or entries) reached the follower: resume normal replication.
                    pr.BecomeProbe();
                    pr.BecomeReplicate();
                    break;
                case ProgressState.Replicate:
                    pr.Inflights.FreeLE(m.Index);
                    break;
            }

            if (MaybeCommit()) OnCommitAdvanced();
            if (m.From != Id)
            {
                while (MaybeSendAppend(m.From, sendIfEmpty: false))
                {
                }
            }

            // Thesis §3.10: the transferee has caught up; let it campaign.
            if (m.From == LeadTransferee && pr.Match == _log.LastIndex) SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        pr.MsgAppFlowPaused = false;

        // A full window with acknowledgements lost would never drain; free a slot so replication can probe on.
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full) pr.Inflights.FreeFirst();
        if (pr.Match < _log.LastIndex) MaybeSendAppend(m.From, sendIfEmpty: true);

        if (m.Context == 0 || !_tracker.IsVoter(m.From)) return;
        if (_readOnly.RecvAck(m.From, m.Context, _tracker.Quorum, _released, out var sentTick))
        {
            // Thesis §6.4.1: the lease runs from the sending of the acknowledged round, not from its receipt.
            _leaseSentTick = Math.Max(_leaseSentTick, sentTick);
            AnswerReleasedReads();
        }
    }

    private bool MaybeCommit() => _log.MaybeCommit(_tracker.Committed(), Term);

    private void OnCommitAdvanced()
    {
        _commitAdvanced = true;
        if (_pendingReadIndexMessages.Count > 0 && CommittedEntryInCurrentTerm()) ReleasePendingReadIndexMessages();
    }

    /// <summary>
    /// Sends the next append to <paramref name="to"/> if its progress allows; returns whether a message was sent.
    /// Falls back to a snapshot when the entries it needs are compacted.
    /// </summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        var pr = _tracker[to];
        if (pr.IsPaused) return false;
        var prevIndex = pr.Next - 1;
        if (!_log.TryTerm(prevIndex, out var prevTerm)) return MaybeSendSnapshot(to, pr);

        var entries = ImmutableArray<Entry>.Empty;
        var last = _log.LastIndex;
        if (last >= pr.Next)
        {
            try
            {
                entries = _log.Slice(pr.Next, last + 1, _config.MaxSizePerMsg);
            }
            catch (StorageException e) when (e.Error == StorageError.Compacted)
            {
                return MaybeSendSnapshot(to, pr);
            }
        }

        if (entries.IsEmpty && !sendIfEmpty) return false;
        long bytes = 0;
        foreach (ref readonly var e in entries.AsSpan()) bytes += e.Size;
        Send(new Message
        {
            Type = MessageType.Append,
            To = to,
            From = Id,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = _log.Committed,
        });
        pr.UpdateOnEntriesSend(entries.Length, bytes, prevIndex + (ulong)entries.Length);
        return true;
    }

    private bool MaybeSendSnapshot(ulong to, Progress pr)
    {
        // An unresponsive follower is not worth a snapshot; it is sent once it answers again.
        if (!pr.RecentActive) return false;
        Snapshot snapshot;
        try
        {
            snapshot = _log.Snapshot(pr.Next - 1);
        }
        catch (StorageException e) when (e.Error == StorageError.SnapshotTemporarilyUnavailable)
        {
            return false;
        }

        if (snapshot.IsEmpty) Throw.Invariant($"entries for {to} are compacted but storage has no snapshot.");
        pr.BecomeSnapshot(snapshot.Metadata.Index);
        Send(new Message { Type = MessageType.InstallSnapshot, To = to, Snapshot = snapshot });
        return true;
    }

    private void BcastHeartbeat()
    {
        _readRoundRequested = false;
        var round = _readOnly.StartRound(_ticks, Id);
        foreach (var id in _tracker.Ids)
        {
            if (id == Id) continue;
            var pr = _tracker[id];

            // Raft §5.3: a follower may only commit what it is known to hold from this leader.
            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                From = Id,
                Term = Term,
                Commit = Math.Min(pr.Match, _log.Committed),
                Context = round,
            });
        }

        if (_tracker.IsSingleton)
        {
            _readOnly.Release(round, _released);
            AnswerReleasedReads();
        }
    }

    /// <summary>
    /// Builds the messages that proposals, commit advances and read requests made since the last Ready call for
    /// (see the class remarks). Idempotent.
    /// </summary>
    public void FlushLeaderWork()
    {
        if (State != StateRole.Leader) return;
        if (MaybeCommit()) OnCommitAdvanced();
        if (_appendDirty || _commitAdvanced)
        {
            foreach (var id in _tracker.Ids)
            {
                if (id == Id) continue;
                var sent = false;
                while (MaybeSendAppend(id, sendIfEmpty: false)) sent = true;

                // Followers learn the new commit index from an (empty) append if nothing else carried it.
                if (!sent && _commitAdvanced) MaybeSendAppend(id, sendIfEmpty: true);
            }

            _appendDirty = false;
            _commitAdvanced = false;
        }

        if (_readRoundRequested) BcastHeartbeat();
    }

    // ---- Proposals ----

    public ProposeResult Propose(EntryType type, ReadOnlyMemory<byte> data)
    {
        if (State != StateRole.Leader)
        {
            if (Lead == RaftConfig.None) return new ProposeResult(ProposeOutcome.ProposalDropped, default, RaftConfig.None);
            if (_config.DisableProposalForwarding) return new ProposeResult(ProposeOutcome.NotLeader, default, Lead);
            Send(new Message { Type = MessageType.Propose, To = Lead, Entries = [new Entry(0, 0, type, data)] });
            return new ProposeResult(ProposeOutcome.Forwarded, default, Lead);
        }

        // Thesis §3.10: proposals would only delay the transferee catching up.
        if (LeadTransferee != RaftConfig.None) return new ProposeResult(ProposeOutcome.ProposalDropped, default, Id);
        var entry = new Entry(Term, _log.LastIndex + 1, type, data);
        if (type == EntryType.Normal && !IncreaseUncommittedSize(entry.Size))
            return new ProposeResult(ProposeOutcome.ProposalDropped, default, Id);
        AppendEntry(entry);
        if (type == EntryType.ConfChange) _pendingConfIndex = entry.Index;
        return new ProposeResult(ProposeOutcome.Accepted, entry.Id, Id);
    }

    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (State == StateRole.Leader)
        {
            if (LeadTransferee != RaftConfig.None) return new ProposeResult(ProposeOutcome.ProposalDropped, default, Id);
            var error = ConfChanger.Validate(_tracker.Config, change);
            if (error is not null) return new ProposeResult(ProposeOutcome.InvalidConfChange, default, Id, error);
            if (_pendingConfIndex > _log.Applied) return new ProposeResult(ProposeOutcome.ConfChangePending, default, Id);
        }

        return Propose(EntryType.ConfChange, ConfChangeCodec.Encode(change));
    }

    private void AppendForwardedProposal(Message m)
    {
        if (LeadTransferee != RaftConfig.None) return;
        foreach (var e in m.Entries)
        {
            if (e.Type == EntryType.ConfChange)
            {
                // The proposer could not check against our configuration; do it now and drop what is refused.
                ConfChange change;
                try
                {
                    change = ConfChangeCodec.Decode(e.Data.Span);
                }
                catch (FormatException)
                {
                    continue;
                }

                ProposeConfChange(change);
            }
            else
            {
                Propose(EntryType.Normal, e.Data);
            }
        }
    }

    private void AppendEntry(in Entry entry)
    {
        _log.AppendOne(entry);
        _tracker[Id].MaybeUpdate(entry.Index);
        _appendDirty = true;
    }

    private bool IncreaseUncommittedSize(long size)
    {
        // Always admit one entry when nothing is uncommitted, so that a large entry cannot block forever.
        if (_config.MaxUncommittedEntriesSize > 0 && _uncommittedSize > 0 && _uncommittedSize + size > _config.MaxUncommittedEntriesSize)
            return false;
        _uncommittedSize += size;
        return true;
    }

    public void ReduceUncommittedSize(ImmutableArray<Entry> committed)
    {
        if (State != StateRole.Leader || _uncommittedSize == 0) return;
        long size = 0;
        foreach (ref readonly var e in committed.AsSpan())
        {
            if (e.Type == EntryType.Normal) size += e.Size;
        }

        _uncommittedSize = Math.Max(0, _uncommittedSize - size);
    }

    // ---- Reads (thesis §6.4) ----

    /// <summary>Registers a read-index request; returns false when it is dropped at once.</summary>
    public bool ReadIndex(ulong requestId, ReadMode mode)
    {
        var m = new Message { Type = MessageType.ReadIndex, From = Id, Context = requestId, ReadMode = mode };
        if (State == StateRole.Leader)
        {
            HandleReadIndex(m);
            return true;
        }

        if (State != StateRole.Follower || Lead == RaftConfig.None) return false;
        Send(m with { To = Lead });
        return true;
    }

    private void HandleReadIndex(Message m)
    {
        if (_tracker.IsSingleton)
        {
            AnswerRead(m.From, m.Context, _log.Committed);
            return;
        }

        // Thesis §6.4: until an entry of this term commits, our commit index may lag the true one.
        if (!CommittedEntryInCurrentTerm())
        {
            _pendingReadIndexMessages.Add(m);
            return;
        }

        if (m.ReadMode == ReadMode.LeaseBased && LeaseValid())
        {
            AnswerRead(m.From, m.Context, _log.Committed);
            return;
        }

        _readOnly.AddRequest(_log.Committed, m.Context, m.From);
        _readRoundRequested = true;
    }

    private bool CommittedEntryInCurrentTerm() => _log.ZeroTermOnOutOfRange(_log.Committed) == Term;

    /// <summary>
    /// Thesis §6.4.1. Followers that received a heartbeat refuse votes for ElectionTick of their own ticks
    /// (check-quorum lease), and they received it after we sent it; so no other leader can exist until ElectionTick
    /// ticks after the sending of a round a quorum acknowledged. The assumption is that tick rates differ by less than
    /// <see cref="RaftConfig.LeaseSafetyMarginTicks"/> over an election timeout. Without check-quorum followers grant
    /// votes freely, so no lease exists. During a transfer the transferee may win at once, so the lease is void; and
    /// since voters grant a transfer campaign even inside their lease, it stays void for an election timeout after
    /// TimeoutNow was sent, even if the transfer was aborted or abandoned meanwhile (the TimeoutNow may still arrive;
    /// the thesis, §3.10, gives a transfer an election timeout to take effect).
    /// </summary>
    private bool LeaseValid() =>
        _config.CheckQuorum && LeadTransferee == RaftConfig.None && _leaseSentTick >= 0 &&
        _ticks - _leaseSentTick < _config.ElectionTick - _config.LeaseSafetyMarginTicks &&
        (_timeoutNowSentTick < 0 || _ticks - _timeoutNowSentTick >= _config.ElectionTick);

    private void ReleasePendingReadIndexMessages()
    {
        var pending = _pendingReadIndexMessages.ToArray();
        _pendingReadIndexMessages.Clear();
        foreach (var m in pending) HandleReadIndex(m);
    }

    private void AnswerReleasedReads()
    {
        foreach (var read in _released) AnswerRead(read.From, read.RequestId, read.Index);
        _released.Clear();
    }

    private void AnswerRead(ulong from, ulong requestId, ulong index)
    {
        if (from == Id || from == RaftConfig.None) _readStates.Add(new ReadState(index, requestId));
        else Send(new Message { Type = MessageType.ReadIndexResponse, To = from, Index = index, Context = requestId });
    }

    // ---- Leadership transfer (thesis §3.10) ----

    public void TransferLeader(ulong transferee)
    {
        if (State == StateRole.Leader) HandleTransferLeader(transferee);
        else if (Lead != RaftConfig.None) Send(new Message { Type = MessageType.TransferLeader, To = Lead, From = transferee });
    }

    /// <summary>
    /// A request to hand leadership to <paramref name="transferee"/>, as etcd raft handles it: learners and
    /// non-members are ignored; a request for the transfer already pending changes nothing; any other request first
    /// aborts the pending transfer, and a request naming this leader stops there, so it can be used to cancel one.
    /// </summary>
    private void HandleTransferLeader(ulong transferee)
    {
        // A leader that is no longer a voter is not a valid transferee either: its handover to a successor (see
        // SwitchToConfig) cannot be cancelled.
        if (!_tracker.IsVoter(transferee) || !_tracker.TryGet(transferee, out var pr)) return;
        if (LeadTransferee == transferee) return;
        if (LeadTransferee != RaftConfig.None) AbortLeaderTransfer();
        if (transferee == Id) return;

        // Give the transfer a full election timeout, and stop serving lease reads: the transferee may win at once.
        _electionElapsed = 0;
        LeadTransferee = transferee;
        _leaseSentTick = -1;
        if (pr.Match == _log.LastIndex) SendTimeoutNow(transferee);
        else MaybeSendAppend(transferee, sendIfEmpty: true);
    }

    /// <summary>
    /// Ends a pending transfer without a leadership change (thesis §3.10): proposals are accepted again. The lease
    /// is not resumed from rounds acknowledged before: like at the start of a transfer it waits for the next round a
    /// quorum acknowledges (and see <see cref="LeaseValid"/> for a TimeoutNow already sent).
    /// </summary>
    private void AbortLeaderTransfer()
    {
        LeadTransferee = RaftConfig.None;
        _leaseSentTick = -1;
    }

    private void SendTimeoutNow(ulong to)
    {
        Send(new Message { Type = MessageType.TimeoutNow, To = to });
        _timeoutNowSentTick = _ticks;

        // A leader that is no longer a voter has handed over to a successor holding its whole log: it is done.
        // Waiting for the successor's first message would never end, since the new configuration no longer
        // includes this node.
        if (!_tracker.IsVoter(Id)) BecomeFollower(Term, RaftConfig.None);
    }

    // ---- Membership (thesis §4.3) ----

    public ConfState ApplyConfChange(ConfChange change)
    {
        var config = ConfChanger.Apply(_tracker.Config, change);
        return SwitchToConfig(config);
    }

    private ConfState SwitchToConfig(MembershipConfig config)
    {
        var previous = _tracker.Config;
        _tracker.SetConfig(config, _log.LastIndex + 1);
        var state = config.ToConfState();
        if (State != StateRole.Leader) return state;

        if (!_tracker.IsVoter(Id))
        {
            // A leader removed or demoted by the change it just applied leaves (thesis §4.2.2), but not by simply
            // stepping down: the remaining voters may not have learned yet that the change committed, and while
            // they use the previous configuration they may need this node's vote, which it refuses to a shorter
            // log. With two voters in the previous configuration that is a deadlock. So it hands leadership to the
            // most up-to-date remaining voter with TimeoutNow (thesis §3.10), replicating until that voter has
            // everything; proposals are dropped meanwhile, and TickHeartbeat steps down if the transfer stalls.
            var successor = SuccessorAfterRemoval(previous);
            if (successor == RaftConfig.None) BecomeFollower(Term, RaftConfig.None);
            else HandleTransferLeader(successor);
            return state;
        }

        if (LeadTransferee != RaftConfig.None && !_tracker.IsVoter(LeadTransferee)) AbortLeaderTransfer();

        // A smaller quorum may commit more at once; newcomers need their first probe.
        if (MaybeCommit()) OnCommitAdvanced();
        _appendDirty = true;
        return state;
    }

    /// <summary>
    /// The voter of the new configuration to hand leadership to: one that also voted in <paramref name="previous"/>
    /// (so it may campaign even before it applies the change), the most up-to-date first, then the lowest id.
    /// </summary>
    private ulong SuccessorAfterRemoval(MembershipConfig previous)
    {
        ulong best = RaftConfig.None;
        ulong bestMatch = 0;
        var bestWasVoter = false;
        foreach (var id in _tracker.Ids)
        {
            if (id == Id || !_tracker.IsVoter(id) || !_tracker.TryGet(id, out var pr)) continue;
            var wasVoter = previous.IsVoter(id);
            if (best == RaftConfig.None || (wasVoter && !bestWasVoter) || (wasVoter == bestWasVoter && pr.Match > bestMatch))
            {
                best = id;
                bestMatch = pr.Match;
                bestWasVoter = wasVoter;
            }
        }

        return best;
    }

    /// <summary>After entries were applied: a leader leaves an auto-leave joint configuration once it is applied.</summary>
    public void OnApplied()
    {
        if (_campaignAfterApply && !_log.HasUnappliedConfChanges())
        {
            _campaignAfterApply = false;
            if (State != StateRole.Leader) Hup(CampaignKind.Transfer);
        }

        if (State != StateRole.Leader || !_tracker.Config.IsJoint || !_tracker.Config.AutoLeave) return;
        if (_pendingConfIndex > _log.Applied) return;
        var entry = new Entry(Term, _log.LastIndex + 1, EntryType.ConfChange, ConfChangeCodec.Encode(new ConfChange()));
        AppendEntry(entry);
        _pendingConfIndex = entry.Index;
    }

    // ---- Output ----

    private void Send(Message m)
    {
        // The replication messages (Append, Heartbeat and their responses) are built with their term and sender
        // already set, so they are not copied here: a message record is about 100 B, twice per message otherwise
        // (about 800 B per commit round trip of a three-node group, most of the cost of unbatched commits).
        var term = m.Type switch
        {
            MessageType.Propose or MessageType.ReadIndex or MessageType.TransferLeader => 0UL,
            MessageType.RequestVote or MessageType.RequestPreVote or
                MessageType.RequestVoteResponse or MessageType.RequestPreVoteResponse => m.Term,
            _ => Term,
        };
        if (m.Type is MessageType.RequestVote or MessageType.RequestPreVote or
            MessageType.RequestVoteResponse or MessageType.RequestPreVoteResponse && term == 0)
            Throw.Invariant($"{m.Type} needs a term.");
        // Forwarded proposals, reads and transfer requests keep their originator, whom the leader answers.
        var from = m.From != RaftConfig.None ? m.From : Id;
        _msgs.Add(m.Term == term && m.From == from ? m : m with { Term = term, From = from });
    }
}

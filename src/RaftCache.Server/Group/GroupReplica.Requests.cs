using System.Diagnostics;
using RaftCache.Raft;
using RaftCache.StateMachine;

namespace RaftCache.Server.Group;

/// <summary>Client requests: writes and session registration on the leader, reads at every consistency level.</summary>
internal sealed partial class GroupReplica
{
    /// <summary>
    /// Runs a batch of independent operations: every write is proposed before the batch's Ready is handled, so they
    /// share appends, replication messages and the apply pass (group commit); the reads of one consistency share one
    /// read-index round (thesis §6.4). Each operation gets its own reply, in order, as if it had come alone.
    /// </summary>
    /// <remarks>
    /// Writes and lease reads need the leader. Linearizable reads are also served by a follower: it asks the leader for
    /// the read index, waits until it has applied that index, and reads its own state (thesis §6.4), so read load
    /// spreads over the replicas.
    /// </remarks>
    public Task<CacheReply[]> Execute(CacheRequest[] requests, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var replies = new CacheReply[requests.Length];
        WriteBatch? writes = null;
        ReadRound? safeReads = null, leaseReads = null;
        for (var i = 0; i < requests.Length; i++)
        {
            var request = requests[i];
            if (request is null)
            {
                replies[i] = InvalidReply("The request is missing.");
                continue;
            }

            if (Unavailable() is { } unavailable)
            {
                replies[i] = unavailable;
                continue;
            }

            if (request.Operation == CacheOperation.Get)
            {
                if (CheckKey(request.Key) is { } invalid)
                {
                    replies[i] = invalid;
                    continue;
                }

                switch (request.Consistency)
                {
                    case ReadConsistency.Local:
                        replies[i] = ReadLocal(request.Key!);
                        break;
                    case ReadConsistency.Lease:
                        // Catch up with the clock before the lease is consulted, once per batch (design §2, "Leases and
                        // pauses"): after a freeze the timer's callback comes late, and this read may run before it.
                        // The core then finds the lease expired and confirms the read with a heartbeat round, or, if
                        // the catch-up made it step down, refuses it.
                        if (leaseReads is null && CatchUpTicks()) _host.ScheduleFlush();
                        if (!IsLeader) replies[i] = NotLeader();
                        else if (JoinReadRound(ref leaseReads, ReadMode.LeaseBased, i) is { } leaseRefused) replies[i] = leaseRefused;
                        break;
                    case ReadConsistency.Linearizable:
                        if (JoinReadRound(ref safeReads, ReadMode.Safe, i) is { } refused) replies[i] = refused;
                        break;
                    default:
                        replies[i] = InvalidReply($"Unknown read consistency {request.Consistency}.");
                        break;
                }

                continue;
            }

            if (!IsLeader)
            {
                replies[i] = NotLeader();
                continue;
            }

            if (TryBuildCommand(request, out var command) is { } refusal)
            {
                replies[i] = refusal;
                continue;
            }

            if (Propose(CommandCodec.Encode(command), writes ??= new WriteBatch(replies), i) is { } notProposed) replies[i] = notProposed;
            else if (CacheTracing.Source.HasListeners()) writes.Trace(i, request);
        }

        if (writes is not { Pending: > 0 } && safeReads is null && leaseReads is null) return Task.FromResult(replies);
        _host.ScheduleFlush();
        return CompleteAsync(requests, replies, writes, safeReads, leaseReads, timeout);
    }

    private async Task<CacheReply[]> CompleteAsync(
        CacheRequest[] requests, CacheReply[] replies, WriteBatch? writes, ReadRound? safeReads, ReadRound? leaseReads, TimeSpan timeout)
    {
        var time = _host.Time;
        var started = time.GetTimestamp();
        if (writes is not null) await WaitForWritesAsync(writes, timeout);

        foreach (var round in new[] { safeReads, leaseReads })
        {
            if (round is null) continue;
            // A follower's read-index request travels to the leader and may be lost: give up on it after an election
            // timeout, so the façade can try elsewhere well within its deadline.
            var wait = timeout - time.GetElapsedTime(started);
            if (!IsLeader) wait = TimeSpan.FromTicks(Math.Min(wait.Ticks, (_options.TickInterval * _options.ElectionTicks * 2).Ticks));
            var readIndex = await WaitForReadIndexAsync(round, wait);
            foreach (var index in round.Requests)
            {
                replies[index] = readIndex switch
                {
                    > 0 => ReadFrom(_cache, requests[index].Key!, (ulong)readIndex),
                    0 when _fault is not null => CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + _fault),
                    0 => NotLeader(),
                    _ => CacheReply.Fail(CacheStatusCode.Unavailable, $"The read index was not confirmed by the leader and a quorum within {wait.TotalMilliseconds:0} ms."),
                };
                if (readIndex > 0) _host.Instruments.OnRead(requests[index].Consistency, byFollower: !IsLeader);
            }
        }

        return replies;
    }

    /// <summary>Adds read <paramref name="index"/> to the batch's read round of <paramref name="mode"/>, starting the round first; the refusal if it cannot start.</summary>
    private CacheReply? JoinReadRound(ref ReadRound? round, ReadMode mode, int index)
    {
        if (round is null)
        {
            if (_pendingReads.Count + _readsAwaitingApply.Count >= _options.MaxPendingReads)
                return CacheReply.Fail(CacheStatusCode.Overloaded, $"{_options.MaxPendingReads} read rounds are already waiting on this replica.");
            var requestId = ++_nextReadId;
            var completion = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pendingReads[requestId] = completion;
            // On a follower the core forwards the request to the leader it knows; with none known it refuses.
            if (!_node.ReadIndex(requestId, mode))
            {
                _pendingReads.Remove(requestId);
                return NotLeader();
            }

            round = new ReadRound(requestId, completion);
        }

        round.Requests.Add(index);
        return null;
    }

    /// <summary>The confirmed read index once applied here; 0 if abandoned (leadership changed), -1 on timeout.</summary>
    private async Task<long> WaitForReadIndexAsync(ReadRound round, TimeSpan timeout)
    {
        try
        {
            return (long)await round.Completion.Task.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, _host.Time);
        }
        catch (TimeoutException)
        {
            _pendingReads.Remove(round.RequestId);
            return -1;
        }
    }

    /// <summary>Builds the log command of a write request; the refusal if the request is invalid, else null.</summary>
    private CacheReply? TryBuildCommand(CacheRequest request, out CacheCommand command)
    {
        var now = Now;
        command = default;
        switch (request.Operation)
        {
            case CacheOperation.Put:
                if (request.Key is null) return InvalidReply("The key is required.");
                if (request.Value is null) return InvalidReply("The value is required; use an empty array for an empty value.");
                if (request.ExpectedVersion < 0) return InvalidReply("The expected version must be 0 (absent) or a version a read returned.");
                if (request.SlidingExpiration is { } sliding && sliding <= TimeSpan.Zero) return InvalidReply("The sliding expiration must be positive.");
                command = CacheCommand.Put(request.Key, request.Value, request.Ttl, now, request.SlidingExpiration, request.AbsoluteExpirationUnixMs, request.ExpectedVersion);
                break;
            case CacheOperation.Increment:
                if (request.Key is null) return InvalidReply("The key is required.");
                command = CacheCommand.Increment(request.Key, request.Delta, request.Ttl, now);
                break;
            case CacheOperation.Refresh:
                if (request.Key is null) return InvalidReply("The key is required.");
                command = CacheCommand.Refresh(request.Key, now);
                break;
            case CacheOperation.Delete:
                if (request.Key is null) return InvalidReply("The key is required.");
                command = CacheCommand.Delete(request.Key, now);
                break;
            case CacheOperation.Clear:
                command = CacheCommand.Clear(now);
                break;
            case CacheOperation.RegisterSession:
                command = CacheCommand.RegisterSession(now);
                return null;
            default:
                return InvalidReply($"Unknown operation {request.Operation}.");
        }

        if (request.SessionId != 0)
        {
            if (request.Sequence <= 0 || request.LowestUnansweredSequence <= 0 || request.LowestUnansweredSequence > request.Sequence)
                return InvalidReply("A session command needs a positive sequence and a lowest unanswered sequence in [1, sequence].");
            command = command.WithSession(request.SessionId, request.Sequence, request.LowestUnansweredSequence);
        }

        var error = CommandValidator.Check(command, _options.Cache);
        if (error == CommandValidationError.TooManyInFlight)
        {
            // Not bad input: the client's session has more unanswered commands than the replicas keep results for.
            return CacheReply.Fail(CacheStatusCode.Overloaded,
                $"The client session has more than {_options.Cache.MaxInFlightPerSession} commands awaiting an answer; nothing was proposed.");
        }

        return error == CommandValidationError.None ? null : InvalidReply(DescribeValidationError(error));
    }

    /// <summary>The reads of one batch and one consistency, answered by one read-index request.</summary>
    private sealed class ReadRound(ulong requestId, TaskCompletionSource<ulong> completion)
    {
        public ulong RequestId { get; } = requestId;

        public TaskCompletionSource<ulong> Completion { get; } = completion;

        public List<int> Requests { get; } = [];
    }

    /// <summary>
    /// A <see cref="ReadConsistency.Local"/> read of this replica's state. Thread-safe: the cache state machine's
    /// reads are lock-free, so the façade on this silo calls this directly from its own thread.
    /// </summary>
    public CacheReply ReadLocal(byte[] key)
    {
        if (CheckKey(key) is { } invalid) return invalid;
        if (Volatile.Read(ref _fault) is { } fault) return CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + fault);
        _host.Instruments.OnRead(ReadConsistency.Local);
        var cache = Volatile.Read(ref _cache);
        return ReadFrom(cache, key, (ulong)cache.AppliedIndex);
    }

    public Task<CacheReply> RequestRemoval(ulong memberId, TimeSpan timeout)
    {
        if (Unavailable() is { } unavailable) return Task.FromResult(unavailable);
        if (!IsLeader) return Task.FromResult(NotLeader());
        var change = new ConfChange { Changes = [new ConfChangeSingle(ConfChangeType.RemoveNode, memberId)] };
        return ProposeConfChangeAndWaitAsync(change, timeout);
    }

    /// <summary>
    /// Proposes a command whose reply goes to slot <paramref name="slot"/> of <paramref name="batch"/> once its entry is
    /// applied; the refusal if it was not proposed.
    /// </summary>
    private CacheReply? Propose(byte[] data, WriteBatch batch, int slot)
    {
        if (_pendingWrites.Count >= _options.MaxPendingProposals)
            return CacheReply.Fail(CacheStatusCode.Overloaded, $"{_options.MaxPendingProposals} writes are already waiting on this replica.");
        return Track(_node.Propose(data), batch, slot);
    }

    private async Task<CacheReply> ProposeConfChangeAndWaitAsync(ConfChange change, TimeSpan timeout)
    {
        var replies = new CacheReply[1];
        var batch = new WriteBatch(replies);
        if (Track(_node.ProposeConfChange(change), batch, 0) is { } refused) return refused;
        await WaitForWritesAsync(batch, timeout);
        return replies[0];
    }

    private CacheReply? Track(ProposeResult result, WriteBatch batch, int slot)
    {
        switch (result.Outcome)
        {
            case ProposeOutcome.Accepted:
                break;
            case ProposeOutcome.ProposalDropped:
                _host.Instruments.OnProposalDropped("dropped");
                return CacheReply.Fail(CacheStatusCode.NotApplied, "The leader dropped the proposal (leadership transfer or uncommitted-size limit); it was not applied.");
            case ProposeOutcome.ConfChangePending:
                return CacheReply.Fail(CacheStatusCode.NotApplied, "Another membership change is still pending.");
            case ProposeOutcome.InvalidConfChange:
                return CacheReply.Fail(CacheStatusCode.InvalidArgument, result.Error ?? "Invalid membership change.");
            default:
                return NotLeader();
        }

        _host.Instruments.OnProposed();
        _lastProposalTimestamp = _host.Time.GetTimestamp();
        _pendingWrites[result.Id.Index] = new PendingWrite(result.Id.Term, batch, slot, _lastProposalTimestamp);
        batch.Add(result.Id.Index, slot);
        _host.ScheduleFlush();
        return null;
    }

    /// <summary>
    /// Waits until every write of <paramref name="batch"/> is applied, or the deadline passes. A write proposed but not
    /// applied by then is in the leader's log and may still commit: its outcome is unknown, never "not applied".
    /// </summary>
    private async Task WaitForWritesAsync(WriteBatch batch, TimeSpan timeout)
    {
        if (batch.Pending == 0) return;
        try
        {
            await batch.Done.Task.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, _host.Time);
        }
        catch (TimeoutException)
        {
            foreach (var (index, slot) in batch.Proposed)
            {
                if (batch.Replies[slot] is not null) continue;
                if (_pendingWrites.TryGetValue(index, out var pending) && pending.Batch == batch) _pendingWrites.Remove(index);
                batch.Complete(slot, CacheReply.Fail(CacheStatusCode.OutcomeUnknown,
                    $"The command was proposed at index {index} but not applied within {timeout.TotalMilliseconds:0} ms; it may or may not take effect."));
            }
        }
    }

    /// <summary>
    /// The writes of one request batch: each one's reply fills its slot when its entry is applied, and the batch waits
    /// for all of them at once (one completion per batch, not per write).
    /// </summary>
    private sealed class WriteBatch(CacheReply[] replies)
    {
        public CacheReply?[] Replies { get; } = replies;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The log index and reply slot of each proposed write.</summary>
        public List<(ulong Index, int Slot)> Proposed { get; } = [];

        /// <summary>Writes proposed and not yet answered.</summary>
        public int Pending { get; private set; }

        /// <summary>The span of each traced write from its proposal to its reply, by slot; null while none is traced.</summary>
        public Activity?[]? Spans { get; private set; }

        public void Add(ulong index, int slot)
        {
            Proposed.Add((index, slot));
            Pending++;
        }

        /// <summary>Starts the span of the write just proposed for <paramref name="slot"/>.</summary>
        public void Trace(int slot, CacheRequest request)
        {
            if (ServerTracing.StartPropose(request, Proposed[^1].Index) is { } span) (Spans ??= new Activity?[Replies.Length])[slot] = span;
        }

        public void Complete(int slot, CacheReply reply)
        {
            if (Replies[slot] is not null) return;
            Replies[slot] = reply;
            ServerTracing.Stop(Spans?[slot], reply);
            if (--Pending == 0) Done.TrySetResult();
        }
    }

    private void MaybeProposeTimeEntry()
    {
        if (_host.Time.GetElapsedTime(_lastProposalTimestamp) < _options.TimeEntryInterval) return;
        // A time-only entry moves log time forward so that expired entries and sessions are removed without writes
        // (design §3, docs/design.md); while nothing is due to expire it would change nothing, so an idle group
        // appends nothing.
        var now = Now;
        if (_cache.NextExpiryUnixMs > now) return;
        _lastProposalTimestamp = _host.Time.GetTimestamp();
        _node.Propose(CommandCodec.Encode(CacheCommand.Tick(now)));
    }

    private void OnReadState(ReadState readState)
    {
        if (!_pendingReads.Remove(readState.RequestId, out var completion)) return;
        // Thesis §6.4: the read may only be served once this replica has applied the read index. (The canary skips
        // the wait on purpose, to show that the tests would catch it.)
        if (_options.CanaryServeReadsBeforeApplying) completion.TrySetResult(Math.Max(readState.Index, 1));
        else _readsAwaitingApply.Enqueue(completion, readState.Index);
    }

    private void CompleteReadsUpTo(ulong applied)
    {
        while (_readsAwaitingApply.TryPeek(out var completion, out var index) && index <= applied)
        {
            _readsAwaitingApply.Dequeue();
            // The read index itself is the answer; never 0 here because the leader's no-op entry is at index ≥ 1.
            completion.TrySetResult(Math.Max(index, 1));
        }
    }

    private CacheReply ReadFrom(CacheStateMachine cache, byte[] key, ulong index)
    {
        var now = Now;
        return cache.TryGetEntry(key, now, out var entry)
            ? new CacheReply
            {
                Value = entry.Value.ToArray(),
                Index = index,
                Version = entry.Version,
                TimeToLive = entry.DeadlineUnixMs is { } deadline ? TimeSpan.FromMilliseconds(deadline - now) : null,
                SlidingExpiration = entry.SlidingMilliseconds is { } sliding ? TimeSpan.FromMilliseconds(sliding) : null,
            }
            : new CacheReply { Value = null, Index = index };
    }

    private CacheReply? CheckKey(byte[]? key)
    {
        if (key is null) return CacheReply.Fail(CacheStatusCode.InvalidArgument, "The key is required.");
        if (key.Length == 0) return CacheReply.Fail(CacheStatusCode.InvalidArgument, "The key must not be empty.");
        if (key.Length > _options.Cache.MaxKeyBytes)
            return CacheReply.Fail(CacheStatusCode.InvalidArgument, $"The key has {key.Length} bytes; the limit is {_options.Cache.MaxKeyBytes}.");
        return null;
    }

    private CacheReply? Unavailable() =>
        _fault is not null ? CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + _fault)
        : Fenced ? CacheReply.Fail(CacheStatusCode.Unavailable, "The group is being re-formed after losing its quorum.")
        : null;

    private long Now => _host.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private CacheReply NotLeader()
    {
        var leader = _softState.Leader;
        var hint = leader != RaftConfig.None && leader != _host.MemberId && _host.TryRoute(leader, out var silo) ? silo.ToParsableString() : null;
        return new CacheReply { Status = CacheStatusCode.NotLeader, LeaderHint = hint, Message = hint is null ? "No leader is known." : "This replica is not the leader." };
    }

    private static CacheReply InvalidReply(string message) => CacheReply.Fail(CacheStatusCode.InvalidArgument, message);

    private string DescribeValidationError(CommandValidationError error) => error switch
    {
        CommandValidationError.KeyEmpty => "The key must not be empty.",
        CommandValidationError.KeyTooLarge => $"The key is larger than the limit of {_options.Cache.MaxKeyBytes} bytes.",
        CommandValidationError.ValueTooLarge => $"The value is larger than the limit of {_options.Cache.MaxValueBytes} bytes.",
        CommandValidationError.TtlNotPositive => "The time to live and sliding expiration must be positive.",
        CommandValidationError.TtlTooLarge => $"The time to live or sliding expiration is longer than the limit of {_options.Cache.MaxTtl}.",
        CommandValidationError.TimestampOutOfRange => "The absolute expiration is out of range.",
        _ => $"The command is invalid: {error}.",
    };
}

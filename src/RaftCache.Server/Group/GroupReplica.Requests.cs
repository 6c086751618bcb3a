using RaftCache.Raft;
using RaftCache.StateMachine;

namespace RaftCache.Server.Group;

/// <summary>Client requests: writes and session registration on the leader, reads at every consistency level.</summary>
internal sealed partial class GroupReplica
{
    public Task<CacheReply> Write(CacheWrite write, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (Unavailable() is { } unavailable) return Task.FromResult(unavailable);
        if (!IsLeader) return Task.FromResult(NotLeader());

        CacheCommand command;
        var now = Now;
        switch (write.Kind)
        {
            case CacheWriteKind.Put:
                if (write.Key is null) return Invalid("The key is required.");
                if (write.Value is null) return Invalid("The value is required; use an empty array for an empty value.");
                command = CacheCommand.Put(write.Key, write.Value, write.Ttl, now);
                break;
            case CacheWriteKind.Delete:
                if (write.Key is null) return Invalid("The key is required.");
                command = CacheCommand.Delete(write.Key, now);
                break;
            case CacheWriteKind.Clear:
                command = CacheCommand.Clear(now);
                break;
            default:
                return Invalid($"Unknown write kind {write.Kind}.");
        }

        if (write.SessionId != 0)
        {
            if (write.Sequence <= 0 || write.LowestUnansweredSequence <= 0 || write.LowestUnansweredSequence > write.Sequence)
                return Invalid("A session command needs a positive sequence and a lowest unanswered sequence in [1, sequence].");
            command = command.WithSession(write.SessionId, write.Sequence, write.LowestUnansweredSequence);
        }

        var error = CommandValidator.Check(command, _options.Cache);
        if (error == CommandValidationError.TooManyInFlight)
        {
            // Not bad input: the client's session has more unanswered commands than the replicas keep results for.
            return Task.FromResult(CacheReply.Fail(CacheStatusCode.Overloaded,
                $"The client session has more than {_options.Cache.MaxInFlightPerSession} commands awaiting an answer; nothing was proposed."));
        }

        if (error != CommandValidationError.None) return Invalid(DescribeValidationError(error));
        return ProposeAndWaitAsync(CommandCodec.Encode(command), timeout);
    }

    public Task<CacheReply> RegisterSession(TimeSpan timeout)
    {
        if (Unavailable() is { } unavailable) return Task.FromResult(unavailable);
        if (!IsLeader) return Task.FromResult(NotLeader());
        return ProposeAndWaitAsync(CommandCodec.Encode(CacheCommand.RegisterSession(Now)), timeout);
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

    public async Task<CacheReply> Read(byte[] key, ReadConsistency consistency, TimeSpan timeout)
    {
        if (consistency == ReadConsistency.Local) return ReadLocal(key);
        if (CheckKey(key) is { } invalid) return invalid;
        if (_fault is not null) return CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + _fault);
        if (!IsLeader) return NotLeader();
        if (_pendingReads.Count + _readsAwaitingApply.Count >= _options.MaxPendingReads)
            return CacheReply.Fail(CacheStatusCode.Overloaded, $"{_options.MaxPendingReads} reads are already waiting on this replica.");

        var requestId = ++_nextReadId;
        var completion = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingReads[requestId] = completion;
        var mode = consistency == ReadConsistency.Lease ? ReadMode.LeaseBased : ReadMode.Safe;
        if (!_node.ReadIndex(requestId, mode))
        {
            _pendingReads.Remove(requestId);
            return NotLeader();
        }

        _host.ScheduleFlush();
        ulong readIndex;
        try
        {
            readIndex = await completion.Task.WaitAsync(timeout, _host.Time);
        }
        catch (TimeoutException)
        {
            _pendingReads.Remove(requestId);
            return CacheReply.Fail(CacheStatusCode.Unavailable, $"Leadership could not be confirmed by a quorum within {timeout.TotalMilliseconds:0} ms.");
        }

        // 0 means the read was abandoned: leadership was lost or the replica stopped.
        if (readIndex == 0) return _fault is null ? NotLeader() : CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + _fault);
        _host.Instruments.OnRead(consistency);
        return ReadFrom(_cache, key, readIndex);
    }

    public Task<CacheReply> RequestRemoval(ulong memberId, TimeSpan timeout)
    {
        if (Unavailable() is { } unavailable) return Task.FromResult(unavailable);
        if (!IsLeader) return Task.FromResult(NotLeader());
        var change = new ConfChange { Changes = [new ConfChangeSingle(ConfChangeType.RemoveNode, memberId)] };
        return ProposeConfChangeAndWaitAsync(change, timeout);
    }

    private async Task<CacheReply> ProposeAndWaitAsync(byte[] data, TimeSpan timeout)
    {
        if (_pendingWrites.Count >= _options.MaxPendingProposals)
            return CacheReply.Fail(CacheStatusCode.Overloaded, $"{_options.MaxPendingProposals} writes are already waiting on this replica.");
        var result = _node.Propose(data);
        return await WaitForOutcomeAsync(result, timeout);
    }

    private async Task<CacheReply> ProposeConfChangeAndWaitAsync(ConfChange change, TimeSpan timeout)
    {
        var result = _node.ProposeConfChange(change);
        return await WaitForOutcomeAsync(result, timeout);
    }

    private async Task<CacheReply> WaitForOutcomeAsync(ProposeResult result, TimeSpan timeout)
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
        var completion = new TaskCompletionSource<CacheReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingWrites[result.Id.Index] = new PendingWrite(result.Id.Term, completion, _lastProposalTimestamp);
        _host.ScheduleFlush();
        try
        {
            return await completion.Task.WaitAsync(timeout, _host.Time);
        }
        catch (TimeoutException)
        {
            // The entry is in the leader's log and may still commit: its outcome is unknown, never "not applied".
            if (_pendingWrites.TryGetValue(result.Id.Index, out var pending) && pending.Completion == completion) _pendingWrites.Remove(result.Id.Index);
            return CacheReply.Fail(CacheStatusCode.OutcomeUnknown, $"The command was proposed at index {result.Id.Index} but not applied within {timeout.TotalMilliseconds:0} ms; it may or may not take effect.");
        }
    }

    private void MaybeProposeTimeEntry()
    {
        if (_host.Time.GetElapsedTime(_lastProposalTimestamp) < _options.TimeEntryInterval) return;
        _lastProposalTimestamp = _host.Time.GetTimestamp();
        // A time-only entry moves log time forward so that expired entries are removed without writes (design §3, docs/design.md).
        _node.Propose(CommandCodec.Encode(CacheCommand.Tick(Now)));
    }

    private void OnReadState(ReadState readState)
    {
        if (!_pendingReads.Remove(readState.RequestId, out var completion)) return;
        _readsAwaitingApply.Enqueue(completion, readState.Index);
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

    private CacheReply ReadFrom(CacheStateMachine cache, byte[] key, ulong index) =>
        cache.TryGet(key, Now, out var value)
            ? new CacheReply { Value = value.ToArray(), Index = index }
            : new CacheReply { Value = null, Index = index };

    private CacheReply? CheckKey(byte[]? key)
    {
        if (key is null) return CacheReply.Fail(CacheStatusCode.InvalidArgument, "The key is required.");
        if (key.Length == 0) return CacheReply.Fail(CacheStatusCode.InvalidArgument, "The key must not be empty.");
        if (key.Length > _options.Cache.MaxKeyBytes)
            return CacheReply.Fail(CacheStatusCode.InvalidArgument, $"The key has {key.Length} bytes; the limit is {_options.Cache.MaxKeyBytes}.");
        return null;
    }

    private CacheReply? Unavailable() =>
        _fault is null ? null : CacheReply.Fail(CacheStatusCode.Unavailable, "The replica stopped: " + _fault);

    private long Now => _host.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private CacheReply NotLeader()
    {
        var leader = _softState.Leader;
        var hint = leader != RaftConfig.None && leader != _host.MemberId && _host.TryRoute(leader, out var silo) ? silo.ToParsableString() : null;
        return new CacheReply { Status = CacheStatusCode.NotLeader, LeaderHint = hint, Message = hint is null ? "No leader is known." : "This replica is not the leader." };
    }

    private static Task<CacheReply> Invalid(string message) => Task.FromResult(CacheReply.Fail(CacheStatusCode.InvalidArgument, message));

    private string DescribeValidationError(CommandValidationError error) => error switch
    {
        CommandValidationError.KeyEmpty => "The key must not be empty.",
        CommandValidationError.KeyTooLarge => $"The key is larger than the limit of {_options.Cache.MaxKeyBytes} bytes.",
        CommandValidationError.ValueTooLarge => $"The value is larger than the limit of {_options.Cache.MaxValueBytes} bytes.",
        CommandValidationError.TtlNotPositive => "The time to live must be positive.",
        CommandValidationError.TtlTooLarge => $"The time to live is longer than the limit of {_options.Cache.MaxTtl}.",
        _ => $"The command is invalid: {error}.",
    };
}

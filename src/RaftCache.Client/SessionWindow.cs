namespace RaftCache.Client;

/// <summary>
/// Hands out one client session's sequence numbers so that no write is ever sent more than
/// <see cref="Size"/> numbers ahead of the lowest one still awaiting its answer: the replicas keep results only
/// within that window (Raft thesis §6.3) and refuse a write beyond it. Writes that would overstep it wait here, in
/// arrival order, instead of being refused by the cluster.
/// </summary>
/// <remarks>
/// The window is a distance, not a count: one slow write holds back every later number, so a client with a stuck
/// write waits (within its deadline) even when few writes are in flight. Thread-safe.
/// </remarks>
internal sealed class SessionWindow
{
    private readonly Lock _lock = new();
    private readonly SortedSet<long> _inFlight = [];
    private readonly LinkedList<TaskCompletionSource<long>> _waiting = new();
    private readonly int _maxWaiting;
    private long _last;
    private bool _closed;

    public SessionWindow(long sessionId, int size, int maxWaiting)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWaiting);
        SessionId = sessionId;
        Size = size;
        _maxWaiting = maxWaiting;
    }

    /// <summary>The session these sequence numbers belong to.</summary>
    public long SessionId { get; }

    /// <summary>The largest allowed distance between a sequence number and the lowest unanswered one.</summary>
    public int Size { get; }

    /// <summary>Writes waiting for the window to move.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock) return _waiting.Count;
        }
    }

    /// <summary>
    /// The next sequence number, once the window allows it. Completes with 0 if the session was replaced
    /// (<see cref="Close"/>) while waiting: the caller then enters the new session's window.
    /// </summary>
    /// <exception cref="CacheOverloadedException">More than the allowed number of writes wait already; nothing was sent.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting; nothing was sent.</exception>
    public ValueTask<long> EnterAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<long> waiter;
        LinkedListNode<TaskCompletionSource<long>> node;
        lock (_lock)
        {
            if (_closed) return ValueTask.FromResult(0L);
            if (_waiting.Count == 0 && Admissible()) return ValueTask.FromResult(Admit());
            if (_waiting.Count >= _maxWaiting)
            {
                throw new CacheOverloadedException(
                    $"{_waiting.Count} writes of this client already wait for its session window ({Size} sequence numbers); nothing was sent.");
            }

            waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiting.AddLast(waiter);
        }

        return new ValueTask<long>(WaitAsync(waiter, node, cancellationToken));
    }

    /// <summary>
    /// The lowest sequence number still awaiting its answer, at most <paramref name="sequence"/>: what a write
    /// carries so that the replicas may forget older results.
    /// </summary>
    public long LowestUnanswered(long sequence)
    {
        lock (_lock) return _inFlight.Count == 0 ? sequence : Math.Min(sequence, _inFlight.Min);
    }

    /// <summary>The write with <paramref name="sequence"/> was answered or abandoned: it no longer holds the window back.</summary>
    public void Leave(long sequence)
    {
        List<(TaskCompletionSource<long> Waiter, long Sequence)>? admitted = null;
        lock (_lock)
        {
            if (!_inFlight.Remove(sequence)) return;
            while (_waiting.First is { } first && Admissible())
            {
                _waiting.RemoveFirst();
                (admitted ??= []).Add((first.Value, Admit()));
            }
        }

        // Completed outside the lock; continuations run asynchronously anyway.
        if (admitted is null) return;
        foreach (var (waiter, number) in admitted)
        {
            // A waiter cancelled at this very moment cannot take its number: hand it back.
            if (!waiter.TrySetResult(number)) Leave(number);
        }
    }

    /// <summary>The session was replaced: every waiting write is told to enter the new session's window.</summary>
    public void Close()
    {
        List<TaskCompletionSource<long>> waiters;
        lock (_lock)
        {
            _closed = true;
            waiters = [.. _waiting];
            _waiting.Clear();
        }

        foreach (var waiter in waiters) waiter.TrySetResult(0);
    }

    private bool Admissible() => _inFlight.Count == 0 || _last + 1 - _inFlight.Min < Size;

    private long Admit()
    {
        var sequence = ++_last;
        _inFlight.Add(sequence);
        return sequence;
    }

    private async Task<long> WaitAsync(TaskCompletionSource<long> waiter, LinkedListNode<TaskCompletionSource<long>> node, CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is not null) _waiting.Remove(node);
            }

            waiter.TrySetCanceled(cancellationToken);
        }).ConfigureAwait(false);
        return await waiter.Task.ConfigureAwait(false);
    }
}

using System.Diagnostics;

namespace RaftCache.Client;

/// <summary>
/// Coalesces the operations that callers issue concurrently into batch calls: an operation issued while fewer than
/// <see cref="RaftCacheClientOptions.MaxCallsInFlight"/> calls are in flight leaves at once (an idle client adds no
/// latency); operations issued while the limit is reached wait, and the next call to leave carries all of them, up
/// to <see cref="RaftCacheClientOptions.MaxBatchCommands"/> operations and <see cref="RaftCacheClientOptions.MaxBatchBytes"/>
/// bytes. Each operation keeps its own deadline and gets its own reply: a batch only shares the trip.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class CommandBatcher(Func<CacheRequest[], TimeSpan, Task<CacheReply[]>> send, RaftCacheClientOptions options)
{
    private readonly Lock _lock = new();
    private readonly Queue<Operation> _queue = new();
    private int _inFlight;
    private long _calls;
    private long _commands;

    /// <summary>Batch calls sent so far.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Operations sent so far (a retried batch counts once).</summary>
    public long Commands => Interlocked.Read(ref _commands);

    /// <summary>Queues <paramref name="operation"/> and sends what the in-flight limit allows.</summary>
    public void Enqueue(Operation operation)
    {
        lock (_lock) _queue.Enqueue(operation);
        Pump();
    }

    private void Pump()
    {
        while (true)
        {
            List<Operation>? batch = null;
            lock (_lock)
            {
                if (_inFlight >= options.MaxCallsInFlight) return;
                var bytes = 0L;
                while (_queue.TryPeek(out var next))
                {
                    if (batch is not null && (batch.Count >= options.MaxBatchCommands || bytes + next.Request.PayloadBytes > options.MaxBatchBytes)) break;
                    _queue.Dequeue();
                    // An operation whose caller gave up before it left is never sent: it is known not to be applied.
                    if (!next.TryMarkSent()) continue;
                    (batch ??= []).Add(next);
                    bytes += next.Request.PayloadBytes;
                }

                if (batch is null) return;
                _inFlight++;
            }

            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _commands, batch.Count);
            _ = SendAsync(batch);
        }
    }

    private async Task SendAsync(List<Operation> batch)
    {
        try
        {
            var requests = batch.Select(o => o.Request).ToArray();
            Exception? last = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                // The call lasts as long as its most patient operation; the others give up on their own.
                var remaining = TimeSpan.FromTicks(batch.Max(o => o.Remaining.Ticks));
                if (remaining <= TimeSpan.Zero) break;
                try
                {
                    var replies = await send(requests, remaining).ConfigureAwait(false);
                    for (var i = 0; i < batch.Count; i++) batch[i].Completion.TrySetResult(replies[i]);
                    return;
                }
                catch (OrleansException e)
                {
                    // The gateway's connection failed: Orleans sends the next call through another gateway. Safe to
                    // retry: reads change nothing, and writes carry their session and sequence number, so a second
                    // delivery is answered from the first (Raft thesis §6.3).
                    last = e;
                    var pause = TimeSpan.FromMilliseconds(100 * (attempt + 1));
                    if (batch.Max(o => o.Remaining.Ticks) <= pause.Ticks) break;
                    await Task.Delay(pause).ConfigureAwait(false);
                }
                catch (TimeoutException e)
                {
                    // The call may have reached the cluster: give up on it rather than wait again.
                    last = e;
                    break;
                }
            }

            foreach (var operation in batch) operation.Completion.TrySetException(new CallFailedException(last));
        }
        finally
        {
            lock (_lock) _inFlight--;
            Pump();
        }
    }

    /// <summary>One operation on its way: its request, deadline and reply.</summary>
    internal sealed class Operation(CacheRequest request, long deadline)
    {
        private int _state; // 0 waiting, 1 sent, 2 abandoned

        public CacheRequest Request { get; } = request;

        /// <summary>When the caller gives up (a <see cref="Stopwatch"/> timestamp).</summary>
        public long Deadline { get; } = deadline;

        public TaskCompletionSource<CacheReply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Deadline);

        public bool TryMarkSent() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        /// <summary>The caller gives up: true if the operation had not left yet, and now never will.</summary>
        public bool TryAbandon() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;
    }

    /// <summary>The batch call carrying an operation failed; <see cref="Exception.InnerException"/> says how (null: no time was left).</summary>
    internal sealed class CallFailedException(Exception? inner) : Exception(inner?.Message ?? "No time was left to send the call.", inner);
}

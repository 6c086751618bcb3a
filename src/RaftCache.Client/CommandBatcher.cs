using System.Diagnostics;

namespace RaftCache.Client;

/// <summary>
/// Coalesces the operations that callers issue concurrently into batch calls: an operation issued while fewer than
/// <see cref="RaftCacheClientOptions.MaxCallsInFlight"/> calls are in flight leaves at once (an idle client adds no
/// latency); operations issued while the limit is reached wait, and the next call to leave carries all of them, up
/// to <see cref="RaftCacheClientOptions.MaxBatchCommands"/> operations and <see cref="RaftCacheClientOptions.MaxBatchBytes"/>
/// bytes. Each operation keeps its own deadline and gets its own reply: a batch only shares the trip.
/// </summary>
/// <remarks>
/// <para>Every operation ends with a reply, never an exception: the cluster's, or one that says what is known when
/// no answer came — <see cref="CacheStatusCode.Overloaded"/> if it never left this client (so it was not applied),
/// <see cref="CacheStatusCode.OutcomeUnknown"/> for a write that left, <see cref="CacheStatusCode.Unavailable"/>
/// for anything else.</para>
/// <para>Each call goes through the façade key <see cref="FacadeSelector"/> chooses for it. A call unanswered after
/// <see cref="RaftCacheClientOptions.AttemptTimeout"/> stops counting against the in-flight limit and its key becomes
/// suspect; its operations that a second delivery cannot apply twice go again, through another key, and the first
/// answer wins; a write outside a session ends as unknown.</para>
/// <para>Deadlines are kept by one sweep of the waiting and travelling operations every few milliseconds rather than
/// by a timer per operation: under load a timer per operation cost more than the operation's share of its call.</para>
/// <para>Thread-safe.</para>
/// </remarks>
internal sealed class CommandBatcher : IDisposable
{
    private readonly Func<IRaftCacheGrain, CacheRequest[], TimeSpan, Task<CacheReply[]>> _send;
    private readonly FacadeSelector _facades;
    private readonly RaftCacheClientOptions _options;
    /// <summary>
    /// Calls one operation may go in: the first and, after attempt timeouts, two more through other gateways. Enough to
    /// get past a frozen gateway and then a façade still waiting on the frozen leader, while the last attempt, sent
    /// two attempt timeouts (4 s) after the first, is answered within the deadline (10 s) by a façade's request
    /// timeout (5 s), with the defaults.
    /// </summary>
    internal const int MaxAttempts = 3;

    private readonly Lock _lock = new();
    private readonly Queue<Operation> _queue = new();
    private readonly HashSet<Call> _travelling = [];
    private int _travellingOnTime;
    private readonly Timer _sweeper;
    private long _calls;
    private long _commands;

    public CommandBatcher(Func<IRaftCacheGrain, CacheRequest[], TimeSpan, Task<CacheReply[]>> send, FacadeSelector facades, RaftCacheClientOptions options)
    {
        _send = send;
        _facades = facades;
        _options = options;
        var period = TimeSpan.FromTicks(Math.Clamp(options.CallTimeout.Ticks / 20, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromMilliseconds(50).Ticks));
        _sweeper = new Timer(_ => Sweep(), null, period, period);
    }

    /// <summary>Batch calls sent so far.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Operations sent so far (a retried batch counts once).</summary>
    public long Commands => Interlocked.Read(ref _commands);

    /// <summary>
    /// Queues a request with its deadline (a <see cref="Stopwatch"/> timestamp); the task completes with its reply, or
    /// fails if <paramref name="cancellationToken"/> is canceled first (see <see cref="Cancel"/>).
    /// </summary>
    public Task<CacheReply> Enqueue(CacheRequest request, long deadline, CancellationToken cancellationToken = default)
    {
        var operation = new Operation(request, deadline);
        if (cancellationToken.CanBeCanceled)
        {
            operation.Registration = cancellationToken.Register(static (state, token) =>
            {
                var (batcher, canceled) = ((CommandBatcher, Operation))state!;
                batcher.Cancel(canceled, token);
            }, (this, operation));
        }

        lock (_lock) _queue.Enqueue(operation);
        Pump();
        return operation.Completion.Task;
    }

    /// <summary>
    /// Ends a canceled operation by what is known of it: one that never left is skipped by the next call and was not
    /// applied (<see cref="OperationCanceledException"/>); a write that left may still be applied
    /// (<see cref="CacheOutcomeUnknownException"/>); anything else that left changes nothing
    /// (<see cref="OperationCanceledException"/>). <see cref="Operation.Sent"/> is set under the lock, so the decision
    /// and the batching cannot cross.
    /// </summary>
    private void Cancel(Operation operation, CancellationToken token)
    {
        lock (_lock)
        {
            // Completed under the lock, so the next call cannot pick it up after this decision (its continuations run
            // asynchronously, never under the lock).
            if (!operation.Sent)
            {
                operation.Completion.TrySetException(new OperationCanceledException("The operation was canceled before it was sent; nothing was applied.", token));
                return;
            }
        }

        var canceled = new OperationCanceledException("The operation was canceled while waiting for the cluster's answer.", token);
        operation.Completion.TrySetException(operation.MayApply
            ? new CacheOutcomeUnknownException("The write was canceled after it was sent: it may or may not have been applied.", canceled)
            : canceled);
    }

    public void Dispose() => _sweeper.Dispose();

    private void Pump()
    {
        while (true)
        {
            List<Operation>? batch = null;
            Call call;
            lock (_lock)
            {
                // Only calls still within their attempt timeout count: one stuck on a frozen or dead silo must not
                // hold back every later operation of this client.
                if (_travellingOnTime >= _options.MaxCallsInFlight) return;
                var bytes = 0L;
                while (_queue.TryPeek(out var next))
                {
                    if (batch is not null && (batch.Count >= _options.MaxBatchCommands || bytes + next.Request.PayloadBytes > _options.MaxBatchBytes)) break;
                    _queue.Dequeue();
                    // An operation whose deadline passed before it left is never sent: it is known not to be applied.
                    if (next.IsDone || next.Sent && !next.CanResend) continue;
                    (batch ??= []).Add(next);
                    bytes += next.Request.PayloadBytes;
                }

                if (batch is null) return;
                call = new Call(batch, Stopwatch.GetTimestamp(), DestinationGroup(batch));
                foreach (var operation in batch)
                {
                    operation.Sent = true;
                    operation.Latest = call;
                    operation.Attempts++;
                }

                call.Key = _facades.Choose(call.Group);
                _travelling.Add(call);
                _travellingOnTime++;
            }

            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _commands, batch.Count);
            _ = SendAsync(call);
        }
    }

    private async Task SendAsync(Call call)
    {
        // A call carries operations of several traces, each in its own request (CacheRequest.TraceParent): it must not
        // run as part of whichever operation's span happened to start it, or Orleans' own call spans (when the
        // application enables them) would be filed under that operation's trace.
        if (Activity.Current is not null) Activity.Current = null;
        var batch = call.Operations;
        try
        {
            var requests = new CacheRequest[batch.Count];
            for (var i = 0; i < requests.Length; i++) requests[i] = batch[i].Request;
            Exception? last = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                // The call lasts as long as its most patient operation; the others end at their own deadline.
                var remaining = TimeSpan.FromTicks(batch.Max(o => o.Remaining.Ticks));
                if (remaining <= TimeSpan.Zero) break;
                var key = call.Key;
                try
                {
                    var replies = await _send(_facades[key], requests, remaining).ConfigureAwait(false);
                    // Also a late answer, after the attempt timeout: the gateway answers again.
                    _facades.Answered(key);
                    for (var i = 0; i < batch.Count; i++) Finish(call, batch[i], replies[i]);
                    return;
                }
                catch (OrleansException e)
                {
                    // The gateway's connection failed: the next attempt goes through another key (and Orleans binds
                    // this one to another gateway on its next message). Safe to retry: reads change nothing, and
                    // writes carry their session and sequence number, so a second delivery is answered from the
                    // first (Raft thesis §6.3).
                    last = e;
                    _facades.Unanswered(key);
                    var pause = TimeSpan.FromMilliseconds(100 * (attempt + 1));
                    if (batch.Max(o => o.Remaining.Ticks) <= pause.Ticks) break;
                    await Task.Delay(pause).ConfigureAwait(false);
                    lock (_lock) call.Key = _facades.Choose(call.Group);
                }
                catch (TimeoutException e)
                {
                    // The call may have reached the cluster: give up on it rather than wait again.
                    last = e;
                    break;
                }
            }

            var reason = last is null
                ? $"The cluster did not answer within the call timeout ({_options.CallTimeout.TotalMilliseconds:0} ms)."
                : $"The cluster could not be reached ({last.GetType().Name}: {last.Message}).";
            foreach (var operation in batch) Finish(call, operation, operation.Failed(reason));
        }
        finally
        {
            lock (_lock)
            {
                _travelling.Remove(call);
                if (!call.Overdue) _travellingOnTime--;
            }

            Pump();
        }
    }

    /// <summary>
    /// Ends <paramref name="operation"/> with <paramref name="reply"/>, unless the operation was sent again in a newer
    /// call and the reply is a failure that newer attempt may turn into an answer (the façade behind a frozen leader
    /// answers "unknown" at its own deadline while the resend is served by the new leader). The latest attempt's answer
    /// always counts, so a failure every attempt reports (no quorum: "unavailable") reaches the caller as such. Such an
    /// operation still ends by its deadline (<see cref="Sweep"/>).
    /// </summary>
    private void Finish(Call call, Operation operation, CacheReply reply)
    {
        bool superseded;
        lock (_lock) superseded = !ReferenceEquals(operation.Latest, call);
        if (superseded && reply.Status is CacheStatusCode.OutcomeUnknown or CacheStatusCode.Unavailable) return;
        operation.Complete(reply);
    }

    /// <summary>
    /// Ends every operation whose deadline passed (unsent ones as not applied, sent ones by what is known), and gives
    /// up waiting on calls past their attempt timeout: such a call no longer counts against the in-flight limit, its
    /// key becomes suspect, its operations that may safely be sent twice go again in a new call through another key
    /// (the first answer to come wins), and its other writes end as unknown: no operation waits on a frozen or dead
    /// silo longer than the attempt timeout.
    /// </summary>
    private void Sweep()
    {
        List<Operation>? expired = null;
        List<Operation>? abandoned = null;
        List<int>? unanswered = null;
        var resend = false;
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            foreach (var operation in _queue)
            {
                // Ended under the lock, so that no call picks it up after this decision: it was never sent.
                if (now >= operation.Deadline && !operation.IsDone && !operation.Sent) operation.Complete(NeverSent());
                else if (now >= operation.Deadline && !operation.IsDone) (expired ??= []).Add(operation);
            }

            foreach (var call in _travelling)
            {
                foreach (var operation in call.Operations)
                {
                    if (now >= operation.Deadline && !operation.IsDone) (expired ??= []).Add(operation);
                }

                if (call.Overdue || Stopwatch.GetElapsedTime(call.Started, now) < _options.AttemptTimeout) continue;
                call.Overdue = true;
                _travellingOnTime--;
                (unanswered ??= []).Add(call.Key);
                foreach (var operation in call.Operations)
                {
                    if (operation.IsDone || now >= operation.Deadline || !ReferenceEquals(operation.Latest, call)) continue;
                    if (!operation.CanResend)
                    {
                        (abandoned ??= []).Add(operation);
                        continue;
                    }

                    // Bounded, so that the last attempt has time to be answered within the deadline: when no silo can
                    // serve an operation (no quorum), each façade answers "unavailable" after its request timeout,
                    // and an attempt still unanswered at the deadline would turn that into "outcome unknown".
                    if (operation.Attempts >= MaxAttempts) continue;
                    _queue.Enqueue(operation);
                    resend = true;
                }
            }
        }

        // Before the resent operations leave, so that they avoid the keys that went unanswered.
        if (unanswered is not null) foreach (var key in unanswered) _facades.Unanswered(key);
        if (resend) Pump();
        if (abandoned is not null)
        {
            var attempt = $"The call got no answer within the attempt timeout ({_options.AttemptTimeout.TotalMilliseconds:0} ms), " +
                "and a write outside a client session cannot be sent again.";
            foreach (var operation in abandoned) operation.Complete(operation.Failed(attempt));
        }

        if (expired is null) return;
        var timeout = $"The operation got no answer within the call timeout ({_options.CallTimeout.TotalMilliseconds:0} ms).";
        // Only operations that left are here: a resent one that waits in the queue again has Sent set.
        foreach (var operation in expired) operation.Complete(operation.Failed(timeout));
    }

    private CacheReply NeverSent() => CacheReply.Fail(CacheStatusCode.Overloaded,
        $"The operation waited {_options.CallTimeout.TotalMilliseconds:0} ms (the call timeout) in this client without being sent: " +
        "too many earlier operations are still unanswered. Nothing was sent.");

    /// <summary>
    /// The group of the batch's first operation that only a leader serves (a write or a lease read), or null if it
    /// has none: the call goes through the gateway of that group's leader where the client knows it.
    /// </summary>
    private static int? DestinationGroup(List<Operation> batch)
    {
        foreach (var operation in batch)
        {
            if (operation.Request is { IsWrite: true } or { Consistency: ReadConsistency.Lease }) return operation.Request.Group;
        }

        return null;
    }

    /// <summary>One batch call: its operations, when it left, the key it goes through, and whether it is past its attempt timeout.</summary>
    private sealed class Call(List<Operation> operations, long started, int? group)
    {
        public List<Operation> Operations { get; } = operations;

        public long Started { get; } = started;

        /// <summary>The group whose leader the call is meant for, if any (<see cref="DestinationGroup"/>).</summary>
        public int? Group { get; } = group;

        /// <summary>The façade key of the current attempt (set under the batcher's lock).</summary>
        public int Key { get; set; }

        public bool Overdue { get; set; }
    }

    /// <summary>One operation on its way: its request, deadline and reply.</summary>
    private sealed class Operation(CacheRequest request, long deadline)
    {
        public CacheRequest Request { get; } = request;

        /// <summary>When the caller gives up (a <see cref="Stopwatch"/> timestamp).</summary>
        public long Deadline { get; } = deadline;

        /// <summary>Whether the operation left in a call (set under the batcher's lock).</summary>
        public bool Sent { get; set; }

        /// <summary>The newest call that carries it (under the batcher's lock).</summary>
        public Call? Latest { get; set; }

        /// <summary>Calls that carried it so far (under the batcher's lock).</summary>
        public int Attempts { get; set; }

        public TaskCompletionSource<CacheReply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsDone => Completion.Task.IsCompleted;

        public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Deadline);

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(CacheReply reply)
        {
            if (Completion.TrySetResult(reply)) Registration.Unregister();
        }

        /// <summary>Whether delivering it may change the cache: a write other than a session registration.</summary>
        public bool MayApply => Request.IsWrite && Request.Operation != CacheOperation.RegisterSession;

        /// <summary>
        /// Whether a second delivery is harmless: reads change nothing, a second session registration only leaves an
        /// unused session, and a write in a client session is answered from the first (Raft thesis §6.3).
        /// </summary>
        public bool CanResend => !Request.IsWrite || Request.Operation == CacheOperation.RegisterSession || Request.SessionId != 0;

        /// <summary>The reply for an operation that got none: a write may have been applied; nothing else changed anything that matters.</summary>
        public CacheReply Failed(string reason) =>
            MayApply
                ? CacheReply.Fail(CacheStatusCode.OutcomeUnknown, reason + " The command may or may not have been applied.")
                : CacheReply.Fail(CacheStatusCode.Unavailable, reason);
    }
}

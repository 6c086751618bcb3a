using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>Requests from the façade and from other silos, handed to the group replica they concern.</summary>
internal sealed partial class RaftHostService
{
    private static readonly CacheReply NotJoined = CacheReply.Fail(CacheStatusCode.Unavailable, "This replica has not joined a Raft group yet.");

    public Task<CacheReply[]> Execute(CacheRequest[] requests, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return Group is { } group ? group.Execute(requests, timeout) : Task.FromResult(Enumerable.Repeat(NotJoined, requests.Length).ToArray());
    }

    /// <summary>
    /// <see cref="Execute"/> for the façade on this silo, from any thread: the work is queued on this service's own
    /// scheduler, as an Orleans call would be, without a message (no serialization, no argument copies).
    /// </summary>
    public Task<CacheReply[]> ExecuteLocal(CacheRequest[] requests, TimeSpan timeout)
    {
        var work = new Task<Task<CacheReply[]>>(() => Execute(requests, timeout));
        Scheduler.QueueTask(work);
        return work.Unwrap();
    }

    /// <summary>The silo of the leader this silo's replica knows, or null; safe from any thread (the façade routes by it).</summary>
    public SiloAddress? LeaderSilo
    {
        get
        {
            var groups = Volatile.Read(ref _published);
            return groups.Length == 0 ? null : groups[0].LeaderSilo;
        }
    }

    /// <summary>
    /// A <see cref="ReadConsistency.Local"/> read of this silo's replica. Thread-safe: the cache state machine's reads
    /// are lock-free, so the façade on this silo calls this directly from its own thread.
    /// </summary>
    public CacheReply ReadLocal(byte[] key)
    {
        var groups = Volatile.Read(ref _published);
        return groups.Length == 0 ? NotJoined : groups[0].ReadLocal(key);
    }

    public Task<CacheReply> RequestRemoval(GroupId group, ulong memberId, TimeSpan timeout) =>
        _groups.TryGetValue(group, out var replica) ? replica.RequestRemoval(memberId, timeout) : Task.FromResult(NotJoined);

    public Task<Guid> GetGroup() => Task.FromResult(Group?.Id.Layout ?? Guid.Empty);

    public Task<ReplicaStatus> GetStatus()
    {
        var memory = GC.GetGCMemoryInfo();
        var status = Group is { } group ? group.GetStatus() : new ReplicaStatus
        {
            MemberId = MemberId,
            Role = "Joining",
            Healthy = false,
            Message = "Waiting to be added to a Raft group.",
        };
        return Task.FromResult(status with
        {
            Silo = Self.ToString(),
            ProcessId = Environment.ProcessId,
            ProcessMemoryBytes = Environment.WorkingSet,
            ManagedHeapBytes = memory.HeapSizeBytes,
            OrleansMessagesSent = Instruments.OrleansMessagesSent,
        });
    }
}

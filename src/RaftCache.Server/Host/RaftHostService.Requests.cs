using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>Requests from the façade and from other silos, handed to the group replicas they concern.</summary>
internal sealed partial class RaftHostService
{
    private static readonly CacheReply NoLayout = CacheReply.Fail(CacheStatusCode.Unavailable, "The cluster has not formed its Raft groups yet.");

    /// <summary>
    /// Runs a batch of operations, each on this silo's replica of its group: one batch per group, proposed together.
    /// An operation for a group this silo holds no replica of is answered "not leader", with the leader if known.
    /// </summary>
    public Task<CacheReply[]> Execute(CacheRequest[] requests, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var replies = new CacheReply[requests.Length];
        if (_layout is not { } layout)
        {
            Array.Fill(replies, NoLayout);
            return Task.FromResult(replies);
        }

        // Split by group; a batch that concerns one group is passed on without copying (ExecuteGroupsAsync).
        Dictionary<int, List<int>>? byGroup = null;
        for (var i = 0; i < requests.Length; i++)
        {
            if (CheckGroup(layout, requests[i]) is { } invalid)
            {
                replies[i] = invalid;
                continue;
            }

            var group = requests[i].Group;
            if (!_groups.ContainsKey(group))
            {
                replies[i] = NotHere(group);
                continue;
            }

            byGroup ??= [];
            if (!byGroup.TryGetValue(group, out var indexes)) byGroup[group] = indexes = [];
            indexes.Add(i);
        }

        if (byGroup is null) return Task.FromResult(replies);
        return ExecuteGroupsAsync(requests, replies, byGroup, timeout);
    }

    private async Task<CacheReply[]> ExecuteGroupsAsync(CacheRequest[] requests, CacheReply[] replies, Dictionary<int, List<int>> byGroup, TimeSpan timeout)
    {
        var parts = new List<(List<int> Indexes, Task<CacheReply[]> Replies)>(byGroup.Count);
        foreach (var (group, indexes) in byGroup)
        {
            var part = indexes.Count == requests.Length ? requests : [.. indexes.Select(i => requests[i])];
            parts.Add((indexes, _groups[group].Execute(part, timeout)));
        }

        foreach (var (indexes, answers) in parts)
        {
            var answered = await answers;
            for (var k = 0; k < indexes.Count; k++) replies[indexes[k]] = answered[k];
        }

        return replies;
    }

    /// <summary>The group must exist and, for a keyed operation, own the key: a client with another layout is refused.</summary>
    internal static CacheReply? CheckGroup(ClusterLayout layout, CacheRequest? request)
    {
        if (request is null) return CacheReply.Fail(CacheStatusCode.InvalidArgument, "The request is missing.");
        if (request.Group < 0 || request.Group >= layout.Groups)
            return CacheReply.Fail(CacheStatusCode.InvalidArgument, $"Group {request.Group} does not exist; the cluster has {layout.Groups} groups.");
        if (request.Key is { Length: > 0 } key && layout.GroupOf(key) != request.Group)
            return CacheReply.Fail(CacheStatusCode.InvalidArgument, $"The key belongs to group {layout.GroupOf(key)}, not {request.Group}: the client's layout differs from the cluster's ({layout.Id}).");
        return null;
    }

    private CacheReply NotHere(int group) => new()
    {
        Status = CacheStatusCode.NotLeader,
        LeaderHint = LeaderOf(group) is { } leader && !leader.Equals(Self) ? leader.ToParsableString() : null,
        Message = $"This silo holds no replica of group {group}.",
    };

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

    /// <summary><see cref="GetStatus"/> from any thread (the health check): queued on this service's scheduler.</summary>
    public Task<ReplicaStatus[]> GetStatusLocal()
    {
        var work = new Task<Task<ReplicaStatus[]>>(GetStatus);
        Scheduler.QueueTask(work);
        return work.Unwrap();
    }

    /// <summary>
    /// A <see cref="ReadConsistency.Local"/> read of this silo's replica of the key's group, or null if this silo holds
    /// none. Thread-safe: the cache state machine's reads are lock-free, so the façade calls this from its own thread.
    /// </summary>
    public CacheReply? ReadLocal(CacheRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Layout is not { } layout) return NoLayout;
        if (CheckGroup(layout, request) is { } invalid) return invalid;
        var published = Volatile.Read(ref _published);
        return request.Group < published.Length && published[request.Group] is { } replica ? replica.ReadLocal(request.Key!) : null;
    }

    public Task<CacheReply> RequestRemoval(GroupId group, ulong memberId, TimeSpan timeout) =>
        ReplicaOf(group) is { } replica ? replica.RequestRemoval(memberId, timeout) : Task.FromResult(NotHere(group.Index));

    public Task<bool?> IsMember(GroupId group, ulong memberId)
    {
        if (ReplicaOf(group) is { IsLeader: true } leader) return Task.FromResult<bool?>(leader.HasMember(memberId));
        // The group was re-formed in a later epoch: the asking replica's configuration is history.
        if (_layout?.Id == group.Layout && _groups.TryGetValue(group.Index, out var replica) && replica.IsLeader && replica.Id.Epoch > group.Epoch)
            return Task.FromResult<bool?>(false);
        return Task.FromResult<bool?>(null);
    }

    /// <summary>This silo's replica of <paramref name="group"/> in the group's epoch, or null.</summary>
    private GroupReplica? ReplicaOf(GroupId group) =>
        _layout?.Id == group.Layout && _groups.TryGetValue(group.Index, out var replica) && replica.Id == group ? replica : null;

    public Task<ReplicaStatus[]> GetStatus()
    {
        var memory = GC.GetGCMemoryInfo();
        ReplicaStatus[] statuses = _groups.Count == 0
            ? [new ReplicaStatus
            {
                MemberId = MemberId,
                Role = _layout is null ? ReplicaRole.Joining : ReplicaRole.None,
                Healthy = _layout is not null,
                GroupId = _layout?.Id ?? Guid.Empty,
                Message = _layout is null ? "Waiting for the cluster's groups to form." : "This silo holds no replica of any group.",
            }]
            : [.. _groups.Values.OrderBy(g => g.Id.Index).Select(g => g.GetStatus())];
        for (var i = 0; i < statuses.Length; i++)
        {
            statuses[i] = statuses[i] with
            {
                Silo = Self.ToString(),
                ProcessId = Environment.ProcessId,
                ProcessMemoryBytes = Environment.WorkingSet,
                ManagedHeapBytes = memory.HeapSizeBytes,
                OrleansMessagesSent = Instruments.OrleansMessagesSent,
            };
        }

        return Task.FromResult(statuses);
    }
}

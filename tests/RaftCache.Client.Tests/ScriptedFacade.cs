using System.Collections.Concurrent;

namespace RaftCache.Client.Tests;

/// <summary>
/// A façade that answers like the cluster would, without one: it enforces the session window as the replicas do
/// (a write more than <see cref="CacheLimits.MaxInFlightPerSession"/> sequence numbers ahead of its lowest unanswered
/// one is refused as overloaded) and records every call, so a test sees exactly what the client sent.
/// </summary>
internal sealed class ScriptedFacade : IRaftCacheGrain
{
    private long _nextSession = 100;
    private long _maxDistance;

    public CacheLimits Limits { get; set; } = new() { MaxKeyBytes = 1024, MaxValueBytes = 512 * 1024, MaxTtl = TimeSpan.FromDays(365), MaxInFlightPerSession = 1024, Layout = new ClusterLayout(Guid.NewGuid(), 4096, 1) };

    /// <summary>Runs before a write is answered; a test delays, holds or fails writes here.</summary>
    public Func<CacheRequest, Task<CacheReply?>> BeforeWrite { get; set; } = _ => Task.FromResult<CacheReply?>(null);

    /// <summary>What <see cref="GetStatus"/> does.</summary>
    public Func<Task<ClusterStatus>> Status { get; set; } = () => Task.FromResult(new ClusterStatus());

    public ConcurrentQueue<CacheRequest> Writes { get; } = new();

    /// <summary>The sizes of the batch calls received, in order.</summary>
    public ConcurrentQueue<int> Batches { get; } = new();

    public int Registrations;

    public int LimitRequests;

    /// <summary>The largest (sequence − lowest unanswered) seen on any write.</summary>
    public long MaxDistance => Interlocked.Read(ref _maxDistance);

    public Task<CacheLimits> GetLimits()
    {
        Interlocked.Increment(ref LimitRequests);
        return Task.FromResult(Limits);
    }

    public async Task<CacheReply[]> Execute(CacheRequest[] requests)
    {
        Batches.Enqueue(requests.Length);
        return await Task.WhenAll(requests.Select(request => request.Operation switch
        {
            CacheOperation.RegisterSession => RegisterSession(),
            CacheOperation.Get => Get(request),
            _ => Write(request),
        }));
    }

    /// <summary>What a read answers; by default, found nothing.</summary>
    public Func<CacheRequest, Task<CacheReply>> Read { get; set; } = _ => Task.FromResult(new CacheReply());

    private Task<CacheReply> Get(CacheRequest request) => Read(request);

    private Task<CacheReply> RegisterSession()
    {
        Interlocked.Increment(ref Registrations);
        return Task.FromResult(new CacheReply { SessionId = Interlocked.Increment(ref _nextSession) });
    }

    private async Task<CacheReply> Write(CacheRequest write)
    {
        Writes.Enqueue(write);
        var distance = write.Sequence - write.LowestUnansweredSequence;
        long seen;
        while (distance > (seen = Interlocked.Read(ref _maxDistance)) && Interlocked.CompareExchange(ref _maxDistance, distance, seen) != seen)
        {
        }

        if (distance >= Limits.MaxInFlightPerSession) return CacheReply.Fail(CacheStatusCode.Overloaded, "too many commands awaiting an answer");
        return await BeforeWrite(write) ?? new CacheReply { Index = (ulong)write.Sequence };
    }

    public Task<ClusterStatus> GetStatus() => Status();

    /// <summary>What <see cref="Locate"/> does; by default, a silo named "scripted" that knows no leader.</summary>
    public Func<Task<FacadeLocation>> Location { get; set; } = () => Task.FromResult(new FacadeLocation { Silo = "scripted" });

    public Task<FacadeLocation> Locate() => Location();

    /// <summary>What <see cref="RecoverQuorum"/> does; by default, reports no group.</summary>
    public Func<int?, bool, Task<GroupRecovery[]>> Recover { get; set; } = (_, _) => Task.FromResult(Array.Empty<GroupRecovery>());

    public Task<GroupRecovery[]> RecoverQuorum(int? group, bool confirm) => Recover(group, confirm);
}

/// <summary>
/// A grain factory that hands out façades and nothing else: one <see cref="ScriptedFacade"/> for every key, or the
/// façade a function chooses for each key (as gateways of several silos would).
/// </summary>
internal sealed class ScriptedGrainFactory(Func<long, IRaftCacheGrain> facadeOf) : IGrainFactory
{
    public ScriptedGrainFactory(IRaftCacheGrain facade)
        : this(_ => facade)
    {
    }

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerKey =>
        facadeOf(primaryKey) is TGrainInterface grain ? grain : throw new NotSupportedException(typeof(TGrainInterface).Name);

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithStringKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidCompoundKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerCompoundKey => throw new NotSupportedException();

    public TGrainObserverInterface CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

    public void DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, string grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IAddressable => throw new NotSupportedException();

    public IAddressable GetGrain(GrainId grainId) => throw new NotSupportedException();

    public IAddressable GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => throw new NotSupportedException();

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey, string grainClassNamePrefix) => throw new NotSupportedException();

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey) => throw new NotSupportedException();
}

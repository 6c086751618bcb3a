using Orleans.Concurrency;

namespace RaftCache.Bench;

/// <summary>
/// The no-op ceiling for benchmarks: a stateless worker, like the façade, so that it activates on the silo that
/// receives the call and scales with concurrent callers in the same way; it only does no cache work.
/// </summary>
[StatelessWorker]
internal sealed class NoOpGrain : Grain, IRaftCacheNoOpGrain
{
    public Task Ping() => Task.CompletedTask;
}

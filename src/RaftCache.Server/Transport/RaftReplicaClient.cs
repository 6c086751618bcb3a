using Orleans.Runtime.Services;

namespace RaftCache.Server.Transport;

/// <summary>Reaches the replica of a given silo (GrainServiceClient's silo lookup is protected, hence this subclass).</summary>
internal interface IRaftReplicaClient
{
    /// <summary>The replica hosted by <paramref name="silo"/>.</summary>
    IRaftReplica For(SiloAddress silo);
}

/// <inheritdoc cref="IRaftReplicaClient"/>
internal sealed class RaftReplicaClient(IServiceProvider services) : GrainServiceClient<IRaftReplica>(services), IRaftReplicaClient
{
    // Made once per silo: creating a system target reference takes a lock in Orleans' grain factory, which under load
    // was the silo's most contended lock. References to silos that left are few and small.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SiloAddress, IRaftReplica> _references = new();

    /// <inheritdoc/>
    public IRaftReplica For(SiloAddress silo) => _references.GetOrAdd(silo, GetGrainService);
}

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
    /// <inheritdoc/>
    public IRaftReplica For(SiloAddress silo) => GetGrainService(silo);
}

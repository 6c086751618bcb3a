namespace RaftCache.Server.Host;

/// <summary>
/// Tells the replica whether the silo stops gracefully. A grain service's <c>Stop</c> carries no cancellation token,
/// so this participant watches the silo lifecycle's own token at a stage that stops before grain services: when the
/// host is asked to stop at once (the token is already cancelled), the replica skips its graceful leave — handing
/// leadership over and asking to be removed — exactly as a crashed silo would, and the group learns of the loss from
/// Orleans membership instead.
/// </summary>
internal sealed class ShutdownObserver(LocalReplica localReplica) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(ShutdownObserver), ServiceLifecycleStage.Active, _ => Task.CompletedTask, OnStop);
    }

    private Task OnStop(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) localReplica.StopIsUngraceful = true;
        return Task.CompletedTask;
    }
}

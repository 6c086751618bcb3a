using Microsoft.Extensions.Logging;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// The Orleans membership view, and forming the cluster's group exactly once (design §4, "Bootstrap", in
/// docs/design.md).
/// </summary>
internal sealed partial class RaftHostService
{
    private ClusterMembershipSnapshot? _lastMembership;
    private long _membershipChangedAt;
    private bool _bootstrapping;

    private async Task WatchMembershipAsync()
    {
        _membershipChangedAt = Time.GetTimestamp();
        try
        {
            await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(StoppedCancellationTokenSource.Token))
            {
                OnMembershipChanged(snapshot);
            }
        }
        catch (OperationCanceledException)
        {
            // The silo is stopping.
        }
    }

    private void OnMembershipChanged(ClusterMembershipSnapshot snapshot)
    {
        var previous = _lastMembership;
        _lastMembership = snapshot;
        if (previous is null || !previous.ActiveSilos().SequenceEqual(snapshot.ActiveSilos())) _membershipChangedAt = Time.GetTimestamp();
        foreach (var group in _groups.Values) group.OnMembershipChanged(snapshot);
    }

    /// <summary>
    /// Creates the group if this silo is the oldest active one, the membership view has been stable for a while, and
    /// no live replica reports a group already. Every other silo waits to be added by the leader. The stability wait
    /// covers silos that start together: each must see the others before the oldest may decide alone.
    /// </summary>
    private async Task TryBootstrapAsync()
    {
        if (_bootstrapping || _groups.Count > 0) return;
        _bootstrapping = true;
        try
        {
            var active = Membership.ActiveSilos();
            if (!active.Contains(Self)) return;
            if (Time.GetElapsedTime(_membershipChangedAt) < Options.BootstrapStableFor) return;
            var oldest = active.OrderBy(s => s.Generation).ThenBy(s => s.ToParsableString(), StringComparer.Ordinal).First();
            if (!oldest.Equals(Self)) return;

            foreach (var silo in active)
            {
                if (silo.Equals(Self)) continue;
                using var cancellation = new CancellationTokenSource(Options.RequestTimeout);
                var layout = await Peers.For(silo).GetGroup().WaitAsync(cancellation.Token);
                if (layout != Guid.Empty) return;
            }

            if (_groups.Count > 0 || Stopping || !Membership.ActiveSilos().SequenceEqual(active)) return;
            var group = new GroupId(Guid.NewGuid(), 0);
            LogBootstrapping(_logger, group, MemberId);
            AddGroup(GroupReplica.Bootstrap(this, group, _loggerFactory.CreateLogger<GroupReplica>()));
            Flush();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A silo that cannot answer may hold a group: try again on a later tick.
            LogBootstrapDeferred(_logger, e.Message);
        }
        finally
        {
            _bootstrapping = false;
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Bootstrapping a new Raft group {Group} with member {MemberId} as its only voter")]
    private static partial void LogBootstrapping(ILogger logger, GroupId group, ulong memberId);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Bootstrap deferred: {Reason}")]
    private static partial void LogBootstrapDeferred(ILogger logger, string reason);
}

using Microsoft.Extensions.Logging;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// The Orleans membership view, and the cluster's group layout: learnt from another silo, or created with its groups
/// exactly once when the cluster is first formed (design §4, "Bootstrap", in docs/design.md).
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
    /// Learns the cluster's layout from a silo that knows it; if none does, creates it, and bootstraps every group
    /// with this silo as its only voter, provided this silo is the oldest active one, the membership view has been
    /// stable for a while, and every other active silo answered that it knows no layout. Every other silo waits and
    /// asks again. The stability wait covers silos that start together: each must see the others before the oldest
    /// may decide alone. The groups' leaders then add the silos that placement chooses.
    /// </summary>
    private async Task DiscoverOrCreateLayoutAsync()
    {
        if (_bootstrapping || _layout is not null) return;
        _bootstrapping = true;
        try
        {
            var active = Membership.ActiveSilos();
            if (!active.Contains(Self)) return;
            foreach (var silo in active)
            {
                if (silo.Equals(Self)) continue;
                using var cancellation = new CancellationTokenSource(Options.RequestTimeout);
                if (await Peers.For(silo).GetLayout().WaitAsync(cancellation.Token) is { } known)
                {
                    AdoptLayout(known);
                    return;
                }
            }

            if (Time.GetElapsedTime(_membershipChangedAt) < Options.BootstrapStableFor) return;
            var oldest = active.OrderBy(s => s.Generation).ThenBy(s => s.ToParsableString(), StringComparer.Ordinal).First();
            if (!oldest.Equals(Self) || _layout is not null || Stopping || !Membership.ActiveSilos().SequenceEqual(active)) return;

            var layout = new ClusterLayout(Guid.NewGuid(), Options.Slots, Options.Groups);
            LogBootstrapping(_logger, layout.Id, layout.Groups, layout.Slots, MemberId);
            AdoptLayout(layout);
            for (var group = 0; group < layout.Groups; group++)
                AddGroup(GroupReplica.Bootstrap(this, new GroupId(layout.Id, group), _loggerFactory.CreateLogger<GroupReplica>()));
            Flush();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A silo that cannot answer may know the layout: try again on a later tick.
            LogBootstrapDeferred(_logger, e.Message);
        }
        finally
        {
            _bootstrapping = false;
        }
    }

    private void AdoptLayout(ClusterLayout layout)
    {
        if (_layout is not null) return;
        if (layout.Groups != Options.Groups) LogLayoutDiffers(_logger, layout.Groups, Options.Groups);
        Volatile.Write(ref _leaderHints, new SiloAddress?[layout.Groups]);
        Volatile.Write(ref _layout, layout);
        Publish();
    }

    public Task<ClusterLayout?> GetLayout() => Task.FromResult(_layout);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Forming the cluster's groups: layout {Layout}, {Groups} groups over {Slots} slots, each bootstrapped with member {MemberId} as its only voter")]
    private static partial void LogBootstrapping(ILogger logger, Guid layout, int groups, int slots, ulong memberId);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "The cluster was formed with {Groups} groups; this silo's RaftCache:Groups ({Configured}) is ignored: the number of groups is fixed when the cluster is first formed")]
    private static partial void LogLayoutDiffers(ILogger logger, int groups, int configured);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Bootstrap deferred: {Reason}")]
    private static partial void LogBootstrapDeferred(ILogger logger, string reason);
}

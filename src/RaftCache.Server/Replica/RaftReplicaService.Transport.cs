using Microsoft.Extensions.Logging;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Replica;

/// <summary>Raft messages between replicas: batched one-way calls, and snapshots in chunks over two-way calls.</summary>
internal sealed partial class RaftReplicaService
{
    private readonly Dictionary<ulong, long> _snapshotTransfers = [];
    private readonly Dictionary<ulong, IncomingSnapshot> _incomingSnapshots = [];
    private readonly List<(ulong To, bool Success)> _pendingSnapshotReports = [];
    private long _nextTransferId;

    /// <summary>Sends the messages of one Ready: one call per peer, snapshots separately.</summary>
    private void Send(IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0) return;
        // Group per peer, keeping each peer's messages in the order the node produced them.
        Dictionary<ulong, List<Message>>? perPeer = null;
        foreach (var message in messages)
        {
            if (message.Type == MessageType.InstallSnapshot)
            {
                StartSnapshotTransfer(message);
                continue;
            }

            perPeer ??= [];
            if (!perPeer.TryGetValue(message.To, out var list)) perPeer[message.To] = list = [];
            list.Add(message);
        }

        if (perPeer is null) return;
        foreach (var (to, batch) in perPeer)
        {
            if (!TryRoute(to, out var silo))
            {
                _unreachable.Add(to);
                continue;
            }

            var envelope = new RaftEnvelope(_groupId, _memberId, to, _self, RaftMessageCodec.Encode(batch));
            _instruments.OnMessagesSent(batch.Count);
            _ = DeliverAsync(silo, envelope);
        }
    }

    private async Task DeliverAsync(SiloAddress silo, RaftEnvelope envelope)
    {
        try
        {
            await _peers.For(silo).Deliver(envelope);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One-way calls rarely fail here (only when the message cannot be sent at all); Raft retries by itself.
            LogSendFailed(_logger, silo, e.Message);
            _node?.ReportUnreachable(envelope.To);
        }
    }

    public Task Deliver(RaftEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!Admit(envelope.GroupId, envelope.From, envelope.To, envelope.FromSilo, fromLeader: null, envelope.Payload)) return Task.CompletedTask;
        List<Message> messages;
        try
        {
            messages = RaftMessageCodec.Decode(envelope.Payload);
        }
        catch (FormatException e)
        {
            LogBadBatch(_logger, envelope.FromSilo, e.Message);
            return Task.CompletedTask;
        }

        if (_node is null) return Task.CompletedTask;
        foreach (var message in messages) StepRemote(message);
        ScheduleFlush();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Decides whether to accept traffic for <paramref name="groupId"/>. A replica in a group drops other groups'
    /// messages; a replica not yet in a group joins the group of the first leader that contacts it (design §4 in docs/design.md:
    /// a new member accepts its group's leader before it has applied its own addition).
    /// </summary>
    private bool Admit(Guid groupId, ulong from, ulong to, SiloAddress fromSilo, bool? fromLeader, byte[]? payload)
    {
        if (to != _memberId || _fault is not null) return false;
        if (_node is not null)
        {
            if (groupId != _groupId) return false;
            _routes[from] = fromSilo;
            return true;
        }

        if (_stopping) return false;
        var leaderTraffic = fromLeader ?? (payload is not null && IsLeaderTraffic(payload));
        if (!leaderTraffic) return false;
        _routes[from] = fromSilo;
        CreateNode(groupId, new MemStorage());
        return true;
    }

    private static bool IsLeaderTraffic(byte[] payload)
    {
        try
        {
            foreach (var message in RaftMessageCodec.Decode(payload))
                if (message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot) return true;
        }
        catch (FormatException)
        {
            return false;
        }

        return false;
    }

    private void StepRemote(Message message)
    {
        // Only peer-to-peer message types may arrive over the wire; local ones would be a forged or corrupt batch.
        if (message.Type is MessageType.Hup or MessageType.Beat or MessageType.Unreachable or MessageType.SnapshotStatus or MessageType.CheckQuorum) return;
        if (message.To != _memberId) return;
        _node!.Step(message);
    }

    private bool TryRoute(ulong memberId, out SiloAddress silo)
    {
        if (_routes.TryGetValue(memberId, out silo!)) return true;
        // Members are silo incarnations, so the live membership names every member the conf changes did not.
        foreach (var member in _membership.CurrentSnapshot.Members.Values)
        {
            if (MemberIds.For(member.SiloAddress) == memberId)
            {
                _routes[memberId] = silo = member.SiloAddress;
                return true;
            }
        }

        return false;
    }

    private void StartSnapshotTransfer(Message message)
    {
        if (_snapshotTransfers.ContainsKey(message.To)) return;
        if (!TryRoute(message.To, out var silo))
        {
            _unreachable.Add(message.To);
            // The core waits in snapshot state until it hears how the transfer went.
            _pendingSnapshotReports.Add((message.To, false));
            return;
        }

        var transferId = ++_nextTransferId;
        _snapshotTransfers[message.To] = transferId;
        _ = TransferSnapshotAsync(message, silo, transferId);
    }

    private async Task TransferSnapshotAsync(Message message, SiloAddress silo, long transferId)
    {
        var success = false;
        try
        {
            var data = message.Snapshot!.Data;
            var header = RaftMessageCodec.Encode([message with { Snapshot = message.Snapshot with { Data = ReadOnlyMemory<byte>.Empty } }]);
            var chunkSize = _options.SnapshotChunkBytes;
            var offset = 0;
            do
            {
                var length = Math.Min(chunkSize, data.Length - offset);
                var chunk = new SnapshotChunk(_groupId, _memberId, message.To, _self, transferId, offset, data.Length,
                    offset == 0 ? header : null, data.Slice(offset, length).ToArray());
                using var cancellation = new CancellationTokenSource(_options.RequestTimeout * 2);
                if (!await _peers.For(silo).InstallSnapshotChunk(chunk).WaitAsync(cancellation.Token)) break;
                offset += length;
                if (offset >= data.Length)
                {
                    success = true;
                    _instruments.OnSnapshotSent();
                }
            }
            while (offset < data.Length);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSnapshotSendFailed(_logger, message.To, silo, e.Message);
        }
        finally
        {
            _snapshotTransfers.Remove(message.To);
        }

        if (_node is null) return;
        if (!success) _node.ReportUnreachable(message.To);
        _node.ReportSnapshot(message.To, success);
        ProcessReady();
    }

    public Task<bool> InstallSnapshotChunk(SnapshotChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (!Admit(chunk.GroupId, chunk.From, chunk.To, chunk.FromSilo, fromLeader: true, payload: null)) return Task.FromResult(false);
        if (chunk.TotalLength is < 0 or > int.MaxValue || chunk.Offset < 0 || chunk.Offset + chunk.Data.Length > chunk.TotalLength) return Task.FromResult(false);
        if (chunk.Offset == 0)
        {
            if (chunk.Header is null) return Task.FromResult(false);
            _incomingSnapshots[chunk.From] = new IncomingSnapshot(chunk.TransferId, chunk.Header, new byte[chunk.TotalLength]);
        }

        if (!_incomingSnapshots.TryGetValue(chunk.From, out var incoming) || incoming.TransferId != chunk.TransferId || incoming.Data.Length != chunk.TotalLength)
            return Task.FromResult(false);
        chunk.Data.CopyTo(incoming.Data, chunk.Offset);
        if (chunk.Offset + chunk.Data.Length < chunk.TotalLength) return Task.FromResult(true);

        _incomingSnapshots.Remove(chunk.From);
        Message message;
        try
        {
            var header = RaftMessageCodec.Decode(incoming.Header);
            if (header.Count != 1 || header[0].Type != MessageType.InstallSnapshot || header[0].Snapshot is null) return Task.FromResult(false);
            message = header[0] with { Snapshot = header[0].Snapshot! with { Data = incoming.Data } };
            // Reject a corrupt snapshot before Raft accepts it; empty data is the group's bootstrap snapshot.
            if (incoming.Data.Length > 0) ReplicaSnapshot.Read(incoming.Data);
        }
        catch (FormatException e)
        {
            LogBadBatch(_logger, chunk.FromSilo, e.Message);
            return Task.FromResult(false);
        }

        StepRemote(message);
        ProcessReady();
        return Task.FromResult(true);
    }

    private sealed record IncomingSnapshot(long TransferId, byte[] Header, byte[] Data);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Sending Raft messages to {Silo} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, SiloAddress silo, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Dropped a malformed Raft batch from {Silo}: {Reason}")]
    private static partial void LogBadBatch(ILogger logger, SiloAddress silo, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Sending a snapshot to member {MemberId} on {Silo} failed: {Reason}")]
    private static partial void LogSnapshotSendFailed(ILogger logger, ulong memberId, SiloAddress silo, string reason);
}

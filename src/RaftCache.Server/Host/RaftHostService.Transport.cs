using Microsoft.Extensions.Logging;
using Orleans.Serialization.Buffers;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// Raft traffic between silos: the messages of every group bound for one silo travel in one one-way call per pass,
/// encoded into pooled memory; incoming batches are handed to the groups they belong to.
/// </summary>
internal sealed partial class RaftHostService
{
    private readonly Dictionary<SiloAddress, Outgoing> _outbox = [];

    public void Send(SiloAddress silo, GroupId group, ulong to, IReadOnlyList<Message> messages)
    {
        if (!_outbox.TryGetValue(silo, out var outgoing)) _outbox[silo] = outgoing = new Outgoing();
        outgoing.Add(group, MemberId, to, messages);
        // A batch stays near the size of one append message, so no call grows past what a silo accepts.
        if (outgoing.Length >= Options.MaxSizePerMessage) Deliver(silo, outgoing.Take());
    }

    private void SendOutbox()
    {
        foreach (var (silo, outgoing) in _outbox)
        {
            if (outgoing.Length > 0) Deliver(silo, outgoing.Take());
        }
    }

    private void Deliver(SiloAddress silo, (PooledBuffer Payload, List<(GroupId Group, ulong To)> Recipients) batch) =>
        _ = DeliverAsync(silo, batch.Payload, batch.Recipients);

    private async Task DeliverAsync(SiloAddress silo, PooledBuffer payload, List<(GroupId Group, ulong To)> recipients)
    {
        try
        {
            await Peers.For(silo).Deliver(new RaftBatch { FromSilo = Self, Payload = payload });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One-way calls rarely fail here (only when the message cannot be sent at all); Raft retries by itself.
            LogSendFailed(_logger, silo, e.Message);
            foreach (var (group, to) in recipients)
            {
                if (group.Layout == _layout?.Id && _groups.TryGetValue(group.Index, out var replica)) replica.ReportUnreachable(to);
            }
        }
    }

    public Task Deliver(RaftBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var payload = batch.Payload;
        List<GroupMessages> groups;
        try
        {
            groups = RaftMessageCodec.Decode(payload.AsReadOnlySequence());
        }
        catch (FormatException e)
        {
            LogBadBatch(_logger, batch.FromSilo, e.Message);
            return Task.CompletedTask;
        }
        finally
        {
            payload.Dispose();
        }

        foreach (var segment in groups)
        {
            var leaderTraffic = segment.Messages.Exists(m => m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot);
            Admit(segment.Group, segment.From, segment.To, batch.FromSilo, leaderTraffic)?.Step(segment.From, segment.Messages);
        }

        ScheduleFlush();
        return Task.CompletedTask;
    }

    public async Task<bool> InstallSnapshotChunk(SnapshotChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (Admit(chunk.Group, chunk.From, chunk.To, chunk.FromSilo, fromLeader: true) is not { } replica)
        {
            chunk.Data.Dispose();
            return false;
        }

        var accepted = await replica.ReceiveSnapshotChunkAsync(chunk);
        SendOutbox();
        return accepted;
    }

    /// <summary>The messages queued for one silo since the last send.</summary>
    private sealed class Outgoing
    {
        private readonly PooledBufferWriter _writer;
        private PooledBuffer _buffer;
        private List<(GroupId Group, ulong To)> _recipients = [];

        public Outgoing() => _writer = new PooledBufferWriter(this);

        public int Length => _buffer.Length;

        public void Add(GroupId group, ulong from, ulong to, IReadOnlyList<Message> messages)
        {
            if (_buffer.Length == 0) RaftMessageCodec.WriteBatchHeader(_writer);
            RaftMessageCodec.WriteGroup(_writer, group, from, to, messages);
            _recipients.Add((group, to));
        }

        /// <summary>Hands the queued batch over (the buffer goes with it) and starts a new one.</summary>
        public (PooledBuffer Payload, List<(GroupId Group, ulong To)> Recipients) Take()
        {
            var taken = (_buffer, _recipients);
            _buffer = default;
            _recipients = [];
            return taken;
        }

        // PooledBuffer is a mutable struct: write through the field, never through a copy.
        private sealed class PooledBufferWriter(Outgoing owner) : System.Buffers.IBufferWriter<byte>
        {
            public void Advance(int count) => owner._buffer.Advance(count);

            public Memory<byte> GetMemory(int sizeHint = 0) => owner._buffer.GetMemory(sizeHint);

            public Span<byte> GetSpan(int sizeHint = 0) => owner._buffer.GetSpan(sizeHint);
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Sending Raft messages to {Silo} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, SiloAddress silo, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Dropped a malformed Raft batch from {Silo}: {Reason}")]
    private static partial void LogBadBatch(ILogger logger, SiloAddress silo, string reason);
}

using System.Buffers;
using Microsoft.Extensions.Logging;
using Orleans.Serialization.Buffers;
using RaftCache.Raft;
using RaftCache.Server.Transport;
using RaftCache.StateMachine;

namespace RaftCache.Server.Group;

/// <summary>
/// Snapshots and log compaction (Raft §7), at a cost that does not grow with the cache on the write path: a snapshot
/// is taken only when a follower needs entries the log no longer holds, as a point-in-time view of the state machine
/// that applies do not wait for; it is streamed to the follower in pieces produced on demand, and restored there piece
/// by piece. The log is compacted by bytes and by what the healthy followers still need (design §4, "Snapshots").
/// </summary>
internal sealed partial class GroupReplica
{
    private readonly List<SnapshotSource> _snapshotSources = [];
    private readonly Dictionary<ulong, long> _outgoingTransfers = [];
    private readonly Dictionary<ulong, IncomingSnapshot> _incomingSnapshots = [];
    private RestoredSnapshot? _restored;
    private long _nextTransferId;

    /// <summary>
    /// The storage's snapshot, asked for by the core when a follower needs compacted entries: an existing view if one
    /// covers <paramref name="requestIndex"/> and the log still holds everything after it, otherwise a new view of the
    /// state machine at its applied index (which is at or past every compacted index).
    /// </summary>
    private Snapshot TakeSnapshot(ulong requestIndex)
    {
        var firstIndex = _storage.Log.FirstIndex();
        foreach (var source in _snapshotSources)
        {
            if (source.Index >= requestIndex && source.Index + 1 >= firstIndex) return source.Snapshot;
        }

        var applied = (ulong)_cache.AppliedIndex;
        var metadata = new SnapshotMetadata(applied, _storage.Log.Term(applied), _storage.Log.ConfState);
        var created = new SnapshotSource(new Snapshot(metadata, ReadOnlyMemory<byte>.Empty), _cache.CaptureView(), [.. _host.Routes]);
        _snapshotSources.Add(created);
        LogSnapshotTaken(_logger, Id, applied, created.EntryCount);
        return created.Snapshot;
    }

    /// <summary>Views taken for a snapshot that no transfer uses any more are released, so applies stop copying for them.</summary>
    private void ReleaseUnusedSnapshots()
    {
        for (var i = _snapshotSources.Count - 1; i >= 0; i--)
        {
            if (_snapshotSources[i].Users > 0) continue;
            _snapshotSources[i].Dispose();
            _snapshotSources.RemoveAt(i);
        }
    }

    private void StartSnapshotTransfer(Message message)
    {
        if (_outgoingTransfers.ContainsKey(message.To)) return;
        var index = message.Snapshot!.Metadata.Index;
        var source = _snapshotSources.Find(s => s.Index == index);
        if (source is null || !_host.TryRoute(message.To, out var silo))
        {
            _unreachable.Add(message.To);
            // The core waits in snapshot state until it hears how the transfer went.
            _pendingSnapshotReports.Add((message.To, false));
            return;
        }

        source.Users++;
        var transferId = ++_nextTransferId;
        _outgoingTransfers[message.To] = transferId;
        _ = TransferSnapshotAsync(message, silo, transferId, source);
    }

    private async Task TransferSnapshotAsync(Message message, SiloAddress silo, long transferId, SnapshotSource source)
    {
        var success = false;
        var pieces = 0;
        try
        {
            var header = new ArrayBufferWriter<byte>(256);
            RaftMessageCodec.WriteMessage(header, message);
            var writer = new WireWriter(header);
            MemberContext.WriteMembers(ref writer, source.Routes);
            var producer = source.OpenProducer();
            var chunkBytes = _options.SnapshotChunkBytes;
            bool last;
            do
            {
                // Produced off the replica's scheduler: the view is immutable and readable from any thread.
                IBufferWriter<byte> data = new PooledBuffer();
                last = await Task.Run(() =>
                {
                    producer.WriteNextChunk(data, chunkBytes);
                    return producer.IsCompleted;
                }).ConfigureAwait(true);
                var chunk = new SnapshotChunk
                {
                    Group = Id,
                    From = _host.MemberId,
                    To = message.To,
                    FromSilo = _host.Self,
                    TransferId = transferId,
                    Sequence = pieces,
                    Last = last,
                    Header = pieces == 0 ? header.WrittenSpan.ToArray() : null,
                    Data = (PooledBuffer)data,
                };
                using var cancellation = new CancellationTokenSource(_options.RequestTimeout * 2);
                if (!await _host.Peers.For(silo).InstallSnapshotChunk(chunk).WaitAsync(cancellation.Token)) break;
                pieces++;
                _host.Instruments.OnSnapshotPieceSent();
                if (last)
                {
                    success = true;
                    _host.Instruments.OnSnapshotSent();
                    LogSnapshotSent(_logger, Id, source.Index, message.To, pieces);
                }
            }
            while (!last);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
                LogSnapshotSendFailed(_logger, Id, message.To, silo, e.Message);
        }
        finally
        {
            _outgoingTransfers.Remove(message.To);
            source.Users--;
        }

        if (!success) _unreachable.Add(message.To);
        _pendingSnapshotReports.Add((message.To, success));
        _host.ScheduleFlush();
    }

    /// <summary>
    /// One piece of a snapshot from the leader. Pieces of a transfer arrive in order, one at a time; each is restored
    /// into a new state machine built aside (off the scheduler), and the last one makes the node step the
    /// InstallSnapshot message. The new state replaces the current one only if the node installs the snapshot.
    /// </summary>
    public async Task<bool> ReceiveSnapshotChunkAsync(SnapshotChunk chunk)
    {
        var data = chunk.Data;
        try
        {
            if (_fault is not null) return false;
            IncomingSnapshot? incoming;
            if (chunk.Sequence == 0)
            {
                if (chunk.Header is null) return false;
                var reader = new WireReader(chunk.Header);
                var message = RaftMessageCodec.ReadMessage(ref reader);
                var routes = MemberContext.ReadMembers(ref reader);
                if (message.Type != MessageType.InstallSnapshot || message.Snapshot is null || message.From != chunk.From || message.To != _host.MemberId) return false;
                _incomingSnapshots.Remove(chunk.From);
                incoming = new IncomingSnapshot(chunk.TransferId, message, routes, new SnapshotRestorer(_options.Cache));
                _incomingSnapshots[chunk.From] = incoming;
            }
            else if (!_incomingSnapshots.TryGetValue(chunk.From, out incoming) || incoming.TransferId != chunk.TransferId || incoming.NextSequence != chunk.Sequence)
            {
                        return false;
            }

            incoming.NextSequence++;
            var restorer = incoming.Restorer;
            await Task.Run(() =>
            {
                foreach (var segment in data.AsReadOnlySequence()) restorer.Append(segment.Span);
            }).ConfigureAwait(true);
            if (!chunk.Last) return true;

            if (!_incomingSnapshots.TryGetValue(chunk.From, out var current) || current != incoming) return false;
            _incomingSnapshots.Remove(chunk.From);
            var state = incoming.Restorer.Complete();
            var index = incoming.Message.Snapshot!.Metadata.Index;
            if (state.AppliedIndex != (long)index)
            {
                LogBadSnapshot(_logger, Id, chunk.FromSilo, $"the state is at index {state.AppliedIndex}, the snapshot at {index}");
                return false;
            }

            _restored = new RestoredSnapshot(index, state, incoming.Routes);
            Step(chunk.From, [incoming.Message]);
            ProcessReady();
            _restored = null;
            return true;
        }
        catch (Exception e) when (e is FormatException or SnapshotFormatException)
        {
            _incomingSnapshots.Remove(chunk.From);
            LogBadSnapshot(_logger, Id, chunk.FromSilo, e.Message);
            return false;
        }
        finally
        {
            data.Dispose();
        }
    }

    /// <summary>The node installed a snapshot (in a Ready): swap in the state restored from the streamed pieces.</summary>
    private void InstallReceivedSnapshot(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        if (_restored is not { } restored || restored.Index != index)
        {
            // The node only installs what this replica just stepped, with its data restored: anything else is a bug.
            throw new InvalidOperationException($"The node installed a snapshot at index {index} whose data this replica does not hold.");
        }

        foreach (var (id, silo) in restored.Routes) _host.LearnRoute(id, silo);
        // Published with a volatile write: the façade reads the cache from other threads.
        Volatile.Write(ref _cache, restored.State);
        _host.Instruments.OnSnapshotReceived();
        LogSnapshotInstalled(_logger, Id, index, snapshot.Metadata.Term, restored.State.Count);
    }

    /// <summary>
    /// Compacts the log up to an applied index that no healthy follower still needs, keeping
    /// <see cref="RaftCacheOptions.CompactionRetainedEntries"/> for briefly lagging ones. A log over
    /// <see cref="RaftCacheOptions.MaxLogBytes"/> drops its oldest entries until it holds half the budget, even if a
    /// follower still needs them: that follower is then so far behind that a snapshot serves it better. Compaction
    /// runs in steps of at least the retained count, so its cost is spread over many entries.
    /// </summary>
    private void MaybeCompact()
    {
        var log = _storage.Log;
        var applied = (ulong)_cache.AppliedIndex;
        var retained = (ulong)_options.CompactionRetainedEntries;
        var firstIndex = log.FirstIndex();
        if (applied < firstIndex + retained) return;
        var target = applied - retained;
        if (IsLeader)
        {
            foreach (var (id, progress) in _node.Status.Progress)
            {
                if (id == _host.MemberId || !progress.RecentActive) continue;
                // A follower being sent a snapshot continues from the snapshot's index.
                var needs = progress.State == ProgressState.Snapshot ? progress.PendingSnapshot : progress.Match;
                target = Math.Min(target, needs);
            }

            if (log.LogBytes > _options.MaxLogBytes) target = Math.Min(applied - retained, Math.Max(target, log.CompactionIndexFor(_options.MaxLogBytes / 2)));
        }

        // The compaction step: at least the retained count, so the log's array is not shifted for a few entries.
        if (target < firstIndex + retained) return;
        log.Compact(target);
        LogCompacted(_logger, Id, target, log.LogBytes);
    }

    /// <summary>A snapshot being received: the InstallSnapshot message, the routes, and the state restored so far.</summary>
    private sealed class IncomingSnapshot(long transferId, Message message, List<(ulong MemberId, SiloAddress Silo)> routes, SnapshotRestorer restorer)
    {
        public long TransferId { get; } = transferId;

        public Message Message { get; } = message;

        public List<(ulong MemberId, SiloAddress Silo)> Routes { get; } = routes;

        public SnapshotRestorer Restorer { get; } = restorer;

        public int NextSequence { get; set; }
    }

    private sealed record RestoredSnapshot(ulong Index, CacheStateMachine State, List<(ulong MemberId, SiloAddress Silo)> Routes);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Group {Group}: installed a snapshot at index {Index}, term {Term}, with {Entries} entries")]
    private static partial void LogSnapshotInstalled(ILogger logger, GroupId group, ulong index, ulong term, int entries);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Group {Group}: log compacted up to index {Index}; {Bytes} bytes left")]
    private static partial void LogCompacted(ILogger logger, GroupId group, ulong index, long bytes);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Group {Group}: took a snapshot view at index {Index} ({Entries} entries) for a follower behind the log")]
    private static partial void LogSnapshotTaken(ILogger logger, GroupId group, ulong index, long entries);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Group {Group}: sent the snapshot at index {Index} to member {MemberId} in {Pieces} pieces")]
    private static partial void LogSnapshotSent(ILogger logger, GroupId group, ulong index, ulong memberId, int pieces);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Group {Group}: sending a snapshot to member {MemberId} on {Silo} failed: {Reason}")]
    private static partial void LogSnapshotSendFailed(ILogger logger, GroupId group, ulong memberId, SiloAddress silo, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Group {Group}: dropped a bad snapshot from {Silo}: {Reason}")]
    private static partial void LogBadSnapshot(ILogger logger, GroupId group, SiloAddress silo, string reason);
}

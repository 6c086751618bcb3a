using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// Produces the snapshot of a <see cref="StateMachineView"/> chunk by chunk, on demand: each call writes the next bytes
/// into a buffer the caller supplies, so the whole snapshot is never in memory. Obtained from
/// <see cref="StateMachineView.CreateSnapshotProducer"/>.
/// </summary>
/// <remarks>
/// <para>Every chunk fills the buffer completely except the last: records (entries, sessions) are split across chunks
/// where the buffer ends, so chunk sizes are exact whatever the entry sizes, and the receiver
/// (<see cref="SnapshotRestorer"/>) accepts pieces of any size and boundaries.</para>
/// <para>Threading: any thread, concurrently with applies on the state machine, but one thread at a time per producer.
/// Create one producer per transfer; several producers of one view may run at once.</para>
/// </remarks>
public sealed class SnapshotChunkProducer
{
    // Entries looked ahead at once; see FillBatch.
    private const int BatchSize = 64;

    private readonly StateMachineView _view;
    private readonly byte[][] _batch = new byte[BatchSize][];
    private int _batchPosition;
    private int _batchLength;
    private int _touched;
    private readonly XxHash64 _hash = new();
    private readonly byte[] _staged = new byte[SnapshotFormat.MaxStagedBytes];
    private int _stagedPosition;
    private int _stagedLength;
    private byte[]? _tail; // the entry whose key and value follow the staged prefix
    private int _tailPosition;
    private Phase _phase;
    private int _session;
    private int _result = -1; // -1: the session's fixed part is next
    private int _page;
    private int _slot;
    private long _entries;
    private long _dataBytes;
    private bool _hashFinished;

    internal SnapshotChunkProducer(StateMachineView view) => _view = view;

    private enum Phase
    {
        Header,
        Sessions,
        Entries,
        Checksum,
        Done,
    }

    /// <summary>Bytes produced so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Whether the whole snapshot, checksum included, has been produced.</summary>
    public bool IsCompleted => _phase == Phase.Done && _stagedPosition == _stagedLength;

    /// <summary>
    /// Writes the next chunk into <paramref name="destination"/>: all of it, unless the snapshot ends first.
    /// </summary>
    /// <returns>Bytes written; 0 once <see cref="IsCompleted"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public int WriteNextChunk(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            throw new ArgumentException("The chunk buffer must not be empty.", nameof(destination));
        }

        if (IsCompleted)
        {
            return 0;
        }

        _view.Enter();
        try
        {
            var written = Produce(destination);
            BytesWritten += written;
            return written;
        }
        finally
        {
            _view.Exit();
        }
    }

    /// <summary>Writes the next chunk of at most <paramref name="maxBytes"/> bytes into <paramref name="destination"/> and advances it.</summary>
    /// <returns>Bytes written; 0 once <see cref="IsCompleted"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is below 1.</exception>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public int WriteNextChunk(IBufferWriter<byte> destination, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        if (IsCompleted)
        {
            return 0;
        }

        var span = destination.GetSpan(maxBytes);
        var written = WriteNextChunk(span.Length > maxBytes ? span[..maxBytes] : span);
        destination.Advance(written);
        return written;
    }

    private int Produce(Span<byte> destination)
    {
        var written = 0;
        var hashFrom = 0;
        while (written < destination.Length)
        {
            if (_stagedPosition < _stagedLength)
            {
                var n = Math.Min(_stagedLength - _stagedPosition, destination.Length - written);
                _staged.AsSpan(_stagedPosition, n).CopyTo(destination[written..]);
                _stagedPosition += n;
                written += n;
                continue;
            }

            if (_tail is not null)
            {
                var n = Math.Min(_tail.Length - _tailPosition, destination.Length - written);
                _tail.AsSpan(_tailPosition, n).CopyTo(destination[written..]);
                _tailPosition += n;
                written += n;
                if (_tailPosition == _tail.Length)
                {
                    _tail = null;
                }

                continue;
            }

            if (_phase == Phase.Done)
            {
                break;
            }

            if (_phase == Phase.Checksum)
            {
                // Everything before the checksum is hashed: earlier chunks already, this one up to here.
                _hash.Append(destination[hashFrom..written]);
                hashFrom = written;
                _hashFinished = true;
                BinaryPrimitives.WriteUInt64LittleEndian(_staged, _hash.GetCurrentHashAsUInt64());
                Stage(SnapshotFormat.ChecksumBytes);
                _phase = Phase.Done;
                continue;
            }

            NextRecord();
        }

        if (!_hashFinished)
        {
            _hash.Append(destination[hashFrom..written]);
        }

        return written;
    }

    /// <summary>Stages the next record (or moves to the next phase without staging anything).</summary>
    private void NextRecord()
    {
        var s = _staged.AsSpan();
        switch (_phase)
        {
            case Phase.Header:
                BinaryPrimitives.WriteUInt32LittleEndian(s, SnapshotFormat.Magic);
                BinaryPrimitives.WriteUInt16LittleEndian(s[4..], CacheStateMachine.SnapshotVersion);
                BinaryPrimitives.WriteUInt16LittleEndian(s[6..], 0);
                BinaryPrimitives.WriteInt64LittleEndian(s[8..], _view.AppliedIndex);
                BinaryPrimitives.WriteInt64LittleEndian(s[16..], _view.LogTimeUnixMs);
                BinaryPrimitives.WriteInt64LittleEndian(s[24..], _view.Count);
                BinaryPrimitives.WriteInt64LittleEndian(s[32..], _view.DataBytes);
                BinaryPrimitives.WriteInt64LittleEndian(s[40..], _view.Sessions.Length);
                Stage(SnapshotFormat.HeaderBytes);
                _phase = Phase.Sessions;
                return;

            case Phase.Sessions:
                NextSessionRecord(s);
                return;

            case Phase.Entries:
                NextEntry(s);
                return;

            default:
                throw new InvalidOperationException($"No record follows phase {_phase}.");
        }
    }

    private void NextSessionRecord(Span<byte> s)
    {
        while (_session < _view.Sessions.Length)
        {
            var session = _view.Sessions[_session];
            if (_result < 0)
            {
                BinaryPrimitives.WriteInt64LittleEndian(s, session.Id);
                BinaryPrimitives.WriteInt64LittleEndian(s[8..], session.LastActiveUnixMs);
                BinaryPrimitives.WriteInt64LittleEndian(s[16..], session.LowestUnacked);
                var length = SnapshotFormat.SessionFixedBytes
                    + CommandCodec.WriteVarint(s[SnapshotFormat.SessionFixedBytes..], (ulong)session.Results.Length);
                Stage(length);
                _result = 0;
                return;
            }

            if (_result < session.Results.Length)
            {
                var (sequence, result) = session.Results[_result++];
                BinaryPrimitives.WriteInt64LittleEndian(s, sequence);
                BinaryPrimitives.WriteInt64LittleEndian(s[8..], CacheStateMachine.PackResult(result));
                BinaryPrimitives.WriteInt64LittleEndian(s[16..], result.SessionId);
                BinaryPrimitives.WriteInt64LittleEndian(s[24..], result.Version);
                BinaryPrimitives.WriteInt64LittleEndian(s[32..], result.Number);
                Stage(SnapshotFormat.ResultBytes);
                return;
            }

            _session++;
            _result = -1;
        }

        _phase = Phase.Entries;
    }

    private void NextEntry(Span<byte> s)
    {
        if (_batchPosition == _batchLength)
        {
            FillBatch();
        }

        if (_batchPosition < _batchLength)
        {
            var entry = _batch[_batchPosition];
            _batch[_batchPosition++] = null!;
            var flags = Entry.Flags(entry);
            s[0] = flags;
            BinaryPrimitives.WriteInt64LittleEndian(s[1..], Entry.WriteIndex(entry));
            var length = 9;
            if ((flags & Entry.HasDeadline) != 0)
            {
                BinaryPrimitives.WriteInt64LittleEndian(s[length..], Entry.Deadline(entry));
                length += 8;
            }

            if ((flags & Entry.HasSliding) != 0)
            {
                BinaryPrimitives.WriteInt64LittleEndian(s[length..], Entry.SlidingMs(entry));
                BinaryPrimitives.WriteInt64LittleEndian(s[(length + 8)..], Entry.Cap(entry));
                length += 16;
            }

            var keyLength = Entry.KeyLength(entry);
            var valueLength = Entry.ValueLength(entry);
            length += CommandCodec.WriteVarint(s[length..], (ulong)keyLength);
            length += CommandCodec.WriteVarint(s[length..], (ulong)valueLength);
            Stage(length);
            _tail = entry;
            _tailPosition = Entry.KeyOffset(entry);
            _entries++;
            _dataBytes += keyLength + valueLength;
            return;
        }

        // The header promised these totals; a mismatch would be a bug in the view's copy-on-write, and a snapshot with a
        // valid checksum but wrong contents must never leave this process.
        if (_entries != _view.Count || _dataBytes != _view.DataBytes)
        {
            throw new InvalidOperationException(
                $"The view holds {_entries} entries of {_dataBytes} bytes but was captured with {_view.Count} of {_view.DataBytes}.");
        }

        _phase = Phase.Checksum;
    }

    /// <summary>
    /// Collects the next entries in table order and touches each cache line of each. Table order is hash order, so
    /// consecutive entries lie far apart in memory and each costs cache misses; touching a batch in a tight loop of
    /// independent loads lets the processor overlap those misses instead of taking them one by one while copying
    /// (version 1 wrote heap order, which happened to follow allocation order). Measured at one million entries:
    /// 290–335 ms without, 194–200 ms with (docs/state-machine.md, Performance).
    /// </summary>
    private void FillBatch()
    {
        _batchPosition = 0;
        _batchLength = 0;
        var pages = _view.Pages;
        var touched = 0;
        while (_batchLength < BatchSize && _page < pages.Length)
        {
            var page = pages[_page];
            if (_slot == page.Length)
            {
                _page++;
                _slot = 0;
                continue;
            }

            var entry = page[_slot++];
            if (entry is null || ReferenceEquals(entry, EntryTable.Tombstone))
            {
                continue;
            }

            for (var b = Entry.FixedHeaderBytes - 1; b < entry.Length; b += 64)
            {
                touched += entry[b];
            }

            touched += entry[^1];
            _batch[_batchLength++] = entry;
        }

        _touched += touched; // kept, so that the loads are not optimized away
    }

    private void Stage(int length)
    {
        _stagedPosition = 0;
        _stagedLength = length;
    }
}

using System.Buffers.Binary;
using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// Restores a snapshot received in pieces of any size and boundaries (a record may be split across pieces), building
/// the new state aside as the bytes arrive. <see cref="Complete"/> returns a new <see cref="CacheStateMachine"/> once the
/// whole snapshot, checksum included, checked out.
/// </summary>
/// <remarks>
/// <para>Memory: the state being built plus the piece being appended; the snapshot as a whole is never held. Each
/// entry is allocated in its final form as soon as its lengths are known, and its bytes are copied into it from the
/// pieces.</para>
/// <para>Errors: <see cref="Append"/> and <see cref="Complete"/> throw <see cref="SnapshotFormatException"/> as soon as
/// the bytes seen so far prove the snapshot bad (<see cref="SnapshotFormatError.BadMagic"/>,
/// <see cref="SnapshotFormatError.UnsupportedVersion"/>, <see cref="SnapshotFormatError.InvalidContent"/>,
/// <see cref="SnapshotFormatError.ExceedsLimits"/>, <see cref="SnapshotFormatError.ChecksumMismatch"/>,
/// <see cref="SnapshotFormatError.TrailingBytes"/>; <see cref="SnapshotFormatError.Truncated"/> from
/// <see cref="Complete"/> when the snapshot has not ended). After an error every call throws the same error again, and
/// nothing of the partly built state is ever returned. Content is checked as it arrives, but the checksum only at the
/// end, so a corrupted snapshot may be reported as invalid content rather than as a checksum mismatch.</para>
/// <para>Threading: any thread, one at a time. Not tied to a state machine; the result is published by the caller.</para>
/// </remarks>
public sealed class SnapshotRestorer
{
    // Presize the table for at most this many entries on the header's word alone: the checksum is only known at the end.
    private const int MaxPresizedEntries = 1 << 22;

    private readonly CacheStateMachineOptions _options;
    private readonly long _sessionIdleMs;
    private readonly XxHash64 _hash = new();
    private readonly byte[] _stage = new byte[SnapshotFormat.HeaderBytes];
    private int _staged;
    private ulong _varint;
    private int _varintShift;
    private Phase _phase;
    private bool _hashing = true;
    private SnapshotFormatException? _failure;
    private bool _taken;

    // Header.
    private long _appliedIndex;
    private long _logTime;
    private long _entryCount;
    private long _dataBytes;
    private long _sessionCount;

    // The state being built.
    private EntryTable? _table;
    private EntryHeap? _heap;
    private SessionTable? _sessions;
    private long _sessionsRead;
    private ClientSession? _session;
    private long _resultCount;
    private long _resultsRead;
    private long _previousActivity = long.MinValue;
    private long _previousSequence;
    private long _entriesRead;
    private long _dataRead;
    private byte _flags;
    private long _writeIndex;
    private long _deadline;
    private long _sliding;
    private long _cap;
    private int _keyLength;
    private byte[]? _entry;
    private int _entryPosition;

    /// <summary>Starts a restore for a state machine with <paramref name="options"/> (copied; defaults when <see langword="null"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SnapshotRestorer(CacheStateMachineOptions? options = null)
    {
        _options = CacheStateMachine.ValidatedCopy(options);
        _sessionIdleMs = (long)_options.SessionIdleTimeout.TotalMilliseconds;
    }

    private enum Phase
    {
        Magic,
        Version,
        Header,
        SessionFixed,
        ResultCount,
        Result,
        EntryFlags,
        EntryFields,
        KeyLength,
        ValueLength,
        EntryBody,
        Checksum,
        Done,
    }

    /// <summary>Bytes appended so far.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Whether the whole snapshot has been received and its checksum verified.</summary>
    public bool IsComplete => _phase == Phase.Done && _failure is null;

    /// <summary>Parses the next piece of the snapshot.</summary>
    /// <exception cref="SnapshotFormatException">The bytes so far prove the snapshot bad (see the remarks).</exception>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> has returned already.</exception>
    public void Append(ReadOnlySpan<byte> piece)
    {
        ThrowIfDone();
        try
        {
            BytesReceived += piece.Length;
            var whole = piece;
            while (!piece.IsEmpty)
            {
                if (_phase == Phase.Done)
                {
                    throw new SnapshotFormatException(SnapshotFormatError.TrailingBytes, "Bytes follow the end of the snapshot.");
                }

                piece = piece[Step(piece)..];
                if (_hashing && _phase is Phase.Checksum or Phase.Done)
                {
                    // The checksum covers every byte before it: hash this piece up to where it starts.
                    _hash.Append(whole[..(whole.Length - piece.Length)]);
                    _hashing = false;
                }
            }

            if (_hashing)
            {
                _hash.Append(whole);
            }
        }
        catch (SnapshotFormatException e)
        {
            _failure = e;
            throw;
        }
    }

    /// <summary>Ends the restore and returns the restored state machine, with the options given to this restorer.</summary>
    /// <exception cref="SnapshotFormatException">The snapshot is truncated, or was found bad earlier.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> has returned already.</exception>
    public CacheStateMachine Complete() => new(_options, CompleteState());

    /// <summary>Ends the restore and returns the state built, checked in full.</summary>
    internal RestoredState CompleteState()
    {
        ThrowIfDone();
        if (_phase != Phase.Done)
        {
            _failure = new SnapshotFormatException(SnapshotFormatError.Truncated, "The snapshot ends early: it is truncated.");
            throw _failure;
        }

        _taken = true;
        // Entries arrive in the sender's table order. The heap needs only the order of (deadline, write index), which is
        // total, so any valid heap over the same entries evicts and expires exactly the same entries in the same order as
        // the sender's heap did, although the arrays differ: Floyd's construction builds one in O(n).
        _heap!.Heapify();
        var totalBytes = _dataBytes + (_entryCount * CacheStateMachineOptions.EntryOverheadBytes);
        return new RestoredState(_table!, _heap, _sessions!, _appliedIndex, _logTime, (int)_entryCount, totalBytes);
    }

    private void ThrowIfDone()
    {
        if (_failure is { } failure)
        {
            throw new SnapshotFormatException(failure.Reason, failure.Message);
        }

        if (_taken)
        {
            throw new InvalidOperationException("The restore is complete; start a new SnapshotRestorer for another snapshot.");
        }
    }

    /// <summary>Advances the parse with the bytes of <paramref name="input"/>; returns how many it consumed.</summary>
    private int Step(ReadOnlySpan<byte> input)
    {
        var length = input.Length;
        StepPhase(ref input);
        return length - input.Length;
    }

    private void StepPhase(scoped ref ReadOnlySpan<byte> input)
    {
        ReadOnlySpan<byte> bytes;
        long value;
        switch (_phase)
        {
            case Phase.Magic:
                if (TryTake(ref input, 4, out bytes))
                {
                    if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != SnapshotFormat.Magic)
                    {
                        throw new SnapshotFormatException(SnapshotFormatError.BadMagic, "The data is not a RaftCache state machine snapshot (bad magic).");
                    }

                    _phase = Phase.Version;
                }

                return;

            case Phase.Version:
                if (TryTake(ref input, 2, out bytes))
                {
                    var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
                    if (version != CacheStateMachine.SnapshotVersion)
                    {
                        throw new SnapshotFormatException(SnapshotFormatError.UnsupportedVersion,
                            $"The snapshot has format version {version}; this build reads version {CacheStateMachine.SnapshotVersion} only.");
                    }

                    _phase = Phase.Header;
                }

                return;

            case Phase.Header:
                if (TryTake(ref input, SnapshotFormat.HeaderBytes - 6, out bytes))
                {
                    ReadHeader(bytes);
                }

                return;

            case Phase.SessionFixed:
                if (TryTake(ref input, SnapshotFormat.SessionFixedBytes, out bytes))
                {
                    ReadSession(bytes);
                }

                return;

            case Phase.ResultCount:
                if (TryReadVarint(ref input, _options.MaxInFlightPerSession, "session result count", out value))
                {
                    _resultCount = value;
                    _resultsRead = 0;
                    _previousSequence = _session!.LowestUnacked - 1;
                    _phase = Phase.Result;
                    EndSessionIfComplete();
                }

                return;

            case Phase.Result:
                if (TryTake(ref input, SnapshotFormat.ResultBytes, out bytes))
                {
                    ReadResult(bytes);
                }

                return;

            case Phase.EntryFlags:
                if (TryTake(ref input, 1, out bytes))
                {
                    _flags = bytes[0];
                    if ((_flags & ~Entry.KnownFlags) != 0)
                    {
                        throw Invalid($"entry {_entriesRead} has flags 0x{_flags:x2}, unknown to this build.");
                    }

                    if ((_flags & Entry.HasSliding) != 0 && (_flags & Entry.HasDeadline) == 0)
                    {
                        throw Invalid($"entry {_entriesRead} has a sliding window but no deadline.");
                    }

                    _phase = Phase.EntryFields;
                }

                return;

            case Phase.EntryFields:
                if (TryTake(ref input, Entry.HeaderLength(_flags) - Entry.FixedHeaderBytes + sizeof(long), out bytes))
                {
                    ReadEntryFields(bytes);
                }

                return;

            case Phase.KeyLength:
                if (TryReadVarint(ref input, _options.MaxKeyBytes, "key length", out value))
                {
                    if (value == 0)
                    {
                        throw Invalid($"entry {_entriesRead} has an empty key.");
                    }

                    _keyLength = (int)value;
                    _phase = Phase.ValueLength;
                }

                return;

            case Phase.ValueLength:
                if (TryReadVarint(ref input, _options.MaxValueBytes, "value length", out value))
                {
                    _entry = Entry.Allocate(_keyLength, (int)value, _deadline, _writeIndex, _sliding, _cap);
                    _entryPosition = Entry.KeyOffset(_entry);
                    _phase = Phase.EntryBody;
                }

                return;

            case Phase.EntryBody:
            {
                var n = Math.Min(_entry!.Length - _entryPosition, input.Length);
                input[..n].CopyTo(_entry.AsSpan(_entryPosition));
                input = input[n..];
                _entryPosition += n;
                if (_entryPosition == _entry.Length)
                {
                    EndEntry();
                }

                return;
            }

            case Phase.Checksum:
                if (TryTake(ref input, SnapshotFormat.ChecksumBytes, out bytes))
                {
                    var expected = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                    var actual = _hash.GetCurrentHashAsUInt64();
                    if (expected != actual)
                    {
                        throw new SnapshotFormatException(SnapshotFormatError.ChecksumMismatch,
                            $"The snapshot checksum is {expected:x16} but its contents hash to {actual:x16}: the snapshot is corrupt.");
                    }

                    _phase = Phase.Done;
                }

                return;

            default:
                throw new InvalidOperationException($"Unexpected restore phase {_phase}.");
        }
    }

    private void ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes) != 0)
        {
            throw Invalid("the reserved header field is not zero.");
        }

        _appliedIndex = BinaryPrimitives.ReadInt64LittleEndian(bytes[2..]);
        _logTime = BinaryPrimitives.ReadInt64LittleEndian(bytes[10..]);
        _entryCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[18..]);
        _dataBytes = BinaryPrimitives.ReadInt64LittleEndian(bytes[26..]);
        _sessionCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[34..]);
        if (_appliedIndex < 0 || _logTime < 0 || _entryCount < 0 || _dataBytes < 0 || _sessionCount < 0)
        {
            throw Invalid("a header field is negative.");
        }

        // dataBytes is compared alone first so that adding the overhead cannot overflow.
        if (_entryCount > _options.MaxEntries || _dataBytes > _options.MaxTotalBytes
            || _dataBytes + (_entryCount * CacheStateMachineOptions.EntryOverheadBytes) > _options.MaxTotalBytes)
        {
            throw new SnapshotFormatException(SnapshotFormatError.ExceedsLimits,
                $"The snapshot holds {_entryCount} entries of {_dataBytes} key and value bytes, more than MaxEntries {_options.MaxEntries} or MaxTotalBytes {_options.MaxTotalBytes} allow: the replicas' options differ.");
        }

        if (_sessionCount > _options.MaxSessions)
        {
            throw new SnapshotFormatException(SnapshotFormatError.ExceedsLimits,
                $"The snapshot holds {_sessionCount} sessions; MaxSessions is {_options.MaxSessions}.");
        }

        _table = new EntryTable((int)Math.Min(_entryCount, MaxPresizedEntries));
        _heap = new EntryHeap();
        _sessions = new SessionTable();
        NextSessionOrEntries();
    }

    private void ReadSession(ReadOnlySpan<byte> bytes)
    {
        var id = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var lastActive = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        var lowest = BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]);
        if (id < 1 || id > _appliedIndex || lastActive < _previousActivity || lastActive > _logTime
            || lastActive + _sessionIdleMs <= _logTime || lowest < 1)
        {
            throw Invalid($"session {_sessionsRead} has an impossible id, activity time or sequence.");
        }

        _previousActivity = lastActive;
        _session = new ClientSession(id, lastActive);
        _session.SetLowestUnacked(lowest);
        _phase = Phase.ResultCount;
    }

    private void ReadResult(ReadOnlySpan<byte> bytes)
    {
        var sequence = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var packed = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        var resultSessionId = BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]);
        var version = BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]);
        var number = BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]);
        if (sequence <= _previousSequence)
        {
            throw Invalid($"session {_session!.Id} has results out of order or below its acknowledged sequence.");
        }

        _previousSequence = sequence;
        _session!.AddResult(sequence, CacheStateMachine.UnpackResult(packed, resultSessionId, version, number));
        _resultsRead++;
        EndSessionIfComplete();
    }

    private void EndSessionIfComplete()
    {
        if (_resultsRead < _resultCount)
        {
            return;
        }

        if (!_sessions!.Add(_session!))
        {
            throw Invalid($"session {_session!.Id} appears twice.");
        }

        _session = null;
        _sessionsRead++;
        NextSessionOrEntries();
    }

    private void NextSessionOrEntries()
    {
        if (_sessionsRead < _sessionCount)
        {
            _phase = Phase.SessionFixed;
        }
        else
        {
            NextEntryOrChecksum();
        }
    }

    private void ReadEntryFields(ReadOnlySpan<byte> bytes)
    {
        _writeIndex = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        _deadline = (_flags & Entry.HasDeadline) != 0 ? BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]) : Entry.NoDeadline;
        _sliding = (_flags & Entry.HasSliding) != 0 ? BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]) : 0;
        _cap = (_flags & Entry.HasSliding) != 0 ? BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]) : Entry.NoDeadline;
        if ((_flags & Entry.HasSliding) != 0 && (_sliding <= 0 || _cap < _deadline))
        {
            throw Invalid($"entry {_entriesRead} has a sliding window that is not positive or a cap before its deadline.");
        }
        if (_writeIndex < 1 || _writeIndex > _appliedIndex)
        {
            throw Invalid($"entry {_entriesRead} has a write index outside 1..{_appliedIndex}.");
        }

        // A flagged deadline is a real one: "no deadline" is written as the absence of the flag, never as a value.
        if ((_flags & Entry.HasDeadline) != 0 && (_deadline <= _logTime || _deadline == Entry.NoDeadline))
        {
            throw Invalid($"entry {_entriesRead} has a deadline not after log time.");
        }

        _phase = Phase.KeyLength;
    }

    private void EndEntry()
    {
        var entry = _entry!;
        _entry = null;
        if (!_table!.TryAddNew(entry))
        {
            throw Invalid($"entry {_entriesRead} repeats a key.");
        }

        _heap!.AddUnordered(entry);
        _dataRead += Entry.DataLength(entry);
        _entriesRead++;
        NextEntryOrChecksum();
    }

    private void NextEntryOrChecksum()
    {
        if (_entriesRead < _entryCount)
        {
            _phase = Phase.EntryFlags;
            return;
        }

        if (_dataRead != _dataBytes)
        {
            throw Invalid("the entries' total size does not match the header.");
        }

        _phase = Phase.Checksum;
    }

    /// <summary>Takes <paramref name="count"/> bytes, from the input directly when they are all there, else staged across pieces.</summary>
    private bool TryTake(scoped ref ReadOnlySpan<byte> input, int count, out ReadOnlySpan<byte> bytes)
    {
        if (_staged == 0 && input.Length >= count)
        {
            bytes = input[..count];
            input = input[count..];
            return true;
        }

        var take = Math.Min(count - _staged, input.Length);
        input[..take].CopyTo(_stage.AsSpan(_staged));
        _staged += take;
        input = input[take..];
        if (_staged < count)
        {
            bytes = default;
            return false;
        }

        _staged = 0;
        bytes = _stage.AsSpan(0, count);
        return true;
    }

    /// <summary>Reads an unsigned LEB128 varint of at most ten bytes, which may be split across pieces.</summary>
    private bool TryReadVarint(ref ReadOnlySpan<byte> input, long max, string field, out long value)
    {
        while (!input.IsEmpty)
        {
            var b = input[0];
            input = input[1..];
            _varint |= (ulong)(b & 0x7F) << _varintShift;
            if (b < 0x80)
            {
                var result = _varint;
                _varint = 0;
                _varintShift = 0;
                if (result > (ulong)max)
                {
                    throw Invalid($"{field} is {result}, above its limit {max}.");
                }

                value = (long)result;
                return true;
            }

            _varintShift += 7;
            if (_varintShift > 63)
            {
                throw Invalid($"{field} is a variable-length integer longer than ten bytes.");
            }
        }

        value = 0;
        return false;
    }

    private static SnapshotFormatException Invalid(string message) =>
        new(SnapshotFormatError.InvalidContent, "The snapshot is invalid: " + message);
}

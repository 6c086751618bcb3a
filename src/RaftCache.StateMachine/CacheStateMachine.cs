using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// The replicated cache state: what every replica applies from the committed Raft log. Deterministic: the state is
/// a function of the applied entries alone (no clock, no randomness), so replicas, snapshots and digests agree.
/// </summary>
/// <remarks>
/// <para>Threading: <see cref="Apply(long, ReadOnlyMemory{byte})"/>, <see cref="ApplyNoOp"/>, <see cref="CaptureView"/>,
/// <see cref="WriteSnapshot"/>, <see cref="Restore(Stream)"/> and <see cref="ComputeDigest"/> must be called from one
/// applying thread at a time. A <see cref="StateMachineView"/> is then readable from any thread.
/// <see cref="TryGet(ReadOnlySpan{byte}, long, out ReadOnlyMemory{byte})"/>, <see cref="Count"/>,
/// <see cref="TotalBytes"/>, <see cref="AppliedIndex"/>, <see cref="GetStatistics"/> and the health properties may be
/// called from any thread at any time, without locks.</para>
/// <para>Time: log time is the largest command timestamp applied so far; deadlines and session expiry are judged by
/// log time; reads judge deadlines by the caller's clock.</para>
/// </remarks>
public sealed partial class CacheStateMachine
{
    private readonly CacheStateMachineOptions _options;
    private readonly long _sessionIdleMs;

    // Read by other threads: written with Volatile.Write by the applying thread.
    private EntryTable _table;
    private long _appliedIndex;
    private long _logTime;
    private int _count;
    private long _totalBytes;
    private long _expiredTotal;
    private long _evictedTotal;
    private long _duplicateTotal;
    private long _sessionExpiredTotal;
    private long _sessionsExpiredTotal;
    private StateMachineFaultedException? _fault;

    // Applying thread only.
    private EntryHeap _heap;
    private SessionTable _sessions;

    /// <summary>Creates an empty state machine (applied index 0, log time 0).</summary>
    /// <param name="options">Limits; copied and validated. Defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public CacheStateMachine(CacheStateMachineOptions? options = null)
    {
        _options = ValidatedCopy(options);
        _sessionIdleMs = (long)_options.SessionIdleTimeout.TotalMilliseconds;
        _table = new EntryTable();
        _heap = new EntryHeap();
        _sessions = new SessionTable();
    }

    /// <summary>A state machine holding a restored state; the options are a validated copy already.</summary>
    internal CacheStateMachine(CacheStateMachineOptions validatedOptions, RestoredState state)
    {
        _options = validatedOptions;
        _sessionIdleMs = (long)_options.SessionIdleTimeout.TotalMilliseconds;
        _table = state.Table;
        _heap = state.Heap;
        _sessions = state.Sessions;
        _appliedIndex = state.AppliedIndex;
        _logTime = state.LogTimeUnixMs;
        _count = state.Count;
        _totalBytes = state.TotalBytes;
    }

    /// <summary>A copy of the options in force.</summary>
    public CacheStateMachineOptions Options => _options.Clone();

    /// <summary>Index of the last applied entry (0 before any).</summary>
    public long AppliedIndex => Volatile.Read(ref _appliedIndex);

    /// <summary>Log time in Unix milliseconds: max over applied command timestamps (0 before any).</summary>
    public long LogTimeUnixMs => Volatile.Read(ref _logTime);

    /// <summary>Entries held, including those expired on a reader's clock but not yet in log time.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Bytes charged against <see cref="CacheStateMachineOptions.MaxTotalBytes"/>: the key and value lengths of the
    /// entries held plus <see cref="CacheStateMachineOptions.EntryOverheadBytes"/> per entry.
    /// </summary>
    public long TotalBytes => Volatile.Read(ref _totalBytes);

    /// <summary>Registered, unexpired client sessions.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>
    /// The earliest log time (Unix ms) at which a time-only entry would change the state: the nearest entry deadline or
    /// session idle expiry; <see cref="long.MaxValue"/> if nothing can expire. The leader proposes time entries only
    /// once this is due, so a group that holds nothing expiring costs no log entries while idle. Apply thread only.
    /// </summary>
    public long NextExpiryUnixMs
    {
        get
        {
            var next = _heap.Count > 0 ? Entry.Deadline(_heap.Min) : long.MaxValue;
            if (_sessions.Oldest is { } oldest) next = Math.Min(next, oldest.LastActiveUnixMs + _sessionIdleMs);
            return next;
        }
    }

    /// <summary><see langword="false"/> once a committed entry could not be decoded; the state machine then refuses to apply.</summary>
    public bool IsHealthy => Volatile.Read(ref _fault) is null;

    /// <summary>The reason the state machine stopped, or <see langword="null"/> while healthy.</summary>
    public StateMachineFaultedException? Fault => Volatile.Read(ref _fault);

    /// <summary>Checks a command against this state machine's limits; call on the leader before proposing.</summary>
    /// <exception cref="CommandValidationException">The command breaks a limit.</exception>
    public void Validate(in CacheCommand command) => CommandValidator.Validate(command, _options);

    /// <summary>
    /// Applies the committed entry at <paramref name="index"/>. Entries at or below <see cref="AppliedIndex"/> are
    /// ignored (<see cref="ApplyOutcome.Ignored"/>), so replaying a log over a snapshot is harmless.
    /// </summary>
    /// <param name="index">The entry's Raft log index; must be at most <see cref="AppliedIndex"/> + 1.</param>
    /// <param name="data">The entry's data, as produced by <see cref="CommandCodec"/>; not retained.</param>
    /// <returns>The command's result, to return to the proposer.</returns>
    /// <exception cref="StateMachineFaultedException">The entry cannot be decoded (the state machine is now faulted), or it was faulted earlier.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> skips entries: a driver bug, nothing is applied.</exception>
    public ApplyResult Apply(long index, ReadOnlyMemory<byte> data)
    {
        ThrowIfFaulted();
        if (index <= _appliedIndex)
        {
            return ApplyResult.Ignored;
        }

        EnsureNext(index);
        CacheCommand command;
        try
        {
            command = CommandCodec.Decode(data);
        }
        catch (CommandDecodeException e)
        {
            // A committed entry is never skipped: skipping it on this replica only would make it diverge.
            var fault = new StateMachineFaultedException(index, e);
            Volatile.Write(ref _fault, fault);
            throw fault;
        }

        return ApplyCommand(index, command);
    }

    /// <summary>Advances <see cref="AppliedIndex"/> over an entry without cache command (leader no-op, configuration change).</summary>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> skips entries.</exception>
    public void ApplyNoOp(long index)
    {
        ThrowIfFaulted();
        if (index <= _appliedIndex)
        {
            return;
        }

        EnsureNext(index);
        Volatile.Write(ref _appliedIndex, index);
    }

    /// <summary>Looks up <paramref name="key"/>, hiding an entry whose deadline is at or before <paramref name="nowUnixMs"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="nowUnixMs">The reader's clock, in Unix milliseconds.</param>
    /// <param name="value">The value; do not modify the underlying memory.</param>
    /// <returns>Whether a live entry exists.</returns>
    public bool TryGet(ReadOnlySpan<byte> key, long nowUnixMs, out ReadOnlyMemory<byte> value) =>
        TryGet(key, nowUnixMs, out value, out _);

    /// <summary>Like <see cref="TryGet(ReadOnlySpan{byte}, long, out ReadOnlyMemory{byte})"/>, also returning the deadline.</summary>
    /// <param name="key">The key.</param>
    /// <param name="nowUnixMs">The reader's clock, in Unix milliseconds.</param>
    /// <param name="value">The value; do not modify the underlying memory.</param>
    /// <param name="deadlineUnixMs">The entry's deadline in Unix milliseconds, or <see langword="null"/> if it never expires.</param>
    public bool TryGet(ReadOnlySpan<byte> key, long nowUnixMs, out ReadOnlyMemory<byte> value, out long? deadlineUnixMs)
    {
        var found = TryGetEntry(key, nowUnixMs, out var entry);
        value = entry.Value;
        deadlineUnixMs = entry.DeadlineUnixMs;
        return found;
    }

    /// <summary>Looks up <paramref name="key"/> with its version and expiry, hiding an entry whose deadline is at or before <paramref name="nowUnixMs"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="nowUnixMs">The reader's clock, in Unix milliseconds.</param>
    /// <param name="entry">The entry; its value memory must not be modified.</param>
    /// <returns>Whether a live entry exists.</returns>
    public bool TryGetEntry(ReadOnlySpan<byte> key, long nowUnixMs, out CacheEntryInfo entry)
    {
        // Lock-free: see EntryTable for why; an entry's data and deadline never change after publication.
        var stored = Volatile.Read(ref _table).Find(key);
        if (stored is not null)
        {
            var deadline = Entry.Deadline(stored);
            if (deadline > nowUnixMs)
            {
                var sliding = Entry.SlidingMs(stored);
                entry = new CacheEntryInfo(Entry.ValueMemory(stored), Entry.WriteIndex(stored),
                    deadline == Entry.NoDeadline ? null : deadline, sliding > 0 ? sliding : null);
                return true;
            }
        }

        entry = default;
        return false;
    }

    /// <summary>Whether a live entry exists for <paramref name="key"/> on the reader's clock.</summary>
    public bool ContainsKey(ReadOnlySpan<byte> key, long nowUnixMs) => TryGet(key, nowUnixMs, out _, out _);

    /// <summary>The counters; safe from any thread (see <see cref="CacheStatistics"/> for consistency).</summary>
    public CacheStatistics GetStatistics() => new()
    {
        AppliedIndex = AppliedIndex,
        LogTimeUnixMs = LogTimeUnixMs,
        Count = Count,
        TotalBytes = TotalBytes,
        SessionCount = SessionCount,
        ExpiredTotal = Volatile.Read(ref _expiredTotal),
        EvictedTotal = Volatile.Read(ref _evictedTotal),
        DuplicateTotal = Volatile.Read(ref _duplicateTotal),
        SessionExpiredTotal = Volatile.Read(ref _sessionExpiredTotal),
        SessionsExpiredTotal = Volatile.Read(ref _sessionsExpiredTotal),
    };

    /// <summary>
    /// A 64-bit digest of the replicated state: applied index, log time, every entry (key, value, deadline, write
    /// index, sliding window and cap) and every session (id, last activity, acknowledged sequence, saved results, order). Equal states give
    /// equal digests on any replica. Applying thread only; O(entries).
    /// </summary>
    public ulong ComputeDigest()
    {
        // Entries are hashed one by one and summed, so the digest does not depend on the dictionary's order; a change
        // to any field changes that entry's 64-bit hash and so the sum (up to hash collisions).
        var entryHash = new XxHash3();
        ulong entrySum = 0;
        Span<byte> scratch = stackalloc byte[32];
        for (var i = 0; i < _heap.Count; i++)
        {
            var entry = _heap[i];
            entryHash.Reset();
            WriteInt64(scratch, Entry.KeyLength(entry));
            entryHash.Append(scratch[..8]);
            entryHash.Append(Entry.Data(entry));
            WriteInt64(scratch, Entry.Deadline(entry));
            WriteInt64(scratch[8..], Entry.WriteIndex(entry));
            WriteInt64(scratch[16..], Entry.SlidingMs(entry));
            WriteInt64(scratch[24..], Entry.Cap(entry));
            entryHash.Append(scratch);
            entrySum += entryHash.GetCurrentHashAsUInt64();
        }

        var digest = new XxHash3();
        AppendInt64(digest, _appliedIndex);
        AppendInt64(digest, _logTime);
        AppendInt64(digest, _count);
        AppendInt64(digest, _totalBytes);
        AppendInt64(digest, (long)entrySum);
        AppendInt64(digest, _sessions.Count);
        foreach (var session in _sessions.InActivityOrder())
        {
            AppendInt64(digest, session.Id);
            AppendInt64(digest, session.LastActiveUnixMs);
            AppendInt64(digest, session.LowestUnacked);
            AppendInt64(digest, session.Results.Count);
            foreach (var (sequence, result) in SortedResults(session))
            {
                AppendInt64(digest, sequence);
                AppendInt64(digest, PackResult(result));
                AppendInt64(digest, result.SessionId);
                AppendInt64(digest, result.Version);
                AppendInt64(digest, result.Number);
            }
        }

        return digest.GetCurrentHashAsUInt64();
    }

    /// <summary>
    /// Applies a decoded command. Internal so that tests and benchmarks can skip the codec; the replica always goes
    /// through <see cref="Apply(long, ReadOnlyMemory{byte})"/>.
    /// </summary>
    internal ApplyResult ApplyCommand(long index, in CacheCommand command)
    {
        ThrowIfFaulted();
        if (index <= _appliedIndex)
        {
            return ApplyResult.Ignored;
        }

        EnsureNext(index);
        var result = Execute(index, command);
        Volatile.Write(ref _appliedIndex, index);
        return result;
    }

    /// <summary>The current key table (tests and benchmarks: page copies). Applying thread only.</summary>
    internal EntryTable Table => _table;

    /// <summary>Entries sorted by key (for tests and diagnostics). Applying thread only.</summary>
    internal List<(byte[] Key, byte[] Value, long DeadlineUnixMs, long WriteIndex)> GetEntriesSorted()
    {
        var list = new List<(byte[] Key, byte[] Value, long DeadlineUnixMs, long WriteIndex)>(_heap.Count);
        for (var i = 0; i < _heap.Count; i++)
        {
            var e = _heap[i];
            list.Add((Entry.Key(e).ToArray(), Entry.Value(e).ToArray(), Entry.Deadline(e), Entry.WriteIndex(e)));
        }

        list.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        return list;
    }

    /// <summary>Sessions in activity order with results sorted by sequence (for tests and diagnostics). Applying thread only.</summary>
    internal List<(long Id, long LastActiveUnixMs, long LowestUnacked, List<(long Sequence, ApplyResult Result)> Results)> GetSessions()
    {
        var list = new List<(long, long, long, List<(long, ApplyResult)>)>();
        foreach (var s in _sessions.InActivityOrder())
        {
            list.Add((s.Id, s.LastActiveUnixMs, s.LowestUnacked, SortedResults(s)));
        }

        return list;
    }

    private ApplyResult Execute(long index, in CacheCommand command)
    {
        // Checked again on apply: if a proposer skipped validation, every replica rejects the entry the same way, and
        // a rejected entry has no effect at all (not even on log time, since its timestamp may be the bad field).
        var error = CommandValidator.Check(command, _options);
        if (error != CommandValidationError.None)
        {
            return new ApplyResult(ApplyOutcome.Rejected, command.Kind, error: error);
        }

        // Log time never moves backwards: a new leader whose clock lags cannot un-expire entries.
        if (command.TimestampUnixMs > _logTime)
        {
            Volatile.Write(ref _logTime, command.TimestampUnixMs);
            ExpireEntries();
            ExpireSessions();
        }

        switch (command.Kind)
        {
            case CommandKind.Tick:
                return new ApplyResult(ApplyOutcome.Applied, CommandKind.Tick);
            case CommandKind.RegisterSession:
                return RegisterSession(index);
        }

        if (!command.HasSession)
        {
            return ExecuteWrite(index, command);
        }

        // Raft thesis §6.3: a command whose (session, sequence) was applied is answered from the saved result.
        if (!_sessions.TryGet(command.SessionId, out var session))
        {
            Volatile.Write(ref _sessionExpiredTotal, _sessionExpiredTotal + 1);
            return new ApplyResult(ApplyOutcome.SessionExpired, command.Kind);
        }

        _sessions.Touch(session, _logTime);
        session.Acknowledge(command.LowestUnackedSequence);
        if (session.Results.TryGetValue(command.Sequence, out var saved))
        {
            Volatile.Write(ref _duplicateTotal, _duplicateTotal + 1);
            return saved;
        }

        if (command.Sequence < session.LowestUnacked)
        {
            // The client said it saw this answer, so the result is gone; applying again could apply twice.
            return new ApplyResult(ApplyOutcome.StaleSequence, command.Kind);
        }

        var result = ExecuteWrite(index, command);
        session.AddResult(command.Sequence, result);
        return result;
    }

    private ApplyResult ExecuteWrite(long index, in CacheCommand command)
    {
        switch (command.Kind)
        {
            case CommandKind.Put:
                return Put(index, command);
            case CommandKind.Delete:
            {
                var existed = RemoveKey(command.Key.Span);
                return new ApplyResult(ApplyOutcome.Applied, CommandKind.Delete, keyExisted: existed);
            }

            case CommandKind.Increment:
                return Increment(index, command);
            case CommandKind.Refresh:
                return Refresh(command);

            default:
            {
                var removed = _count;
                Volatile.Write(ref _table, new EntryTable());
                _heap = new EntryHeap();
                Volatile.Write(ref _count, 0);
                Volatile.Write(ref _totalBytes, 0);
                return new ApplyResult(ApplyOutcome.Applied, CommandKind.Clear, count: removed);
            }
        }
    }

    private ApplyResult Put(long index, in CacheCommand command)
    {
        var keySpan = command.Key.Span;
        var hash = EntryTable.Hash(keySpan);
        var old = _table.Find(keySpan, hash);
        if (command.ExpectedVersion is { } expected)
        {
            // Entries past their deadline in log time are gone from the table (expiry runs as log time advances, before
            // this), so "absent" means absent in log time, the same on every replica.
            // Two branches rather than "old is null ? 0 : WriteIndex(old)": the .NET 10 JIT turned that conditional into a
            // cmov with a memory operand, which reads through the null reference (found by the property tests).
            if (old is null)
            {
                if (expected != 0) return new ApplyResult(ApplyOutcome.ConditionFailed, CommandKind.Put, keyExisted: false, version: 0);
            }
            else if (Entry.WriteIndex(old) is var current && current != expected)
            {
                return new ApplyResult(ApplyOutcome.ConditionFailed, CommandKind.Put, keyExisted: true, version: current);
            }
        }

        // The absolute bound is the earlier of TTL and absolute expiry; a sliding window starts now and never passes it.
        var cap = Entry.NoDeadline;
        if (command.TtlMilliseconds is { } ttl) cap = command.TimestampUnixMs + ttl;
        if (command.AbsoluteDeadlineUnixMs is { } absolute) cap = Math.Min(cap, absolute);
        var sliding = command.SlidingMilliseconds ?? 0;
        var deadline = sliding > 0 ? Math.Min(command.TimestampUnixMs + sliding, cap) : cap;
        if (deadline <= _logTime)
        {
            // Already expired in log time: the key ends up absent, as if the Put had been applied and then expired.
            var removed = RemoveKey(keySpan);
            return new ApplyResult(ApplyOutcome.Applied, CommandKind.Put, keyExisted: removed, stored: false);
        }

        var evicted = Store(index, keySpan, hash, old, command.Value.Span, deadline, sliding, cap);
        return new ApplyResult(ApplyOutcome.Applied, CommandKind.Put, keyExisted: old is not null, stored: true, count: evicted, version: index);
    }

    private ApplyResult Increment(long index, in CacheCommand command)
    {
        var keySpan = command.Key.Span;
        var hash = EntryTable.Hash(keySpan);
        var old = _table.Find(keySpan, hash);
        long current = 0;
        if (old is not null && !long.TryParse(Entry.Value(old), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out current))
        {
            return new ApplyResult(ApplyOutcome.NotAnInteger, CommandKind.Increment, keyExisted: true, version: Entry.WriteIndex(old));
        }

        var delta = command.Delta;
        if ((delta > 0 && current > long.MaxValue - delta) || (delta < 0 && current < long.MinValue - delta))
        {
            return old is null
                ? new ApplyResult(ApplyOutcome.Overflow, CommandKind.Increment, number: current)
                : new ApplyResult(ApplyOutcome.Overflow, CommandKind.Increment, keyExisted: true, version: Entry.WriteIndex(old), number: current);
        }

        var next = current + delta;
        Span<byte> digits = stackalloc byte[20];
        next.TryFormat(digits, out var length, default, CultureInfo.InvariantCulture);

        // An existing entry keeps its expiry (as Redis' INCR keeps a key's TTL); a new one takes the command's TTL.
        long deadline, sliding = 0, cap = Entry.NoDeadline;
        if (old is not null)
        {
            deadline = Entry.Deadline(old);
            sliding = Entry.SlidingMs(old);
            cap = Entry.Cap(old);
        }
        else
        {
            deadline = command.TtlMilliseconds is { } ttl ? command.TimestampUnixMs + ttl : Entry.NoDeadline;
            if (deadline <= _logTime)
            {
                return new ApplyResult(ApplyOutcome.Applied, CommandKind.Increment, stored: false, number: next);
            }
        }

        var evicted = Store(index, keySpan, hash, old, digits[..length], deadline, sliding, cap);
        return new ApplyResult(ApplyOutcome.Applied, CommandKind.Increment, keyExisted: old is not null, stored: true, count: evicted,
            version: index, number: next);
    }

    private ApplyResult Refresh(in CacheCommand command)
    {
        var keySpan = command.Key.Span;
        var hash = EntryTable.Hash(keySpan);
        var old = _table.Find(keySpan, hash);
        if (old is null)
        {
            return new ApplyResult(ApplyOutcome.Applied, CommandKind.Refresh);
        }

        // Log time rather than the command's timestamp: it never moves back, so a refresh stamped by a leader whose
        // clock lags cannot shorten a window another refresh extended.
        var sliding = Entry.SlidingMs(old);
        if (sliding > 0)
        {
            var deadline = Math.Min(_logTime + sliding, Entry.Cap(old));
            if (deadline > Entry.Deadline(old))
            {
                // Entries are immutable once published (readers and views share them), so the new deadline is a new entry.
                var entry = Entry.WithDeadline(old, deadline);
                _heap.Remove(old);
                _table.Set(entry, hash);
                _heap.Add(entry);
            }
        }

        return new ApplyResult(ApplyOutcome.Applied, CommandKind.Refresh, keyExisted: true, version: Entry.WriteIndex(old));
    }

    /// <summary>Stores a new entry for a key whose current entry is <paramref name="old"/>, evicting to make room; returns the evictions.</summary>
    private int Store(long index, ReadOnlySpan<byte> keySpan, int hash, byte[]? old, ReadOnlySpan<byte> value, long deadline, long sliding, long cap)
    {
        var table = _table;
        if (old is not null)
        {
            // The old entry stays visible to readers until the new one replaces it below; it leaves the heap and the
            // totals now so that making room never evicts it and never counts it twice.
            _heap.Remove(old);
            Account(-1, -Entry.Cost(old));
        }

        var size = (long)keySpan.Length + value.Length + CacheStateMachineOptions.EntryOverheadBytes;
        var evicted = 0;
        // Make room before inserting, so the entry being written is never its own victim; options guarantee that a
        // single valid entry fits (MaxTotalBytes >= MaxKeyBytes + MaxValueBytes + EntryOverheadBytes, MaxEntries >= 1).
        while (_heap.Count > 0 && (_count + 1 > _options.MaxEntries || _totalBytes + size > _options.MaxTotalBytes))
        {
            var victim = _heap.RemoveMin();
            table.Remove(Entry.Key(victim));
            Account(-1, -Entry.Cost(victim));
            evicted++;
        }

        if (evicted > 0)
        {
            Volatile.Write(ref _evictedTotal, _evictedTotal + evicted);
        }

        var entry = Entry.Create(keySpan, value, deadline, index, sliding, cap);
        table.Set(entry, hash);
        _heap.Add(entry);
        Account(1, size);
        return evicted;
    }

    private bool RemoveKey(ReadOnlySpan<byte> key)
    {
        var entry = _table.Remove(key);
        if (entry is null)
        {
            return false;
        }

        _heap.Remove(entry);
        Account(-1, -Entry.Cost(entry));
        return true;
    }

    private void ExpireEntries()
    {
        var expired = 0;
        while (_heap.Count > 0 && Entry.Deadline(_heap.Min) <= _logTime)
        {
            var entry = _heap.RemoveMin();
            _table.Remove(Entry.Key(entry));
            Account(-1, -Entry.Cost(entry));
            expired++;
        }

        if (expired > 0)
        {
            Volatile.Write(ref _expiredTotal, _expiredTotal + expired);
        }
    }

    private void ExpireSessions()
    {
        while (_sessions.Oldest is { } oldest && oldest.LastActiveUnixMs + _sessionIdleMs <= _logTime)
        {
            _sessions.Remove(oldest);
            Volatile.Write(ref _sessionsExpiredTotal, _sessionsExpiredTotal + 1);
        }
    }

    private ApplyResult RegisterSession(long index)
    {
        // A full table drops the least recently active session (deterministic: the order is a function of the log).
        while (_sessions.Count >= _options.MaxSessions && _sessions.Oldest is { } oldest)
        {
            _sessions.Remove(oldest);
            Volatile.Write(ref _sessionsExpiredTotal, _sessionsExpiredTotal + 1);
        }

        // The id is the entry's log index: unique, positive, and the same on every replica.
        _sessions.Add(new ClientSession(index, _logTime));
        return new ApplyResult(ApplyOutcome.Applied, CommandKind.RegisterSession, sessionId: index);
    }

    private void Account(int entries, long bytes)
    {
        Volatile.Write(ref _count, _count + entries);
        Volatile.Write(ref _totalBytes, _totalBytes + bytes);
    }

    /// <summary>Copies and validates options.</summary>
    internal static CacheStateMachineOptions ValidatedCopy(CacheStateMachineOptions? options)
    {
        var copy = (options ?? new CacheStateMachineOptions()).Clone();
        copy.Validate();
        return copy;
    }

    private void EnsureNext(long index)
    {
        if (index != _appliedIndex + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"Entries must be applied in log order: the next index is {_appliedIndex + 1}, not {index}.");
        }
    }

    private void ThrowIfFaulted()
    {
        if (Volatile.Read(ref _fault) is { } fault)
        {
            throw new StateMachineFaultedException(fault.FaultedIndex, fault.Fault);
        }
    }

    internal static List<(long Sequence, ApplyResult Result)> SortedResults(ClientSession session)
    {
        var list = new List<(long, ApplyResult)>(session.Results.Count);
        foreach (var pair in session.Results)
        {
            list.Add((pair.Key, pair.Value));
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    // Outcome, kind, flags, error and count in one long: the compact form used by the digest and snapshots.
    internal static long PackResult(ApplyResult r) =>
        (long)r.Outcome | ((long)r.Kind << 8) | ((r.KeyExisted ? 1L : 0) << 16) | ((r.Stored ? 1L : 0) << 17)
        | ((long)r.Error << 24) | ((long)(uint)r.Count << 32);

    internal static ApplyResult UnpackResult(long packed, long sessionId, long version, long number) => new(
        (ApplyOutcome)(byte)packed, (CommandKind)(byte)(packed >> 8), ((packed >> 16) & 1) != 0, ((packed >> 17) & 1) != 0,
        (int)(uint)(packed >> 32), sessionId, (CommandValidationError)(byte)(packed >> 24), version, number);

    private static void WriteInt64(Span<byte> destination, long value) => BinaryPrimitives.WriteInt64LittleEndian(destination, value);

    private static void AppendInt64(XxHash3 hash, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        WriteInt64(bytes, value);
        hash.Append(bytes);
    }
}

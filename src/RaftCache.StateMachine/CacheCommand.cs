namespace RaftCache.StateMachine;

/// <summary>
/// One cache command as proposed to Raft. Built on the leader (which stamps <see cref="TimestampUnixMs"/> from its
/// clock), validated with <see cref="CommandValidator"/>, and encoded with <see cref="CommandCodec"/>.
/// </summary>
/// <remarks>
/// Key and value are not copied: a decoded command points into the payload it was decoded from, and the state machine
/// copies what it stores. Writes (Put, Delete, Clear) may carry a client session (Raft thesis §6.3): the session id,
/// this command's sequence number, and the lowest sequence number the client has not yet seen answered.
/// </remarks>
public readonly struct CacheCommand
{
    internal CacheCommand(CommandKind kind, long timestampUnixMs, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value,
        long? ttlMilliseconds, long sessionId, long sequence, long lowestUnackedSequence)
    {
        Kind = kind;
        TimestampUnixMs = timestampUnixMs;
        Key = key;
        Value = value;
        TtlMilliseconds = ttlMilliseconds;
        SessionId = sessionId;
        Sequence = sequence;
        LowestUnackedSequence = lowestUnackedSequence;
    }

    /// <summary>The command kind.</summary>
    public CommandKind Kind { get; }

    /// <summary>The proposing leader's clock when the command was built, in Unix milliseconds.</summary>
    public long TimestampUnixMs { get; }

    /// <summary>The key of a Put or Delete; empty otherwise.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>The value of a Put; empty otherwise.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>Time to live of a Put in milliseconds; <see langword="null"/> for an entry that never expires.</summary>
    public long? TtlMilliseconds { get; }

    /// <summary>Client session id, or 0 for a command outside any session.</summary>
    public long SessionId { get; }

    /// <summary>The command's sequence number within its session (from 1); 0 without session.</summary>
    public long Sequence { get; }

    /// <summary>The lowest sequence number whose answer the client has not yet seen; 0 without session.</summary>
    public long LowestUnackedSequence { get; }

    /// <summary>Whether the command carries a client session.</summary>
    public bool HasSession => SessionId != 0;

    /// <summary>A Put of <paramref name="value"/> under <paramref name="key"/>.</summary>
    /// <param name="key">The key (copied by the state machine when applied).</param>
    /// <param name="value">The value.</param>
    /// <param name="ttl">Time to live from <paramref name="timestampUnixMs"/>, rounded up to whole milliseconds; <see langword="null"/> for no expiry.</param>
    /// <param name="timestampUnixMs">The leader's clock.</param>
    public static CacheCommand Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, TimeSpan? ttl, long timestampUnixMs) =>
        new(CommandKind.Put, timestampUnixMs, key, value, ttl is { } t ? ToMilliseconds(t) : null, 0, 0, 0);

    /// <summary>A Delete of <paramref name="key"/>.</summary>
    public static CacheCommand Delete(ReadOnlyMemory<byte> key, long timestampUnixMs) =>
        new(CommandKind.Delete, timestampUnixMs, key, default, null, 0, 0, 0);

    /// <summary>A Clear of all entries.</summary>
    public static CacheCommand Clear(long timestampUnixMs) =>
        new(CommandKind.Clear, timestampUnixMs, default, default, null, 0, 0, 0);

    /// <summary>Registration of a new client session; the result carries the session id.</summary>
    public static CacheCommand RegisterSession(long timestampUnixMs) =>
        new(CommandKind.RegisterSession, timestampUnixMs, default, default, null, 0, 0, 0);

    /// <summary>A time-only entry that advances log time to <paramref name="timestampUnixMs"/>.</summary>
    public static CacheCommand Tick(long timestampUnixMs) =>
        new(CommandKind.Tick, timestampUnixMs, default, default, null, 0, 0, 0);

    /// <summary>This write, made part of a client session (Raft thesis §6.3).</summary>
    /// <param name="sessionId">The id returned by RegisterSession (a positive log index).</param>
    /// <param name="sequence">The command's sequence number in the session, from 1.</param>
    /// <param name="lowestUnackedSequence">The lowest sequence number the client has not yet seen answered (at most <paramref name="sequence"/>).</param>
    /// <exception cref="InvalidOperationException">The command is not a Put, Delete or Clear.</exception>
    public CacheCommand WithSession(long sessionId, long sequence, long lowestUnackedSequence)
    {
        if (Kind is not (CommandKind.Put or CommandKind.Delete or CommandKind.Clear))
        {
            throw new InvalidOperationException($"A {Kind} command cannot carry a client session.");
        }

        return new(Kind, TimestampUnixMs, Key, Value, TtlMilliseconds, sessionId, sequence, lowestUnackedSequence);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind}@{TimestampUnixMs} key={Key.Length}B value={Value.Length}B ttl={TtlMilliseconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}" +
        (HasSession ? $" session={SessionId}#{Sequence} (lowest unacked {LowestUnackedSequence})" : string.Empty);

    // Rounds up so that a TTL of 0.4 ms is 1 ms rather than an invalid 0; non-positive spans stay non-positive.
    private static long ToMilliseconds(TimeSpan ttl) =>
        ttl.Ticks > 0 ? (ttl.Ticks / TimeSpan.TicksPerMillisecond) + (ttl.Ticks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1)
                      : ttl.Ticks / TimeSpan.TicksPerMillisecond;
}

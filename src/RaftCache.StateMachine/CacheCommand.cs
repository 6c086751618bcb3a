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
        : this(kind, timestampUnixMs, key, value, ttlMilliseconds, sessionId, sequence, lowestUnackedSequence, default)
    {
    }

    internal CacheCommand(CommandKind kind, long timestampUnixMs, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value,
        long? ttlMilliseconds, long sessionId, long sequence, long lowestUnackedSequence, in CommandExtras extras)
    {
        Kind = kind;
        TimestampUnixMs = timestampUnixMs;
        Key = key;
        Value = value;
        TtlMilliseconds = ttlMilliseconds;
        SessionId = sessionId;
        Sequence = sequence;
        LowestUnackedSequence = lowestUnackedSequence;
        SlidingMilliseconds = extras.SlidingMilliseconds;
        AbsoluteDeadlineUnixMs = extras.AbsoluteDeadlineUnixMs;
        ExpectedVersion = extras.ExpectedVersion;
        Delta = extras.Delta;
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

    /// <summary>
    /// Put: sliding expiration in milliseconds. The entry expires once this long passes in log time without a
    /// <see cref="CommandKind.Refresh"/>, but never after its absolute bound (TTL or <see cref="AbsoluteDeadlineUnixMs"/>).
    /// </summary>
    public long? SlidingMilliseconds { get; }

    /// <summary>Put: an absolute expiry in Unix milliseconds (log time), combined with the TTL by taking the earlier.</summary>
    public long? AbsoluteDeadlineUnixMs { get; }

    /// <summary>
    /// Put: the condition. <see langword="null"/>: unconditional; 0: only if the key is absent; otherwise only if the
    /// key's version (the log index of its last write) equals it.
    /// </summary>
    public long? ExpectedVersion { get; }

    /// <summary>Increment: the signed amount to add.</summary>
    public long Delta { get; }

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

    /// <summary>A Put with sliding expiration, an absolute bound and a condition (each optional).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="ttl">Time to live from <paramref name="timestampUnixMs"/>; an absolute bound, like <paramref name="absoluteDeadlineUnixMs"/>.</param>
    /// <param name="timestampUnixMs">The leader's clock.</param>
    /// <param name="sliding">Sliding expiration; <see langword="null"/> for none.</param>
    /// <param name="absoluteDeadlineUnixMs">Absolute expiry in Unix milliseconds; <see langword="null"/> for none.</param>
    /// <param name="expectedVersion">See <see cref="ExpectedVersion"/>.</param>
    public static CacheCommand Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, TimeSpan? ttl, long timestampUnixMs,
        TimeSpan? sliding, long? absoluteDeadlineUnixMs, long? expectedVersion) =>
        new(CommandKind.Put, timestampUnixMs, key, value, ttl is { } t ? ToMilliseconds(t) : null, 0, 0, 0,
            new CommandExtras(sliding is { } s ? ToMilliseconds(s) : null, absoluteDeadlineUnixMs, expectedVersion, 0));

    /// <summary>An Increment of <paramref name="key"/> by <paramref name="delta"/>; <paramref name="ttl"/> applies only if the key is created.</summary>
    public static CacheCommand Increment(ReadOnlyMemory<byte> key, long delta, TimeSpan? ttl, long timestampUnixMs) =>
        new(CommandKind.Increment, timestampUnixMs, key, default, ttl is { } t ? ToMilliseconds(t) : null, 0, 0, 0,
            new CommandExtras(null, null, null, delta));

    /// <summary>A Refresh of <paramref name="key"/>'s sliding expiration.</summary>
    public static CacheCommand Refresh(ReadOnlyMemory<byte> key, long timestampUnixMs) =>
        new(CommandKind.Refresh, timestampUnixMs, key, default, null, 0, 0, 0);

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
    /// <exception cref="InvalidOperationException">The command is not a write (RegisterSession and Tick are not).</exception>
    public CacheCommand WithSession(long sessionId, long sequence, long lowestUnackedSequence)
    {
        if (!IsSessionWrite(Kind))
        {
            throw new InvalidOperationException($"A {Kind} command cannot carry a client session.");
        }

        return new(Kind, TimestampUnixMs, Key, Value, TtlMilliseconds, sessionId, sequence, lowestUnackedSequence, Extras);
    }

    /// <summary>Whether commands of <paramref name="kind"/> may carry a client session.</summary>
    internal static bool IsSessionWrite(CommandKind kind) =>
        kind is CommandKind.Put or CommandKind.Delete or CommandKind.Clear or CommandKind.Increment or CommandKind.Refresh;

    internal CommandExtras Extras => new(SlidingMilliseconds, AbsoluteDeadlineUnixMs, ExpectedVersion, Delta);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind}@{TimestampUnixMs} key={Key.Length}B value={Value.Length}B ttl={TtlMilliseconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}" +
        (SlidingMilliseconds is { } sliding ? $" sliding={sliding}" : string.Empty) +
        (AbsoluteDeadlineUnixMs is { } absolute ? $" absolute={absolute}" : string.Empty) +
        (ExpectedVersion is { } expected ? $" if-version={expected}" : string.Empty) +
        (Kind == CommandKind.Increment ? $" delta={Delta}" : string.Empty) +
        (HasSession ? $" session={SessionId}#{Sequence} (lowest unacked {LowestUnackedSequence})" : string.Empty);

    // Rounds up so that a TTL of 0.4 ms is 1 ms rather than an invalid 0; non-positive spans stay non-positive.
    private static long ToMilliseconds(TimeSpan ttl) =>
        ttl.Ticks > 0 ? (ttl.Ticks / TimeSpan.TicksPerMillisecond) + (ttl.Ticks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1)
                      : ttl.Ticks / TimeSpan.TicksPerMillisecond;
}

/// <summary>The optional fields of a command that most commands leave empty.</summary>
internal readonly record struct CommandExtras(long? SlidingMilliseconds, long? AbsoluteDeadlineUnixMs, long? ExpectedVersion, long Delta);

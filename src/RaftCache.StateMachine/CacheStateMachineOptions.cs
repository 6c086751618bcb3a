using System.Globalization;

namespace RaftCache.StateMachine;

/// <summary>
/// Limits and bounds of the replicated cache. Every replica of one Raft group must use equal options: the capacity
/// bound and session limits decide what apply does, so unequal options make replicas diverge.
/// </summary>
/// <remarks>
/// The state machine copies the options when it is constructed; changing this object afterwards has no effect on it.
/// </remarks>
public sealed class CacheStateMachineOptions
{
    /// <summary>Largest timestamp a command may carry: 9999-12-31T23:59:59.999Z in Unix milliseconds.</summary>
    /// <remarks>Keeps timestamp + TTL far from <see cref="long.MaxValue"/>, so deadlines never overflow.</remarks>
    public const long MaxTimestampUnixMs = 253_402_300_799_999;

    /// <summary>Upper limit accepted for <see cref="MaxTtl"/>: 100 years.</summary>
    public static readonly TimeSpan MaxTtlCeiling = TimeSpan.FromDays(36_525);

    /// <summary>Upper limit accepted for <see cref="MaxValueBytes"/> and <see cref="MaxKeyBytes"/>: 64 MiB.</summary>
    public const int MaxItemBytesCeiling = 64 * 1024 * 1024;

    /// <summary>
    /// Bytes charged per entry beyond its key and value against <see cref="MaxTotalBytes"/> (and counted in
    /// <see cref="CacheStateMachine.TotalBytes"/>): close to what an entry really costs in memory besides its key and
    /// value (entry header, array header, key-table slot and eviction-heap slot; measured 69 to 73 bytes at one million
    /// entries, see docs/state-machine.md). A constant, so that the accounting is identical on every replica.
    /// </summary>
    public const int EntryOverheadBytes = 72;

    /// <summary>Largest key in bytes.</summary>
    /// <value>Default 1024 (1 KiB). At least 1.</value>
    public int MaxKeyBytes { get; set; } = 1024;

    /// <summary>
    /// Largest value in bytes. An encoded Put must fit one Raft message, so keep this plus
    /// <see cref="MaxKeyBytes"/> plus <see cref="CommandCodec.MaxOverheadBytes"/> below the Raft <c>MaxSizePerMsg</c>
    /// (1 MiB by default).
    /// </summary>
    /// <value>Default 524288 (512 KiB). At least 0 (empty values are allowed).</value>
    public int MaxValueBytes { get; set; } = 512 * 1024;

    /// <summary>Longest time to live a Put may ask for. A Put without TTL never expires.</summary>
    /// <value>Default 365 days. Positive, at most <see cref="MaxTtlCeiling"/>.</value>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Capacity bound on the number of entries; exceeding it evicts entries (see the documentation).</summary>
    /// <value>Default 10,000,000. At least 1.</value>
    public int MaxEntries { get; set; } = 10_000_000;

    /// <summary>
    /// Capacity bound in bytes on what the entries cost: the sum over all entries of key length + value length +
    /// <see cref="EntryOverheadBytes"/>. Exceeding it evicts entries (see the documentation).
    /// </summary>
    /// <value>
    /// Default 1 GiB. At least <see cref="MaxKeyBytes"/> + <see cref="MaxValueBytes"/> + <see cref="EntryOverheadBytes"/>,
    /// so any valid entry fits.
    /// </value>
    public long MaxTotalBytes { get; set; } = 1L << 30;

    /// <summary>A client session that has sent no command for this long (in log time) expires.</summary>
    /// <value>Default 1 hour. Positive, whole milliseconds are used.</value>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest number of client sessions; registering one more expires the least recently active.</summary>
    /// <value>Default 10,000. At least 1.</value>
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>
    /// Largest distance between a command's sequence number and the lowest sequence number its client has not seen
    /// answered. Bounds the results a session keeps (Raft thesis §6.3).
    /// </summary>
    /// <value>Default 1024. At least 1.</value>
    public int MaxInFlightPerSession { get; set; } = 1024;

    /// <summary>Checks every setting and throws if any is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A setting is out of range: <see cref="ArgumentException.ParamName"/> names the first, the message lists every
    /// bad setting (see <see cref="GetErrors"/>).
    /// </exception>
    public void Validate()
    {
        var problems = Problems().ToList();
        if (problems.Count == 0) return;
        var first = problems[0];
        throw new ArgumentOutOfRangeException(first.Setting, first.Value, string.Join(" ", problems.Select(p => Describe(p, "CacheStateMachineOptions."))));
    }

    /// <summary>Every setting that is out of range, as one message each; empty when the options are valid.</summary>
    /// <param name="settingPrefix">
    /// Put before each setting's name, for example <c>RaftCache:Cache:</c>, so that a message names the setting the
    /// way its source does (<c>RaftCache:Cache:MaxKeyBytes must be between 1 and 67108864 (is 0).</c>).
    /// </param>
    public IReadOnlyList<string> GetErrors(string settingPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(settingPrefix);
        return [.. Problems().Select(p => Describe(p, settingPrefix))];
    }

    private IEnumerable<(string Setting, object Value, string Rule)> Problems()
    {
        if (MaxKeyBytes < 1 || MaxKeyBytes > MaxItemBytesCeiling)
            yield return (nameof(MaxKeyBytes), MaxKeyBytes, $"must be between 1 and {MaxItemBytesCeiling}");
        if (MaxValueBytes < 0 || MaxValueBytes > MaxItemBytesCeiling)
            yield return (nameof(MaxValueBytes), MaxValueBytes, $"must be between 0 and {MaxItemBytesCeiling}");
        if (MaxTtl < TimeSpan.FromMilliseconds(1) || MaxTtl > MaxTtlCeiling)
            yield return (nameof(MaxTtl), MaxTtl, $"must be between 1 ms and {MaxTtlCeiling.TotalDays} days");
        if (MaxEntries < 1)
            yield return (nameof(MaxEntries), MaxEntries, "must be at least 1");
        if (MaxTotalBytes < (long)MaxKeyBytes + MaxValueBytes + EntryOverheadBytes)
        {
            yield return (nameof(MaxTotalBytes), MaxTotalBytes,
                $"must be at least {nameof(MaxKeyBytes)} + {nameof(MaxValueBytes)} + {nameof(EntryOverheadBytes)} ({(long)MaxKeyBytes + MaxValueBytes + EntryOverheadBytes}) so that any valid entry fits");
        }

        if (SessionIdleTimeout < TimeSpan.FromMilliseconds(1) || SessionIdleTimeout > MaxTtlCeiling)
            yield return (nameof(SessionIdleTimeout), SessionIdleTimeout, $"must be between 1 ms and {MaxTtlCeiling.TotalDays} days");
        if (MaxSessions < 1)
            yield return (nameof(MaxSessions), MaxSessions, "must be at least 1");
        if (MaxInFlightPerSession < 1)
            yield return (nameof(MaxInFlightPerSession), MaxInFlightPerSession, "must be at least 1");
    }

    private static string Describe((string Setting, object Value, string Rule) problem, string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{problem.Setting} {problem.Rule} (is {problem.Value}).");

    internal CacheStateMachineOptions Clone() => (CacheStateMachineOptions)MemberwiseClone();
}

namespace RaftCache.Client;

/// <summary>Settings of <see cref="RaftCacheClient"/>.</summary>
public sealed class RaftCacheClientOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "RaftCacheClient";

    /// <summary>
    /// How long one operation may take, from the call of the method until its answer, including any wait for the
    /// session window: then a write becomes <see cref="CacheOutcomeUnknownException"/> (or
    /// <see cref="CacheOverloadedException"/> if it was never sent) and a read <see cref="CacheUnavailableException"/>.
    /// It bounds an operation stranded on a silo that died (Orleans would otherwise wait its response timeout, 30 s by
    /// default). Default 10 s: the façade's own deadline (5 s) with room to answer.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Writes that may wait for the client session's window (the cluster's <see cref="CacheLimits.MaxInFlightPerSession"/>,
    /// 1,024 by default) before new writes fail at once with <see cref="CacheOverloadedException"/>. Default 100,000.
    /// </summary>
    public int MaxQueuedWrites { get; set; } = 100_000;

    /// <summary>
    /// Batch calls one client may have in flight to the cluster. An operation issued below this limit leaves at once;
    /// above it, operations wait and leave together in the next call. Default 4.
    /// </summary>
    public int MaxCallsInFlight { get; set; } = 4;

    /// <summary>The default for <see cref="AttemptTimeout"/> when <see cref="CallTimeout"/> is at least twice as long.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(2);

    private TimeSpan? _attemptTimeout;

    /// <summary>
    /// How long one attempt of an operation may go unanswered before the client stops waiting on the gateway it went
    /// through (a silo that froze or died answers nothing): the call no longer counts against
    /// <see cref="MaxCallsInFlight"/>, its reads and session writes (which a second delivery cannot apply twice) go
    /// again through another gateway, and the first answer wins; a write outside a session ends as
    /// <see cref="CacheOutcomeUnknownException"/>. Must be positive and shorter than <see cref="CallTimeout"/>.
    /// Default <see cref="DefaultAttemptTimeout"/> (2 s): far above a healthy call, so that resends stay rare, and
    /// several attempts within the default call timeout; half of <see cref="CallTimeout"/> if that is shorter.
    /// </summary>
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout ?? (CallTimeout >= 2 * DefaultAttemptTimeout ? DefaultAttemptTimeout : CallTimeout / 2);
        set => _attemptTimeout = value;
    }

    /// <summary>The most operations one batch call carries. Default 512.</summary>
    public int MaxBatchCommands { get; set; } = 512;

    /// <summary>The most key and value bytes one batch call carries (a single larger operation still goes alone). Default 1 MiB.</summary>
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>Every problem with these settings, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (CallTimeout <= TimeSpan.Zero) errors.Add($"{SectionName}:{nameof(CallTimeout)} must be positive (is {CallTimeout}).");
        if (MaxQueuedWrites < 0) errors.Add($"{SectionName}:{nameof(MaxQueuedWrites)} must not be negative (is {MaxQueuedWrites}).");
        if (AttemptTimeout <= TimeSpan.Zero) errors.Add($"{SectionName}:{nameof(AttemptTimeout)} must be positive (is {AttemptTimeout}).");
        else if (AttemptTimeout >= CallTimeout && CallTimeout > TimeSpan.Zero)
            errors.Add($"{SectionName}:{nameof(AttemptTimeout)} must be shorter than {nameof(CallTimeout)} (is {AttemptTimeout}, {nameof(CallTimeout)} {CallTimeout}), or no operation would get a second attempt.");
        if (MaxCallsInFlight < 1) errors.Add($"{SectionName}:{nameof(MaxCallsInFlight)} must be at least 1 (is {MaxCallsInFlight}).");
        if (MaxBatchCommands < 1) errors.Add($"{SectionName}:{nameof(MaxBatchCommands)} must be at least 1 (is {MaxBatchCommands}).");
        if (MaxBatchBytes < 1) errors.Add($"{SectionName}:{nameof(MaxBatchBytes)} must be at least 1 (is {MaxBatchBytes}).");
        return errors;
    }

    internal RaftCacheClientOptions Clone() => (RaftCacheClientOptions)MemberwiseClone();
}

namespace RaftCache.Linearizability;

/// <summary>What kind of result an <see cref="OperationResult"/> carries.</summary>
public enum OperationResultKind
{
    /// <summary>No result: a Put, a Delete whose cache does not report removal, or a non-Ok outcome.</summary>
    None,

    /// <summary>The result of a Get: the value read, or absent.</summary>
    Read,

    /// <summary>The result of a Delete that reports whether the key existed.</summary>
    Delete,
}

/// <summary>The result a client observed for a completed operation; passed to <see cref="HistoryRecorder.Complete"/>.</summary>
public readonly record struct OperationResult
{
    private OperationResult(OperationResultKind kind, byte[]? value, bool? existed)
    {
        Kind = kind;
        Value = value;
        Existed = existed;
    }

    /// <summary>No result (the default value).</summary>
    public static OperationResult None => default;

    /// <summary>A Get that found the key absent.</summary>
    public static OperationResult Absent => new(OperationResultKind.Read, null, null);

    /// <summary>What kind of result this is.</summary>
    public OperationResultKind Kind { get; }

    /// <summary>For <see cref="OperationResultKind.Read"/>: the value read, or <see langword="null"/> if the key was absent.</summary>
    public byte[]? Value { get; }

    /// <summary>For <see cref="OperationResultKind.Delete"/>: whether the key existed (and so was removed).</summary>
    public bool? Existed { get; }

    /// <summary>A Get that read <paramref name="value"/>; <see langword="null"/> means the key was absent.</summary>
    /// <remarks>The bytes are copied, so the caller may reuse its buffer.</remarks>
    public static OperationResult Read(byte[]? value) => new(OperationResultKind.Read, value?.ToArray(), null);

    /// <summary>A Delete that reported whether the key existed.</summary>
    public static OperationResult Deleted(bool existed) => new(OperationResultKind.Delete, null, existed);
}

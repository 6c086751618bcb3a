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

    /// <summary>The result of a CompareAndSet: whether it set the value.</summary>
    CompareAndSet,

    /// <summary>The result of an Increment: the value after it.</summary>
    Increment,
}

/// <summary>The result a client observed for a completed operation; passed to <see cref="HistoryRecorder.Complete"/>.</summary>
public readonly record struct OperationResult
{
    private OperationResult(OperationResultKind kind, byte[]? value = null, bool? existed = null, bool? succeeded = null, long? number = null)
    {
        Kind = kind;
        Value = value;
        Existed = existed;
        Succeeded = succeeded;
        Number = number;
    }

    /// <summary>No result (the default value).</summary>
    public static OperationResult None => default;

    /// <summary>A Get that found the key absent.</summary>
    public static OperationResult Absent => new(OperationResultKind.Read);

    /// <summary>What kind of result this is.</summary>
    public OperationResultKind Kind { get; }

    /// <summary>For <see cref="OperationResultKind.Read"/>: the value read, or <see langword="null"/> if the key was absent.</summary>
    public byte[]? Value { get; }

    /// <summary>For <see cref="OperationResultKind.Delete"/>: whether the key existed (and so was removed).</summary>
    public bool? Existed { get; }

    /// <summary>For <see cref="OperationResultKind.CompareAndSet"/>: whether the value was set.</summary>
    public bool? Succeeded { get; }

    /// <summary>For <see cref="OperationResultKind.Increment"/>: the value after the increment.</summary>
    public long? Number { get; }

    /// <summary>A Get that read <paramref name="value"/>; <see langword="null"/> means the key was absent.</summary>
    /// <remarks>The bytes are copied, so the caller may reuse its buffer.</remarks>
    public static OperationResult Read(byte[]? value) => new(OperationResultKind.Read, value: value?.ToArray());

    /// <summary>A Delete that reported whether the key existed.</summary>
    public static OperationResult Deleted(bool existed) => new(OperationResultKind.Delete, existed: existed);

    /// <summary>A CompareAndSet that reported whether it set the value.</summary>
    public static OperationResult CompareAndSet(bool succeeded) => new(OperationResultKind.CompareAndSet, succeeded: succeeded);

    /// <summary>An Increment that returned <paramref name="value"/>, the key's value after it.</summary>
    public static OperationResult Incremented(long value) => new(OperationResultKind.Increment, number: value);
}

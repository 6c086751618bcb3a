using System.Globalization;
using System.Text;

namespace RaftCache.Linearizability;

/// <summary>One operation of a recorded <see cref="History"/>: who issued what, when, and what came back.</summary>
/// <remarks>
/// Times are ticks of one monotonic clock shared by all clients of the history. An operation is modelled as taking
/// effect atomically at some instant between <see cref="InvokedAt"/> and <see cref="CompletedAt"/> (Herlihy and Wing's
/// definition of linearizability); for an <see cref="OperationOutcome.Unknown"/> outcome the end of that window is
/// +infinity whatever <see cref="CompletedAt"/> says.
/// </remarks>
public sealed class Operation
{
    /// <summary>Creates an operation, checking that its fields fit together.</summary>
    /// <param name="id">Identifies the operation within its history; used in explanations and files.</param>
    /// <param name="clientId">The logical client that issued it.</param>
    /// <param name="kind">What the operation does.</param>
    /// <param name="key">The key operated on.</param>
    /// <param name="value">The value written by a Put or CompareAndSet; <see langword="null"/> for other kinds.</param>
    /// <param name="invokedAt">Clock ticks when the client issued the operation.</param>
    /// <param name="completedAt">Clock ticks when the client saw the outcome; <see langword="null"/> if it never did.</param>
    /// <param name="outcome">How the operation ended.</param>
    /// <param name="readValue">For an Ok Get, the value read; <see langword="null"/> means absent.</param>
    /// <param name="existed">For an Ok Delete, whether the key existed, if the cache reports it.</param>
    /// <param name="expectedValue">
    /// For a CompareAndSet, the value the key must hold for the write to happen; <see langword="null"/> means the key
    /// must be absent. Always <see langword="null"/> for other kinds.
    /// </param>
    /// <param name="succeeded">For an Ok CompareAndSet (required), whether it set the value.</param>
    /// <param name="number">For an Ok Increment (required), the value it returned.</param>
    /// <exception cref="ArgumentException">The fields contradict each other (see the parameter descriptions).</exception>
    public Operation(
        long id,
        int clientId,
        OperationKind kind,
        string key,
        byte[]? value,
        long invokedAt,
        long? completedAt,
        OperationOutcome outcome,
        byte[]? readValue = null,
        bool? existed = null,
        byte[]? expectedValue = null,
        bool? succeeded = null,
        long? number = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown operation kind.");
        }

        if (!Enum.IsDefined(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Unknown outcome.");
        }

        if ((kind is OperationKind.Put or OperationKind.CompareAndSet) != (value is not null))
        {
            throw new ArgumentException("A Put or CompareAndSet needs a value and only those have one.", nameof(value));
        }

        if (expectedValue is not null && kind != OperationKind.CompareAndSet)
        {
            throw new ArgumentException("Only a CompareAndSet has an expected value.", nameof(expectedValue));
        }

        if (completedAt is long end && end < invokedAt)
        {
            throw new ArgumentException($"Operation {id} completes ({end}) before it is invoked ({invokedAt}).", nameof(completedAt));
        }

        if (outcome == OperationOutcome.Ok && completedAt is null)
        {
            throw new ArgumentException($"Operation {id} is Ok but has no completion time.", nameof(completedAt));
        }

        if (readValue is not null && (kind != OperationKind.Get || outcome != OperationOutcome.Ok))
        {
            throw new ArgumentException("Only an Ok Get has a value read.", nameof(readValue));
        }

        if (existed is not null && (kind != OperationKind.Delete || outcome != OperationOutcome.Ok))
        {
            throw new ArgumentException("Only an Ok Delete reports whether the key existed.", nameof(existed));
        }

        if ((kind == OperationKind.CompareAndSet && outcome == OperationOutcome.Ok) != (succeeded is not null))
        {
            throw new ArgumentException("An Ok CompareAndSet reports whether it succeeded, and only it does.", nameof(succeeded));
        }

        if ((kind == OperationKind.Increment && outcome == OperationOutcome.Ok) != (number is not null))
        {
            throw new ArgumentException("An Ok Increment reports the value it returned, and only it does.", nameof(number));
        }

        Id = id;
        ClientId = clientId;
        Kind = kind;
        Key = key;
        Value = value;
        InvokedAt = invokedAt;
        CompletedAt = completedAt;
        Outcome = outcome;
        ReadValue = readValue;
        Existed = existed;
        ExpectedValue = expectedValue;
        Succeeded = succeeded;
        Number = number;
    }

    /// <summary>Identifies the operation within its history.</summary>
    public long Id { get; }

    /// <summary>The logical client that issued the operation.</summary>
    public int ClientId { get; }

    /// <summary>What the operation does.</summary>
    public OperationKind Kind { get; }

    /// <summary>The key operated on.</summary>
    public string Key { get; }

    /// <summary>The value written by a Put or CompareAndSet; <see langword="null"/> for the other kinds.</summary>
    public byte[]? Value { get; }

    /// <summary>Clock ticks when the client issued the operation.</summary>
    public long InvokedAt { get; }

    /// <summary>
    /// Clock ticks when the client saw the outcome, or <see langword="null"/> if it never did. Ignored by the checker
    /// for an <see cref="OperationOutcome.Unknown"/> outcome, which may take effect at any later time.
    /// </summary>
    public long? CompletedAt { get; }

    /// <summary>How the operation ended.</summary>
    public OperationOutcome Outcome { get; }

    /// <summary>For an Ok Get: the value read, or <see langword="null"/> if the key was absent.</summary>
    public byte[]? ReadValue { get; }

    /// <summary>For an Ok Delete whose cache reports it: whether the key existed. <see langword="null"/> otherwise.</summary>
    public bool? Existed { get; }

    /// <summary>
    /// For a CompareAndSet: the value the key must hold for the write to happen, or <see langword="null"/> if it must be
    /// absent. <see langword="null"/> for the other kinds.
    /// </summary>
    public byte[]? ExpectedValue { get; }

    /// <summary>For an Ok CompareAndSet: whether it set the value. <see langword="null"/> otherwise.</summary>
    public bool? Succeeded { get; }

    /// <summary>For an Ok Increment: the key's value after it, as the cache returned it. <see langword="null"/> otherwise.</summary>
    public long? Number { get; }

    /// <summary>A one-line description, e.g. <c>#12 client 3: Get(k1) -> "v7" [100, 250]</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"#{Id} client {ClientId}: {Kind}({ValueText.Key(Key)}");
        if (Value is not null)
        {
            text.Append(", ").Append(ValueText.Format(Value));
        }

        if (Kind == OperationKind.CompareAndSet)
        {
            text.Append(", expected ").Append(ValueText.Format(ExpectedValue));
        }

        text.Append(')');
        switch (Outcome)
        {
            case OperationOutcome.Ok when Kind == OperationKind.Get:
                text.Append(" -> ").Append(ValueText.Format(ReadValue));
                break;
            case OperationOutcome.Ok when Succeeded is bool succeeded:
                text.Append(succeeded ? " -> set" : " -> not set");
                break;
            case OperationOutcome.Ok when Number is long number:
                text.Append(CultureInfo.InvariantCulture, $" -> {number}");
                break;
            case OperationOutcome.Ok when Existed is bool existed:
                text.Append(existed ? " -> existed" : " -> did not exist");
                break;
            case OperationOutcome.Ok:
                text.Append(" -> ok");
                break;
            case OperationOutcome.Failed:
                text.Append(" -> failed");
                break;
            default:
                text.Append(" -> unknown");
                break;
        }

        text.Append(CultureInfo.InvariantCulture, $" [{InvokedAt}, ");
        text.Append(Outcome == OperationOutcome.Unknown ? "inf)" : string.Create(CultureInfo.InvariantCulture, $"{CompletedAt}]"));
        return text.ToString();
    }
}

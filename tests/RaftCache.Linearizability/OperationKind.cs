namespace RaftCache.Linearizability;

/// <summary>The kind of a cache operation recorded in a <see cref="History"/>.</summary>
public enum OperationKind
{
    /// <summary><c>Put(key, value)</c>: sets the key's value. Values are unique per write.</summary>
    Put,

    /// <summary><c>Delete(key)</c>: removes the key; may report whether something was removed.</summary>
    Delete,

    /// <summary>A linearizable <c>Get(key)</c>: returns the key's value or reports it absent.</summary>
    Get,

    /// <summary>
    /// <c>CompareAndSet(key, value, expected)</c>: sets the key's value only if it currently holds
    /// <see cref="Operation.ExpectedValue"/> (or is absent, when that is <see langword="null"/>), atomically, and reports
    /// whether it did. The value is unique per write, as a Put's.
    /// </summary>
    /// <remarks>
    /// The cache compares versions (the log index of the write that gave the key its value), not values: a client reads
    /// a value with its version and passes the version. Because every write stores a value no other write stores, a
    /// version names exactly one value, so recording the value that went with the version gives the same condition in a
    /// model that knows only values. Put-if-absent (<c>TryAdd</c>) is a compare-and-set expecting absent.
    /// </remarks>
    CompareAndSet,

    /// <summary>
    /// <c>Increment(key)</c>: adds one to the key's value, read as a decimal integer (absent reads as 0), and returns
    /// the new value. A key with increments is a counter: only Increments and Gets may use it, and it is checked with
    /// its own exact algorithm rather than the register search (see <see cref="LinearizabilityChecker"/>).
    /// </summary>
    Increment,
}

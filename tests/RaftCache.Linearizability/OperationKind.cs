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
}

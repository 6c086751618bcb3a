namespace RaftCache.Raft;

/// <summary>Why a storage request failed.</summary>
public enum StorageError
{
    /// <summary>The requested index precedes the first index: it was compacted into a snapshot.</summary>
    Compacted,

    /// <summary>The requested index is past the last index.</summary>
    Unavailable,

    /// <summary>A snapshot is being prepared; ask again later.</summary>
    SnapshotTemporarilyUnavailable,

    /// <summary>The snapshot offered is older than the one already in storage.</summary>
    SnapshotOutOfDate,
}

/// <summary>A storage request that could not be served.</summary>
public sealed class StorageException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public StorageException(StorageError error)
        : base(error switch
        {
            StorageError.Compacted => "The requested index is compacted.",
            StorageError.Unavailable => "The requested index is not yet in the log.",
            StorageError.SnapshotTemporarilyUnavailable => "The snapshot is temporarily unavailable.",
            _ => "The snapshot is older than the one in storage.",
        }) => Error = error;

    /// <summary>What went wrong.</summary>
    public StorageError Error { get; }
}

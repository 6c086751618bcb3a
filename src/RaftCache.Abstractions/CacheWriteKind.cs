namespace RaftCache;

/// <summary>The write commands a client can send.</summary>
public enum CacheWriteKind : byte
{
    /// <summary>Store a value under a key, optionally with a time to live.</summary>
    Put = 0,

    /// <summary>Remove a key.</summary>
    Delete = 1,

    /// <summary>Remove every key.</summary>
    Clear = 2,
}

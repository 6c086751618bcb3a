namespace RaftCache.StateMachine;

/// <summary>The kinds of cache command; the numeric values are part of the wire format.</summary>
public enum CommandKind
{
    /// <summary>Stores a value under a key, optionally with a time to live.</summary>
    Put = 1,

    /// <summary>Removes a key.</summary>
    Delete = 2,

    /// <summary>Removes every entry (sessions are kept).</summary>
    Clear = 3,

    /// <summary>Registers a client session; its id is the log index of this command.</summary>
    RegisterSession = 4,

    /// <summary>Advances log time only, so that entries expire without writes.</summary>
    Tick = 5,

    /// <summary>Adds a signed delta to a key's value read as a decimal 64-bit integer (absent counts as 0).</summary>
    Increment = 6,

    /// <summary>Restarts a key's sliding expiration window, as a read does in IDistributedCache.</summary>
    Refresh = 7,
}

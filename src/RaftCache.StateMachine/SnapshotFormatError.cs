namespace RaftCache.StateMachine;

/// <summary>Why a snapshot was rejected; reason of <see cref="SnapshotFormatException"/>.</summary>
public enum SnapshotFormatError
{
    /// <summary>The snapshot does not start with the RaftCache snapshot magic.</summary>
    BadMagic = 1,

    /// <summary>The format version is not one this build understands.</summary>
    UnsupportedVersion,

    /// <summary>The stream ends before the snapshot does.</summary>
    Truncated,

    /// <summary>The checksum over the snapshot does not match: the bytes were altered.</summary>
    ChecksumMismatch,

    /// <summary>A field holds an impossible value (duplicate key, broken ordering, wrong totals).</summary>
    InvalidContent,

    /// <summary>The snapshot holds more than this replica's options allow; the options differ between replicas.</summary>
    ExceedsLimits,

    /// <summary>Bytes follow the end of the snapshot.</summary>
    TrailingBytes,
}

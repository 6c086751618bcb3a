using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace RaftCache.Raft;

/// <summary>
/// A broken invariant of the Raft core: the log, the progress or the storage contradict what Raft guarantees.
/// The core never catches it; the node must be considered corrupt.
/// </summary>
public sealed class RaftInvariantException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RaftInvariantException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RaftInvariantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RaftInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Throw helpers that keep exception construction out of hot paths.</summary>
internal static class Throw
{
    [DoesNotReturn]
    public static void Invariant(string message) => throw CreateInvariant(message);

    [DoesNotReturn]
    public static T Invariant<T>(string message) => throw CreateInvariant(message);

    [DoesNotReturn]
    public static void Storage(StorageError error) => throw new StorageException(error);

    [DoesNotReturn]
    public static T Storage<T>(StorageError error) => throw new StorageException(error);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RaftInvariantException CreateInvariant(string message) => new(message);
}

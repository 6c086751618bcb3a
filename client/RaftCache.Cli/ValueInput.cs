namespace RaftCache.Cli;

/// <summary>A value read for <c>put</c>, or why it could not be read.</summary>
/// <param name="Value">The bytes read; null on error.</param>
/// <param name="Error">What went wrong, naming the file; null on success.</param>
/// <param name="ExitCode">The exit code for <paramref name="Error"/>.</param>
internal sealed record ValueRead(byte[]? Value, string? Error, int ExitCode);

/// <summary>
/// Reads a <c>put</c> value from a file or standard input, as raw bytes: a command line is limited in length (a 1 MB
/// argument fails with "Argument list too long"), a file or a pipe is not, and neither has to be text.
/// </summary>
internal static class ValueInput
{
    /// <summary>
    /// The most bytes read: the largest value any cluster can be configured to accept (64 MiB, the state machine's
    /// ceiling). Reading stops there, so a huge file or an endless pipe is refused rather than read into memory.
    /// </summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    /// <summary>Reads the file at <paramref name="path"/>, or standard input when it is null.</summary>
    public static async Task<ValueRead> ReadAsync(string? path, CancellationToken cancellationToken)
    {
        var source = path is null ? "standard input" : $"the value file '{path}'";
        try
        {
            await using var stream = path is null ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
            return await ReadAsync(stream, source, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // FileNotFoundException and DirectoryNotFoundException are IOExceptions; their messages name the full path.
            return new ValueRead(null, $"cannot read {source}: {e.Message}", ExitCodes.Usage);
        }
    }

    /// <summary>Reads <paramref name="stream"/> to its end, at most <see cref="MaxBytes"/>.</summary>
    public static async Task<ValueRead> ReadAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return new ValueRead(null,
                    $"{source} holds more than {MaxBytes / (1024 * 1024)} MiB, more than any RaftCache cluster accepts as a value (the default limit is 512 KiB).",
                    ExitCodes.InvalidArgument);
            }

            buffer.Write(chunk, 0, read);
        }

        return new ValueRead(buffer.ToArray(), null, ExitCodes.Ok);
    }
}

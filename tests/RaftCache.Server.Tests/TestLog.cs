using Microsoft.Extensions.Logging;

namespace RaftCache.Server.Tests;

/// <summary>
/// RaftCache's own log lines of every silo, appended to the file named by <c>RAFTCACHE_TEST_LOG</c> when it is set
/// (off otherwise): for reading what the replicas did when a cluster test fails.
/// </summary>
internal sealed class TestLogProvider(string path, string silo) : ILoggerProvider
{
    private static readonly object FileLock = new();

    public static string? Path => Environment.GetEnvironmentVariable("RAFTCACHE_TEST_LOG") is { Length: > 0 } path ? path : null;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {silo} {level} {category}: {message}{(exception is null ? "" : " " + exception)}{Environment.NewLine}";
        lock (FileLock) File.AppendAllText(path, line);
    }

    private sealed class Logger(TestLogProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && category.StartsWith("RaftCache", StringComparison.Ordinal)
            || logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) provider.Write(category, logLevel, formatter(state, exception), exception);
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace RaftCache.Silo;

/// <summary>
/// The console logging of the silo program, without the warnings every Orleans silo start prints that say nothing
/// about this host, so that a healthy start is quiet at the default level (Warning) and a warning means something.
/// </summary>
/// <remarks>
/// Dropped by its exact Orleans event (category and event name), not by category, so that the other warnings of the
/// same category (a genuine runtime stall) still show:
/// <list type="bullet">
/// <item><c>Orleans.Runtime.Watchdog</c> <c>LogWarningParticipantCheckThreadStalled</c> ("Participant check thread has
/// not completed for 00:08:24") when the time it reports is longer than this process has existed: Orleans 10.4's
/// Watchdog.Start starts its platform thread before it sets the component thread's first timestamp, so the first
/// check often measures from timestamp zero, that is the machine's uptime. A real stall of the check thread cannot
/// be longer than the process has run, so it is still reported.</item>
/// </list>
/// </remarks>
internal static class QuietStartLogging
{
    private static readonly DateTime ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>Adds the single-line console logger, wrapped in the filter described above.</summary>
    public static ILoggingBuilder AddQuietConsole(this ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        });
        // AddSimpleConsole registers the provider by type; replace that registration with the wrapped provider.
        var console = logging.Services.Single(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider));
        logging.Services.Remove(console);
        logging.Services.AddSingleton<ILoggerProvider>(services => new FilteringProvider(new ConsoleLoggerProvider(
            services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>(), services.GetServices<ConsoleFormatter>())));
        return logging;
    }

    /// <summary>Whether an event is one of the start-up warnings described on <see cref="QuietStartLogging"/>.</summary>
    internal static bool IsStartupNoise<TState>(string category, EventId eventId, TState state, DateTime now) => category switch
    {
        "Orleans.Runtime.Watchdog" => eventId.Name == "LogWarningParticipantCheckThreadStalled"
            && state is IReadOnlyList<KeyValuePair<string, object?>> values
            && values.FirstOrDefault(v => v.Key == "TimeSinceLastTick").Value is TimeSpan reported
            && reported > now - ProcessStarted,
        _ => false,
    };

    /// <summary>Wraps the console provider; the alias keeps <c>Logging:Console:*</c> settings applying to it.</summary>
    [ProviderAlias("Console")]
    private sealed class FilteringProvider(ConsoleLoggerProvider inner) : ILoggerProvider, ISupportExternalScope
    {
        public ILogger CreateLogger(string categoryName)
        {
            var logger = inner.CreateLogger(categoryName);
            return categoryName == "Orleans.Runtime.Watchdog" ? new FilteringLogger(categoryName, logger) : logger;
        }

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => inner.SetScopeProvider(scopeProvider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class FilteringLogger(string category, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsStartupNoise(category, eventId, state, DateTime.UtcNow)) return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RaftCache.Silo;

/// <summary>
/// The live cluster view: a page (<c>/</c>) that polls <c>/api/status</c> every second, served by Kestrel in the silo
/// process. The status comes from the façade grain through the silo's own grain factory, so it covers every silo.
/// It has no authentication: it listens on the silo's address (loopback by default) unless told otherwise.
/// </summary>
internal sealed class LiveView : IAsyncDisposable
{
    /// <summary>The view's port in the development cluster unless <c>--view-port</c> says otherwise.</summary>
    public const int DevPort = 8080;

    // Polls closer together than this share one status call: each gathers every silo.
    private static readonly TimeSpan Fresh = TimeSpan.FromMilliseconds(500);
    private readonly WebApplication _app;
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ClusterView? _last;

    private LiveView(WebApplication app, IGrainFactory grains, TimeSpan timeout)
    {
        _app = app;
        _grains = grains;
        _timeout = timeout;
    }

    /// <summary>The address the view listens on.</summary>
    public string Url => _app.Urls.First().TrimEnd('/') + "/";

    /// <summary>Starts the view on <paramref name="url"/>; the caller disposes it.</summary>
    /// <exception cref="IOException">The address is in use.</exception>
    public static async Task<LiveView> StartAsync(string url, IGrainFactory grains, IConfiguration configuration, TimeSpan timeout)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.WebHost.UseKestrelCore().UseUrls(url);
        builder.Services.AddRoutingCore();
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddQuietConsole();
        var app = builder.Build();
        var view = new LiveView(app, grains, timeout);
        var page = ReadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/status", view.GetStatusAsync);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return view;
    }

    private async Task<IResult> GetStatusAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            if (_last is null || now - _last.Time >= Fresh)
            {
                var status = await _grains.GetGrain<IRaftCacheGrain>(0).GetStatus().WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
                _last = ClusterView.From(status, now, _last);
            }

            return Results.Json(_last, JsonSerializerOptions.Web);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // A silo still starting, or the cluster unreachable: the page shows why and keeps polling.
            return Results.Json(new { error = e.GetType().Name + ": " + e.Message }, JsonSerializerOptions.Web, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string ReadPage()
    {
        using var stream = typeof(LiveView).Assembly.GetManifestResourceStream("RaftCache.Silo.LiveView.html")
            ?? throw new InvalidOperationException("The live view page is not embedded in the silo program.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _gate.Dispose();
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RaftCache.Client;

namespace Orleans.Hosting;

/// <summary>Registers <see cref="IRaftCacheClient"/>.</summary>
public static class RaftCacheClientServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IRaftCacheClient"/> to an Orleans client (or silo) builder.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="callTimeout">The deadline of each operation (<see cref="RaftCacheClientOptions.CallTimeout"/>); 10 s if null.</param>
    public static IClientBuilder AddRaftCacheClient(this IClientBuilder builder, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRaftCacheClient(callTimeout);
        return builder;
    }

    /// <summary>Adds <see cref="IRaftCacheClient"/> to an Orleans client (or silo) builder, configured by <paramref name="configure"/>.</summary>
    public static IClientBuilder AddRaftCacheClient(this IClientBuilder builder, Action<RaftCacheClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRaftCacheClient(configure);
        return builder;
    }

    /// <summary>
    /// Adds <see cref="IRaftCacheClient"/> (one session per container) to services that provide an
    /// <see cref="IGrainFactory"/>. Options bind from the configuration section <c>RaftCacheClient</c> and are
    /// validated at start-up.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="callTimeout">The deadline of each operation (<see cref="RaftCacheClientOptions.CallTimeout"/>); from configuration, else 10 s, if null.</param>
    public static IServiceCollection AddRaftCacheClient(this IServiceCollection services, TimeSpan? callTimeout = null) =>
        services.AddRaftCacheClient(options =>
        {
            if (callTimeout is { } timeout) options.CallTimeout = timeout;
        });

    /// <summary>Adds <see cref="IRaftCacheClient"/> configured by <paramref name="configure"/> after the configuration section <c>RaftCacheClient</c>.</summary>
    public static IServiceCollection AddRaftCacheClient(this IServiceCollection services, Action<RaftCacheClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RaftCacheClientOptions>().BindConfiguration(RaftCacheClientOptions.SectionName).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RaftCacheClientOptions>, RaftCacheClientOptionsValidator>());
        services.TryAddSingleton<IRaftCacheClient>(sp => new RaftCacheClient(
            sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<IOptions<RaftCacheClientOptions>>().Value));
        return services;
    }
}

/// <summary>Rejects invalid <see cref="RaftCacheClientOptions"/> at start-up with messages that name the setting.</summary>
internal sealed class RaftCacheClientOptionsValidator : IValidateOptions<RaftCacheClientOptions>
{
    public ValidateOptionsResult Validate(string? name, RaftCacheClientOptions options) =>
        options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
}

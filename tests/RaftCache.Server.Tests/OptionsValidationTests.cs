using Microsoft.Extensions.Options;

namespace RaftCache.Server.Tests;

public class OptionsValidationTests
{
    private static ValidateOptionsResult Validate(Action<RaftCacheOptions> change)
    {
        var options = new RaftCacheOptions();
        change(options);
        return new RaftCacheOptionsValidator().Validate(null, options);
    }

    [Fact]
    public void DefaultOptionsAreValid() => Assert.True(Validate(_ => { }).Succeeded);

    [Theory]
    [InlineData(nameof(RaftCacheOptions.TickInterval))]
    [InlineData(nameof(RaftCacheOptions.ElectionTicks))]
    [InlineData(nameof(RaftCacheOptions.Voters))]
    [InlineData(nameof(RaftCacheOptions.MaxPendingProposals))]
    [InlineData(nameof(RaftCacheOptions.SnapshotChunkBytes))]
    [InlineData(nameof(RaftCacheOptions.QuorumLossRecovery))]
    [InlineData(nameof(RaftCacheOptions.QuorumLossRecoveryAfter))]
    [InlineData("MaxValueBytes")]
    public void InvalidSettingsAreRejectedWithTheSettingsName(string setting)
    {
        var result = Validate(options =>
        {
            switch (setting)
            {
                case nameof(RaftCacheOptions.TickInterval): options.TickInterval = TimeSpan.Zero; break;
                case nameof(RaftCacheOptions.ElectionTicks): options.ElectionTicks = options.HeartbeatTicks; break;
                case nameof(RaftCacheOptions.Voters): options.Voters = 0; break;
                case nameof(RaftCacheOptions.MaxPendingProposals): options.MaxPendingProposals = 0; break;
                case nameof(RaftCacheOptions.SnapshotChunkBytes): options.SnapshotChunkBytes = 10; break;
                case nameof(RaftCacheOptions.QuorumLossRecovery): options.QuorumLossRecovery = (QuorumLossRecoveryMode)7; break;
                case nameof(RaftCacheOptions.QuorumLossRecoveryAfter): options.QuorumLossRecoveryAfter = TimeSpan.Zero; break;
                default: options.Cache.MaxValueBytes = 2 * options.MaxSizePerMessage; break;
            }
        });

        Assert.True(result.Failed);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }
}

namespace RaftCache.OpenTelemetry;

/// <summary>
/// The names of RaftCache's activity source and meters: copies of <c>RaftCache.RaftCacheTelemetry</c>'s, which lives
/// with Orleans' contracts; a test keeps the two equal.
/// </summary>
internal static class RaftCacheNames
{
    public const string ActivitySourceName = "RaftCache";
    public const string MeterName = "RaftCache";
    public const string ClientMeterName = "RaftCache.Client";
}
